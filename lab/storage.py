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
"""Storage VM set-up of the lab: cinder.conf and the guest harness."""

import json
import os
import time

import labctl

CONF_TEMPLATE = """\
[DEFAULT]
enabled_backends = RBS
state_path = /var/lib/cinder
rootwrap_config = /etc/cinder/rootwrap.conf
log_file = /var/log/cinder/cinder-volume.log
debug = True

[database]
connection = sqlite:////var/lib/cinder/lab.sqlite

[oslo_concurrency]
lock_path = /var/lib/cinder/lock

[RBS]
target_helper = lioadm
target_protocol = iscsi
target_ip_address = {target_ip}
volume_backend_name = ev3
volume_driver = cinder.volume.drivers.ovt.ev3.ReplicatedVolumeDriver
volume_group = volumes
lvm_type = {lvm_type}
# A deleted volume is zeroed through DRBD (both replicas); under software
# emulation a whole GiB takes about two minutes, so only the first 64 MiB.
volume_clear = zero
volume_clear_size = 64
backend_id = {vm}@RBS
backend_ip = {ip}
backend_port = 7000
replication_internal_secret = {secret}
replication_mode = full-sync
replication_resync_rate = 100
replication_device = backend_id:{peer}@RBS,ip:{peer_ip},port:7000,\
volume_group:volumes
"""


def peer_of(vm):
    return 'hci-0002' if vm == 'hci-0001' else 'hci-0001'


def cinder_conf(vm):
    peer = peer_of(vm)
    return CONF_TEMPLATE.format(
        vm=vm, lvm_type=os.environ.get('EV3_LAB_LVM_TYPE', 'default'),
        ip=labctl.STORAGE_IP[vm], target_ip=labctl.TARGET_IP[vm],
        secret=labctl.SECRET, peer=peer, peer_ip=labctl.STORAGE_IP[peer])


def stop_harness(agent):
    """Stop the harness (the cinder-volume process ends)."""
    agent.sh('test -f /run/ev3/harness.pid && kill $(cat /run/ev3/harness.pid)'
             ' && rm -f /run/ev3/harness.pid /run/ev3/harness.ready',
             check=False)


def start_harness(agent, active_backend_id=''):
    """Write cinder.conf and start the harness as the cinder user."""
    vm = agent.vm
    agent.sh('install -d -o cinder -g cinder /run/ev3 /var/lib/cinder/lock'
             ' && cat > /etc/cinder/cinder.conf && chmod 0644 '
             '/etc/cinder/cinder.conf && rm -f /run/ev3/harness.ready',
             stdin=cinder_conf(vm))
    agent.sh("su -s /bin/sh cinder -c 'EV3_HARNESS_STARTED=$(date +%%s.%%N) "
             "nohup python3 /opt/ev3/bin/harness.py %s@RBS \"%s\" "
             ">> /var/log/cinder/harness.out 2>&1 &'"
             % (vm, active_backend_id or ''))


def wait_harness(agent, timeout=900):
    """Wait until the harness answers; its start-up time in seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        reply = agent.sh('cat /run/ev3/harness.ready 2>/dev/null; '
                         'pgrep -u cinder -f /opt/ev3/bin/harness '
                         '>/dev/null || echo DEAD', check=False)
        out = reply.get('out', '').strip()
        if 'DEAD' in out:
            tail = agent.sh('tail -n 30 /var/log/cinder/harness.out; '
                            'tail -n 30 /var/log/cinder/cinder-volume.log',
                            check=False)
            raise labctl.LabError('%s: the harness died:\n%s' % (
                agent.vm, tail.get('out', '')))
        if out:
            return float(out.split()[0])
        time.sleep(2)
    raise labctl.LabError('%s: the harness did not start within %ss'
                          % (agent.vm, timeout))


def call(agent, name, timeout=900, **kwargs):
    """One driver call through the guest harness; the reply dict."""
    req = dict(kwargs, call=name)
    reply = agent.request({'op': 'harness', 'req': req, 'timeout': timeout},
                          timeout=timeout + 30)
    labctl.log('%s: %s -> %s in %.1f s%s', agent.vm, name,
               'ok' if reply.get('ok') else reply.get('kind'),
               reply.get('t', 0),
               '' if reply.get('ok') else ': ' + reply.get('error', ''))
    return reply


def must(agent, name, timeout=900, **kwargs):
    reply = call(agent, name, timeout=timeout, **kwargs)
    if not reply.get('ok'):
        raise labctl.LabError('%s: %s failed: %s: %s\n%s' % (
            agent.vm, name, reply.get('kind'), reply.get('error'),
            reply.get('trace', '')))
    return reply.get('result')


def drbd_status(agent, resource):
    """``drbdadm status`` style facts of one resource, from /proc/drbd."""
    out = agent.sh('cat /proc/drbd; drbdadm sh-minor %s 2>/dev/null'
                   % resource, check=False).get('out', '')
    return out


def dump(obj):
    return json.dumps(obj, indent=1, sort_keys=True, default=str)
