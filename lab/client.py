# Copyright 2026 ev3 developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.
"""The lab client VM: iSCSI attach/detach with iscsiadm, block I/O."""

import json
import re
import time

import labctl

BLOCKIO = 'python3 /opt/ev3/bin/blockio.py'
CONNECTOR_BASE = {'initiator': labctl.CLIENT_IQN, 'host': 'client',
                  'multipath': False, 'platform': 'x86_64',
                  'os_type': 'linux'}


def connector(storage_vm):
    """The connector Cinder gets from the client for ``storage_vm``."""
    return dict(CONNECTOR_BASE, ip=labctl.CLIENT_IP[storage_vm])


def login(agent, info):
    """Log in to the target of ``initialize_connection``'s answer.

    Returns the block device of the session.
    """
    data = info['data']
    iqn = data['target_iqn']
    portal = data['target_portal']
    node = '-m node -T %s -p %s' % (iqn, portal)
    cmds = ['iscsiadm -m discovery -t sendtargets -p %s' % portal]
    if data.get('auth_method'):
        for key, value in (('authmethod', data['auth_method']),
                           ('username', data['auth_username']),
                           ('password', data['auth_password'])):
            cmds.append('iscsiadm %s --op update -n node.session.auth.%s '
                        '-v %s' % (node, key, value))
    cmds.append('iscsiadm %s --login' % node)
    agent.sh(' && '.join(cmds), timeout=120)
    return device_of(agent, iqn, portal)


def device_of(agent, iqn, portal, timeout=60):
    """The disk of the session, once the SCSI scan has attached it."""
    deadline = time.time() + timeout
    while True:
        out = agent.sh('iscsiadm -m session -P 3', timeout=60)['out']
        dev = _disk_in(out, iqn, portal)
        if dev:
            return dev
        if time.time() > deadline:
            raise labctl.LabError('client: no disk for %s via %s in:\n%s'
                                  % (iqn, portal, out))
        time.sleep(1)


def _disk_in(out, iqn, portal):
    current = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith('Target:'):
            current = line.split()[1]
            addr = None
        if line.startswith('Current Portal:'):
            addr = line.split()[2].split(',')[0]
        match = re.match(r'Attached scsi disk (\w+)\s+State: (\w+)', line)
        if match and current == iqn and addr == portal:
            return '/dev/' + match.group(1)
    return None


def wait_logged_in(agent, device, timeout=120):
    """Wait until the session of ``device`` is logged in and it reads."""
    deadline = time.time() + timeout
    disk = device.rsplit('/', 1)[-1]
    while True:
        out = agent.sh('iscsiadm -m session -P 3', check=False)['out']
        state = None
        for line in out.splitlines():
            line = line.strip()
            if line.startswith('iSCSI Session State:'):
                state = line.split(':', 1)[1].strip()
            if re.match(r'Attached scsi disk %s\s' % disk, line):
                break
        else:
            state = None
        if state == 'LOGGED_IN' and agent.sh(
                'dd if=%s of=/dev/null bs=4096 count=1 iflag=direct'
                % device, check=False)['rc'] == 0:
            return
        if time.time() > deadline:
            raise labctl.LabError('client: session of %s not back within '
                                  '%ss:\n%s' % (device, timeout, out))
        time.sleep(1)


def logout(agent, info, check=True):
    data = info['data']
    return agent.sh('iscsiadm -m node -T %s -p %s --logout; '
                    'iscsiadm -m node -T %s -p %s -o delete'
                    % (data['target_iqn'], data['target_portal'],
                       data['target_iqn'], data['target_portal']),
                    check=check, timeout=120)


def rescan(agent, info):
    data = info['data']
    agent.sh('iscsiadm -m node -T %s -p %s --rescan'
             % (data['target_iqn'], data['target_portal']), timeout=60)


def nic_with(agent, address):
    """The name of the guest's network interface holding ``address``."""
    out = agent.sh('ip -o -4 addr show')['out']
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3].split('/')[0] == address:
            return fields[1]
    raise labctl.LabError('%s: no interface holds %s:\n%s'
                          % (agent.vm, address, out))


def size(agent, device):
    return int(agent.sh('blockdev --getsize64 %s' % device)['out'].strip())


def start_writer(agent, device, first, count, gen, acklog):
    agent.sh('rm -f %s; nohup %s write %s %d %d %d %s > %s.out 2>&1 &'
             % (acklog, BLOCKIO, device, first, count, gen, acklog, acklog))


def acked(agent, acklog):
    out = agent.sh('cat %s 2>/dev/null | wc -l' % acklog)['out']
    return int(out.strip() or 0)


def writer_result(agent, acklog):
    out = agent.sh('cat %s.out 2>/dev/null' % acklog, check=False)['out']
    lines = [x for x in out.splitlines() if x.startswith('{')]
    return json.loads(lines[-1]) if lines else None


def write(agent, device, first, count, gen, acklog):
    agent.sh('rm -f %s' % acklog)
    reply = agent.sh('%s write %s %d %d %d %s' % (
        BLOCKIO, device, first, count, gen, acklog), timeout=900)
    return json.loads(reply['out'].strip().splitlines()[-1])


def verify(agent, device, gen, acklog):
    reply = agent.sh('%s verify %s %d %s' % (BLOCKIO, device, gen, acklog),
                     check=False, timeout=900)
    lines = [x for x in reply['out'].splitlines() if x.startswith('{')]
    if not lines:
        raise labctl.LabError('client: verify failed to run: %s'
                              % reply.get('err'))
    return json.loads(lines[-1])
