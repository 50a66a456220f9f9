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
"""The failover drill of the real-kernel lab (tools/lab.sh drill).

Creates a replicated volume on hci-0001 (hci-0002 is the standby), attaches
it from the client over iSCSI, writes a known pattern with O_DIRECT while
recording every acknowledged write, kills hci-0001's QEMU with SIGKILL in
the middle of writing, fails over to hci-0002 as the runbook says, checks
every acknowledged write through hci-0002, boots hci-0001 again, lets it
resynchronise, returns the roles and checks again; then snapshot, volume
from snapshot, extend while attached and delete, checking what each host
holds.  Exits non-zero at the first mismatch.  Timings of every step go to
stdout and to drill-timings.txt in the run folder; kernel-side transcripts
(/proc/drbd, drbdadm, lvs, LIO) to transcripts/.
"""

import base64
import json
import os
import shutil
import time
import uuid

import client
import labctl
import storage

GEN1, GEN2 = 1, 2
GEN1_BLOCKS = 160           # MiB written (at most) before the crash
KILL_AFTER = 24             # acknowledged MiB before SIGKILL
GEN2_FIRST, GEN2_BLOCKS = 400, 16
P1, P2 = 'hci-0001', 'hci-0002'


class Drill(object):

    def __init__(self, reuse=False):
        self.reuse = reuse
        self.timings = []
        self.agents = {}
        self.vol = None
        self.tdir = labctl.path('transcripts')
        if not reuse:
            shutil.rmtree(self.tdir, ignore_errors=True)
        os.makedirs(self.tdir, exist_ok=True)

    # -- bookkeeping

    def step(self, name, func, *args, **kwargs):
        labctl.log('== %s', name)
        started = time.time()
        try:
            result = func(*args, **kwargs)
        except Exception:
            self.timings.append((name + ' (FAILED)', time.time() - started))
            raise
        took = time.time() - started
        self.timings.append((name, took))
        labctl.log('== %s: %.1f s', name, took)
        return result

    def transcript(self, name, text):
        with open(os.path.join(self.tdir, name + '.txt'), 'a') as handle:
            handle.write('### %s\n%s\n' % (time.strftime('%H:%M:%S'), text))

    def a(self, vm):
        return self.agents[vm]

    def call(self, vm, name, **kwargs):
        return storage.must(self.a(vm), name, **kwargs)

    def update(self, vol, model):
        if isinstance(model, dict):
            vol.update({k: v for k, v in model.items() if v is not None})

    # -- kernel facts

    def drbd(self, vm, res):
        out = self.a(vm).sh('drbdadm role %s; drbdadm cstate %s; '
                            'drbdadm dstate %s' % (res, res, res),
                            check=False)
        self.transcript('drbdadm-%s' % vm, '$ drbdadm role/cstate/dstate '
                        '%s\n%s%s' % (res, out['out'], out['err']))
        proc = self.a(vm).sh('cat /proc/drbd', check=False)
        self.transcript('proc-drbd-%s' % vm, proc['out'])
        lines = out['out'].split()
        return tuple(lines) if len(lines) == 3 else None

    def wait_synced(self, res, vms=(P1, P2), timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            states = {vm: self.drbd(vm, res) for vm in vms}
            if all(s and s[1] == 'Connected' and
                   s[2] == 'UpToDate/UpToDate' for s in states.values()):
                return states
            time.sleep(2)
        proc = {vm: self.a(vm).sh('cat /proc/drbd')['out'] for vm in vms}
        raise labctl.LabError('%s not UpToDate on both within %ss: %s %s'
                              % (res, timeout, states, proc))

    def holdings(self, vm):
        out = self.a(vm).sh(
            'echo "# lvs"; lvs --noheadings -o lv_name,lv_size volumes; '
            'echo "# /proc/drbd"; cat /proc/drbd; '
            'echo "# drbdsetup show"; drbdsetup show; '
            'echo "# /etc/drbd.d"; ls /etc/drbd.d; '
            'echo "# LIO iscsi"; ls /sys/kernel/config/target/iscsi; '
            'echo "# LIO backstores"; ls -d /sys/kernel/config/target/core/'
            '*/* 2>/dev/null', check=False)['out']
        self.transcript('holdings-%s' % vm, out)
        return out

    # -- steps

    def boot(self):
        self.agents = labctl.start()

    def harness_up(self, vms, active=None):
        for vm in vms:
            if self.reuse and self.a(vm).sh(
                    'kill -0 $(cat /run/ev3/harness.pid)',
                    check=False)['rc'] == 0:
                continue
            storage.start_harness(self.a(vm), (active or {}).get(vm))
        return {vm: storage.wait_harness(self.a(vm)) for vm in vms}

    def create(self, size=1):
        vol = {'id': str(uuid.uuid4()), 'size': size,
               'host': '%s@RBS#ev3' % P1}
        vol['name'] = 'volume-%s' % vol['id']
        self.update(vol, self.call(P1, 'create_volume', volume=vol))
        return vol

    def export(self, vm, vol):
        conn = client.connector(vm)
        self.update(vol, self.call(vm, 'create_export', volume=vol,
                                   connector=conn))
        info = self.call(vm, 'initialize_connection', volume=vol,
                         connector=conn)
        self.transcript('connection-info', json.dumps(info, indent=1))
        return info

    def unexport(self, vm, vol):
        conn = client.connector(vm)
        self.call(vm, 'terminate_connection', volume=vol, connector=conn)
        self.call(vm, 'remove_export', volume=vol)

    def attach(self, vm, vol):
        info = self.export(vm, vol)
        dev = client.login(self.a('client'), info)
        return info, dev

    def crash_mid_write(self, dev):
        cl = self.a('client')
        client.start_writer(cl, dev, 0, GEN1_BLOCKS, GEN1, '/root/ack1')
        deadline = time.time() + 600
        while client.acked(cl, '/root/ack1') < KILL_AFTER:
            if time.time() > deadline:
                raise labctl.LabError('the writer made no progress')
            time.sleep(0.5)
        labctl.kill(P1)
        acked = client.acked(cl, '/root/ack1')
        labctl.log('SIGKILL to %s after %d acknowledged MiB', P1, acked)
        if acked >= GEN1_BLOCKS:
            raise labctl.LabError('the writer finished before the crash')
        return acked

    def failover(self, vol):
        """Runbook 3 on hci-0002: failover-host default, freeze, move."""
        deadline = time.time() + 120
        while True:
            reply = storage.call(self.a(P2), 'failover_host',
                                 secondary_id='default')
            if reply.get('ok'):
                break
            self.transcript('failover-refusals', reply.get('error', ''))
            if time.time() > deadline:
                raise labctl.LabError('failover refused: %s'
                                      % reply.get('error'))
            time.sleep(2)
        self.call(P2, 'freeze_backend')
        vol['host'] = '%s@RBS#ev3' % P2
        return self.drbd(P2, vol['name'])

    def verify(self, dev, gen, acklog, what):
        result = client.verify(self.a('client'), dev, gen, acklog)
        labctl.log('verify %s: %s', what, result)
        self.transcript('verify', '%s: %s' % (what, result))
        if result['bad_count'] or not result['checked']:
            raise labctl.LabError('%s: acknowledged writes lost or wrong: %s'
                                  % (what, result))
        return result

    def nothing_left(self, names):
        for vm in (P1, P2):
            held = self.holdings(vm)
            for name in names:
                if name in held:
                    raise labctl.LabError('%s still holds %s:\n%s'
                                          % (vm, name, held))
            files = self.a(vm).sh('ls /etc/drbd.d')['out'].split()
            kept = [f for f in files for name in names if name in f]
            if kept:
                raise labctl.LabError('%s keeps resource files %s'
                                      % (vm, kept))

    def run(self):
        self.step('boot 3 VMs', self.boot)
        self.step('start harness (import Cinder) on both',
                  self.harness_up, (P1, P2))
        self.step('runbook 1: hci-0002 standby', self.call, P2,
                  'failover_host', secondary_id='%s@RBS' % P1)
        vol = self.step('create replicated volume 1 GiB', self.create)
        self.vol = vol
        res = vol['name']
        states = self.step('initial full sync', self.wait_synced, res)
        labctl.log('after sync: %s', states)
        info, dev = self.step('attach via hci-0001 (export+login)',
                              self.attach, P1, vol)
        acked = self.step('write until SIGKILL of hci-0001',
                          self.crash_mid_write, dev)
        self.step('client: writer ends after the crash', self.wait_writer)
        self.transcript('writer', json.dumps(
            client.writer_result(self.a('client'), '/root/ack1')))
        state = self.step('failover to hci-0002', self.failover, vol)
        labctl.log('hci-0002 after failover: %s', state)
        self.step('client logout from dead portal', client.logout,
                  self.a('client'), info, False)
        info, dev = self.step('attach via hci-0002', self.attach, P2, vol)
        self.step('verify %d acknowledged MiB via hci-0002' % acked,
                  self.verify, dev, GEN1, '/root/ack1', 'after failover')
        self.step('write 16 MiB via hci-0002', client.write,
                  self.a('client'), dev, GEN2_FIRST, GEN2_BLOCKS, GEN2,
                  '/root/ack2')
        self.step('reboot hci-0001', self.reboot_p1)
        self.step('start harness on hci-0001', self.harness_up, (P1,))
        state = self.drbd(P1, res)
        if not state or not state[0].startswith('Secondary'):
            raise labctl.LabError('hci-0001 came back as %s' % (state,))
        self.step('resync hci-0001', self.wait_synced, res)
        self.step('runbook 4: thaw hci-0002, hci-0001 standby',
                  self.recover)
        self.step('detach from hci-0002', self.detach, P2, vol, info)
        self.step('runbook 5: roles back to hci-0001', self.failback, vol)
        info, dev = self.step('attach via hci-0001', self.attach, P1, vol)
        self.step('verify after failback', self.verify_both, dev)
        self.step('snapshot, volume from snapshot, verify',
                  self.snapshot_clone, vol)
        self.step('extend attached volume to 2 GiB', self.extend, vol,
                  info, dev)
        self.step('detach and delete', self.delete, vol, info)
        return 0

    def wait_writer(self):
        deadline = time.time() + 300
        cl = self.a('client')
        while time.time() < deadline:
            if client.writer_result(cl, '/root/ack1'):
                return
            time.sleep(1)
        raise labctl.LabError('the writer hangs after the crash')

    def reboot_p1(self):
        labctl.boot(P1, fresh_disks=False)
        self.agents[P1] = labctl.Agent(P1).connect()

    def recover(self):
        self.call(P2, 'thaw_backend')
        self.call(P1, 'failover_host', secondary_id='%s@RBS' % P2)

    def detach(self, vm, vol, info):
        client.logout(self.a('client'), info)
        self.unexport(vm, vol)

    def failback(self, vol):
        self.call(P1, 'failover_host', secondary_id='default')
        self.call(P1, 'freeze_backend')
        vol['host'] = '%s@RBS#ev3' % P1
        self.call(P1, 'thaw_backend')
        self.call(P2, 'failover_host', secondary_id='%s@RBS' % P1)
        states = {vm: self.drbd(vm, vol['name']) for vm in (P1, P2)}
        if (not states[P1][0].startswith('Primary') or
                not states[P2][0].startswith('Secondary')):
            raise labctl.LabError('roles after failback: %s' % states)

    def verify_both(self, dev):
        self.verify(dev, GEN1, '/root/ack1', 'gen1 after failback')
        self.verify(dev, GEN2, '/root/ack2', 'gen2 after failback')

    def snapshot_clone(self, vol):
        snap = {'id': str(uuid.uuid4())}
        self.call(P1, 'create_snapshot', volume=vol, snapshot=snap)
        clone = {'id': str(uuid.uuid4()), 'size': vol['size'],
                 'host': '%s@RBS#ev3' % P1}
        clone['name'] = 'volume-%s' % clone['id']
        self.update(clone, self.call(P1, 'create_volume_from_snapshot',
                                     volume=clone, snapshot=snap,
                                     source=vol))
        self.wait_synced(clone['name'])
        info, dev = self.attach(P1, clone)
        self.verify(dev, GEN1, '/root/ack1', 'gen1 in volume from snapshot')
        self.verify(dev, GEN2, '/root/ack2', 'gen2 in volume from snapshot')
        self.detach(P1, clone, info)
        self.call(P1, 'delete_volume', volume=clone)
        self.call(P1, 'delete_snapshot', volume=vol, snapshot=snap)
        self.nothing_left([clone['name'], snap['id']])

    def extend(self, vol, info, dev):
        before = client.size(self.a('client'), dev)
        self.call(P1, 'extend_volume', volume=vol, new_size=2)
        vol['size'] = 2
        client.rescan(self.a('client'), info)
        after = client.size(self.a('client'), dev)
        labctl.log('client sees %d -> %d bytes', before, after)
        if after != 2 * 1024 ** 3:
            raise labctl.LabError('client sees %d bytes after extend to '
                                  '2 GiB' % after)
        for vm in (P1, P2):
            size = self.a(vm).sh('blockdev --getsize64 /dev/volumes/%s'
                                 % vol['name'])['out'].strip()
            self.transcript('extend', '%s LV %s bytes' % (vm, size))
        self.wait_synced(vol['name'])

    def delete(self, vol, info):
        self.detach(P1, vol, info)
        self.call(P1, 'delete_volume', volume=vol)
        self.nothing_left([vol['name']])

    def collect_logs(self):
        """Copy each running storage guest's driver log to the run folder."""
        for vm in (P1, P2):
            agent = self.agents.get(vm)
            if agent is None or labctl.pid_of(vm) is None:
                continue
            try:
                out = agent.sh('gzip -c /var/log/cinder/cinder-volume.log '
                               '| base64 -w0', check=False,
                               timeout=300)['out']
                data = base64.b64decode(out)
            except (labctl.LabError, ValueError) as exc:
                data = b''
                labctl.log('%s: log not collected: %s', vm, exc)
            with open(labctl.path('%s-cinder-volume.log.gz' % vm),
                      'wb') as handle:
                handle.write(data)

    def report(self):
        lines = ['%-48s %8.1f s' % (name, took)
                 for name, took in self.timings]
        total = sum(t for _n, t in self.timings)
        lines.append('%-48s %8.1f s' % ('total', total))
        text = '\n'.join(lines) + '\n'
        with open(labctl.path('drill-timings.txt'), 'w') as handle:
            handle.write(text)
        print(text)


def main(argv):
    fresh = '--reuse' not in argv
    drill = Drill(reuse=not fresh)
    if fresh:
        labctl.stop()
    status = 1
    try:
        status = drill.run()
        labctl.log('DRILL PASSED')
    except labctl.LabError as exc:
        labctl.log('DRILL FAILED: %s', exc)
    finally:
        drill.collect_logs()
        drill.report()
        if '--keep' not in argv:
            labctl.stop()
    return status
