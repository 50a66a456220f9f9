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
recording every acknowledged write -- once across a 20 s cut of the
client's link (the writer must get an I/O error, the session must log in
again by itself) -- creates a second
volume and writes it during its initial sync, kills hci-0001's QEMU with
SIGKILL in the middle of writing, fails over to hci-0002 as the runbook
says (the second volume, Inconsistent there, stays Secondary and DRBD
itself refuses to promote it), checks every acknowledged write through
hci-0002, boots hci-0001 again, lets both volumes resynchronise, returns the
roles and checks again; then snapshot, volume from snapshot, extend while
attached and delete, checking what each host holds.  Last, hci-0001 is
killed in the middle of a create, boots once without its data disk (the
backend must refuse to start, naming the volume group), then with it, and
the half-created volume is deleted from both hosts.  Exits non-zero at the
first mismatch.  Timings of every step go to
stdout and to drill-timings.txt in the run folder; kernel-side transcripts
(/proc/drbd, drbdadm, lvs, LIO) to transcripts/.
"""

import base64
import json
import os
import shutil
import threading
import time
import uuid

import client
import labctl
import storage

GEN0, GEN1, GEN2, GEN3 = 4, 1, 2, 3
OUT_FIRST, OUT_BLOCKS = 600, 64     # MiB written across the iSCSI outage
OUTAGE = 20                         # seconds the client's link is down
SYNC_BLOCKS = 16                    # MiB written to volume 2 during sync
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
        vol['attached_connectors'] = [client.connector(vm)]
        return info, dev

    def crash_mid_write(self, dev, syncing):
        cl = self.a('client')
        client.start_writer(cl, dev, 0, GEN1_BLOCKS, GEN1, '/root/ack1')
        self.wait_acked('/root/ack1', KILL_AFTER)
        labctl.kill(P1)
        acked = client.acked(cl, '/root/ack1')
        labctl.log('SIGKILL to %s after %d acknowledged MiB', P1, acked)
        if acked >= GEN1_BLOCKS:
            raise labctl.LabError('the writer finished before the crash')
        state = self.drbd(P2, syncing['name'])
        labctl.log('volume 2 on hci-0002 at the crash: %s', state)
        if not state or not state[2].startswith('Inconsistent'):
            raise labctl.LabError('volume 2 was no longer syncing at the '
                                  'crash: %s' % (state,))
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
        self.step('client link down %d s mid-write: EIO, relogin'
                  % OUTAGE, self.iscsi_outage, dev)
        syncing = self.step('create volume 2, write it while it syncs',
                            self.create_syncing)
        acked = self.step('write until SIGKILL of hci-0001',
                          self.crash_mid_write, dev, syncing)
        self.step('client: writer ends after the crash', self.wait_writer,
                  '/root/ack1')
        self.transcript('writer', json.dumps(
            client.writer_result(self.a('client'), '/root/ack1')))
        state = self.step('failover to hci-0002', self.failover, vol)
        labctl.log('hci-0002 after failover: %s', state)
        self.step('volume 2 (resync cut) not promoted; DRBD refuses too',
                  self.stale_refused, syncing)
        self.step('client logout from dead portal', client.logout,
                  self.a('client'), info, False)
        info, dev = self.step('attach via hci-0002', self.attach, P2, vol)
        self.step('verify %d acknowledged MiB via hci-0002' % acked,
                  self.verify, dev, GEN1, '/root/ack1', 'after failover')
        self.step('verify the outage writes via hci-0002', self.verify, dev,
                  GEN0, '/root/ack0', 'outage writes after failover')
        self.step('write 16 MiB via hci-0002', client.write,
                  self.a('client'), dev, GEN2_FIRST, GEN2_BLOCKS, GEN2,
                  '/root/ack2')
        self.step('reboot hci-0001', self.reboot_p1)
        self.step('start harness on hci-0001', self.harness_up, (P1,))
        for name in (res, syncing['name']):
            state = self.drbd(P1, name)
            if not state or not state[0].startswith('Secondary'):
                raise labctl.LabError('hci-0001 came back as %s for %s'
                                      % (state, name))
        self.step('resync hci-0001', self.wait_synced, res)
        self.step('resync volume 2 from hci-0001', self.wait_synced,
                  syncing['name'])
        self.step('runbook 4: thaw hci-0002, hci-0001 standby',
                  self.recover)
        self.step('detach from hci-0002', self.detach, P2, vol, info)
        self.step('runbook 5: roles back to hci-0001', self.failback, vol)
        info, dev = self.step('attach via hci-0001', self.attach, P1, vol)
        self.step('verify after failback', self.verify_both, dev)
        self.step('verify volume 2 on hci-0001, delete it',
                  self.verify_syncing, syncing)
        self.step('snapshot, volume from snapshot, verify',
                  self.snapshot_clone, vol)
        self.step('extend attached volume to 2 GiB', self.extend, vol,
                  info, dev, 2)
        self.step('SIGKILL of hci-0001 during an extend to 3 GiB',
                  self.crash_during_extend, vol, 3)
        self.step('hci-0001 boots without its data disk',
                  self.boot_without_disk)
        self.step('reboot hci-0001 with its disk, start harness',
                  self.reboot_p1, True)
        self.step('ensure_export: primary again, client session back',
                  self.resume_after_restart, vol, info, dev)
        self.step('extend to 3 GiB again', self.extend, vol, info, dev, 3)
        self.step('detach and delete', self.delete, vol, info)
        doomed = self.step('SIGKILL of hci-0001 during a create',
                           self.crash_during_create)
        self.step('reboot hci-0001, start harness', self.reboot_p1, True)
        self.step('interrupted create: delete, nothing left',
                  self.clean_interrupted, doomed)
        return 0

    def wait_writer(self, acklog, timeout=300):
        deadline = time.time() + timeout
        cl = self.a('client')
        while time.time() < deadline:
            result = client.writer_result(cl, acklog)
            if result:
                return result
            time.sleep(1)
        raise labctl.LabError('the writer of %s hangs' % acklog)

    def wait_acked(self, acklog, count, timeout=600):
        deadline = time.time() + timeout
        while client.acked(self.a('client'), acklog) < count:
            if time.time() > deadline:
                raise labctl.LabError('the writer of %s made no progress'
                                      % acklog)
            time.sleep(0.5)

    def reboot_p1(self, harness=False):
        labctl.boot(P1, fresh_disks=False)
        self.agents[P1] = labctl.Agent(P1).connect()
        if harness:
            self.harness_up((P1,))

    # -- faults

    def iscsi_outage(self, dev):
        """The client's link to hci-0001 goes down mid-write, then up.

        The client's iSCSI settings fail I/O 5 s into a lost connection
        (``replacement_timeout``, as a multipath set-up would), so the
        writer must end with an I/O error -- not hang, not lose a write
        silently: nothing is acknowledged while the link is down and every
        acknowledged block reads back.  Once the link is up the session
        logs in again by itself and the blocks the writer did not get
        acknowledged are written again.
        """
        cl = self.a('client')
        client.start_writer(cl, dev, OUT_FIRST, OUT_BLOCKS, GEN0,
                            '/root/ack0')
        self.wait_acked('/root/ack0', OUT_BLOCKS // 8)
        nic = client.nic_with(cl, labctl.CLIENT_IP[P1])
        cl.sh('ip link set %s down' % nic)
        at_cut = client.acked(cl, '/root/ack0')
        time.sleep(OUTAGE)
        at_heal = client.acked(cl, '/root/ack0')
        result = client.writer_result(cl, '/root/ack0')
        cl.sh('ip link set %s up' % nic)
        labctl.log('iSCSI outage: %d acknowledged at the cut, %d after %d s '
                   'down; writer: %s', at_cut, at_heal, OUTAGE, result)
        self.transcript('iscsi-outage', json.dumps(dict(
            result or {}, at_cut=at_cut, at_heal=at_heal)))
        if at_heal > at_cut + 1:
            raise labctl.LabError('%d writes acknowledged with the link '
                                  'down: the session was not cut'
                                  % (at_heal - at_cut))
        if not result or not result.get('error'):
            raise labctl.LabError('the writer did not get an I/O error '
                                  'with the link down %d s: %s'
                                  % (OUTAGE, result))
        if result['written'] != at_heal:
            raise labctl.LabError('writer reports %d written, %d '
                                  'acknowledged' % (result['written'],
                                                    at_heal))
        client.wait_logged_in(cl, dev)
        self.verify(dev, GEN0, '/root/ack0', 'after the iSCSI outage')
        rest = client.write(cl, dev, OUT_FIRST + at_heal,
                            OUT_BLOCKS - at_heal, GEN0, '/root/ack0b')
        if rest.get('error') or rest.get('written') != OUT_BLOCKS - at_heal:
            raise labctl.LabError('writing after the outage failed: %s'
                                  % rest)
        cl.sh('cat /root/ack0b >> /root/ack0')
        result = self.verify(dev, GEN0, '/root/ack0',
                             'the outage region rewritten')
        if result['checked'] != OUT_BLOCKS:
            raise labctl.LabError('outage region: %d of %d blocks '
                                  'acknowledged' % (result['checked'],
                                                    OUT_BLOCKS))

    def create_syncing(self):
        """A second volume, written on hci-0001 during its initial sync."""
        vol = self.create()
        name = vol['name']
        state = self.drbd(P2, name)
        if not state or not state[2].startswith('Inconsistent'):
            raise labctl.LabError('volume 2 is not syncing to hci-0002: %s'
                                  % (state,))
        dev = self.a(P1).sh('drbdadm sh-dev %s' % name)['out'].strip()
        vol['dev'] = dev
        result = client.write(self.a(P1), dev, 0, SYNC_BLOCKS, GEN3,
                              '/root/ack3')
        if result.get('error') or result.get('written') != SYNC_BLOCKS:
            raise labctl.LabError('writing volume 2 on hci-0001 failed: %s'
                                  % result)
        # hci-0001 will be killed: its acknowledgement log stays here.
        vol['acked'] = self.a(P1).sh('cat /root/ack3')['out']
        return vol

    def stale_refused(self, vol):
        """hci-0002's replica of volume 2 is Inconsistent: not promoted.

        The driver's failover left it out; DRBD itself refuses to make an
        Inconsistent disk Primary.
        """
        name = vol['name']
        state = self.drbd(P2, name)
        if (not state or not state[0].startswith('Secondary') or
                not state[2].startswith('Inconsistent')):
            raise labctl.LabError('volume 2 on hci-0002 after failover: %s'
                                  % (state,))
        reply = self.a(P2).sh('drbdadm primary %s' % name, check=False)
        self.transcript('stale-refused', '$ drbdadm primary %s\nrc %s\n%s%s'
                        % (name, reply['rc'], reply['out'], reply['err']))
        if reply['rc'] == 0:
            raise labctl.LabError('DRBD made the Inconsistent volume 2 '
                                  'Primary on hci-0002')
        if 'UpToDate' not in reply['err'] + reply['out']:
            raise labctl.LabError('DRBD refused for another reason: %s'
                                  % reply['err'])
        after = self.drbd(P2, name)
        if not after[0].startswith('Secondary'):
            raise labctl.LabError('volume 2 on hci-0002 became %s' % (after,))
        labctl.log('volume 2 on hci-0002 stays %s; drbdadm primary: %s',
                   after, reply['err'].strip().splitlines()[:1])

    def verify_syncing(self, vol):
        name = vol['name']
        states = {vm: self.drbd(vm, name) for vm in (P1, P2)}
        if not states[P1][0].startswith('Primary'):
            raise labctl.LabError('volume 2 after failback: %s' % states)
        self.a(P1).sh('cat > /root/ack3', stdin=vol['acked'])
        result = client.verify(self.a(P1), vol['dev'], GEN3, '/root/ack3')
        labctl.log('verify volume 2 on hci-0001: %s', result)
        self.transcript('verify', 'volume 2 on hci-0001: %s' % result)
        if result['bad_count'] or result['checked'] != SYNC_BLOCKS:
            raise labctl.LabError('volume 2: acknowledged writes lost or '
                                  'wrong: %s' % result)
        self.call(P1, 'delete_volume', volume=vol)
        self.nothing_left([name])

    def crash_during_create(self):
        """SIGKILL hci-0001 once hci-0002 holds part of a new volume.

        Whatever point the create reached, hci-0002 must not hold it as
        Primary; Cinder marks the volume ``error`` when the service comes
        back and the operator deletes it (clean_interrupted).
        """
        vol = {'id': str(uuid.uuid4()), 'size': 1,
               'host': '%s@RBS#ev3' % P1}
        vol['name'] = 'volume-%s' % vol['id']
        outcome, worker = self.background(P1, 'create_volume', volume=vol)
        deadline = time.time() + 300
        seen = ''
        while not seen and worker.is_alive() and time.time() < deadline:
            seen = self.a(P2).sh(
                'ls /etc/drbd.d/%s.res 2>/dev/null; '
                'lvs --noheadings -o lv_name volumes/%s 2>/dev/null'
                % (vol['name'], vol['name']), check=False)['out'].strip()
            if not seen:
                time.sleep(0.2)
        labctl.kill(P1)
        worker.join(120)
        labctl.log('create of %s cut: hci-0002 held %r; the call: %s',
                   vol['name'], seen, outcome)
        if outcome.get('reply', {}).get('ok'):
            raise labctl.LabError('the create finished before the kill')
        if not seen:
            raise labctl.LabError('hci-0002 never got part of %s'
                                  % vol['name'])
        self.transcript('create-cut', 'hci-0002 held %r when hci-0001 was '
                        'killed' % seen)
        self.holdings(P2)
        state = self.drbd(P2, vol['name'])
        if state and state[0].startswith('Primary'):
            raise labctl.LabError('hci-0002 made the interrupted volume '
                                  'Primary: %s' % (state,))
        return vol

    def boot_without_disk(self):
        """hci-0001 without its data disk: the backend refuses to start."""
        labctl.boot(P1, fresh_disks=False, data_disk=False)
        agent = self.agents[P1] = labctl.Agent(P1).connect()
        vgs = agent.sh('vgs volumes', check=False)
        self.transcript('no-data-disk', '$ vgs volumes\nrc %s\n%s%s' % (
            vgs['rc'], vgs['out'], vgs['err']))
        if vgs['rc'] == 0:
            raise labctl.LabError('hci-0001 has VG volumes without its disk')
        storage.start_harness(agent)
        try:
            storage.wait_harness(agent)
            refusal = None
        except labctl.LabError as exc:
            refusal = str(exc)
        self.transcript('no-data-disk', 'harness: %s' % refusal)
        if refusal is None:
            raise labctl.LabError('the backend started without its data '
                                  'disk')
        if ('option volume_group names volumes, which does not exist'
                not in refusal):
            raise labctl.LabError('the backend failed without naming the '
                                  'missing volume group: %s' % refusal)
        labctl.log('hci-0001 without data disk: the backend refused to '
                   'start, naming VG volumes')
        labctl.kill(P1)

    def clean_interrupted(self, vol):
        """The interrupted volume: never Primary, deleted everywhere."""
        for vm in (P1, P2):
            self.holdings(vm)
            state = self.drbd(vm, vol['name'])
            if state and state[0].startswith('Primary'):
                raise labctl.LabError('%s holds the interrupted volume as '
                                      'Primary: %s' % (vm, state))
        self.call(P1, 'delete_volume', volume=vol)
        self.nothing_left([vol['name']])

    def recover(self):
        self.call(P2, 'thaw_backend')
        self.call(P1, 'failover_host', secondary_id='%s@RBS' % P2)

    def detach(self, vm, vol, info):
        client.logout(self.a('client'), info)
        self.unexport(vm, vol)
        vol['attached_connectors'] = []

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
        self.verify(dev, GEN0, '/root/ack0', 'outage writes after failback')

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
        self.verify(dev, GEN0, '/root/ack0', 'gen0 in volume from snapshot')
        self.detach(P1, clone, info)
        self.call(P1, 'delete_volume', volume=clone)
        self.call(P1, 'delete_snapshot', volume=vol, snapshot=snap)
        self.nothing_left([clone['name'], snap['id']])

    def extend(self, vol, info, dev, size):
        before = client.size(self.a('client'), dev)
        self.call(P1, 'extend_volume', volume=vol, new_size=size)
        vol['size'] = size
        client.rescan(self.a('client'), info)
        after = client.size(self.a('client'), dev)
        labctl.log('client sees %d -> %d bytes', before, after)
        if after != size * 1024 ** 3:
            raise labctl.LabError('client sees %d bytes after extend to '
                                  '%d GiB' % (after, size))
        for vm in (P1, P2):
            self.transcript('extend', '%s LV %d bytes' % (
                vm, self.lv_bytes(vm, vol['name'])))
        self.wait_synced(vol['name'])

    def lv_bytes(self, vm, name):
        out = self.a(vm).sh('blockdev --getsize64 /dev/volumes/%s' % name,
                            check=False)['out'].strip()
        return int(out) if out.isdigit() else 0

    def background(self, vm, name, **kwargs):
        """Start a driver call in a thread: (outcome dict, thread)."""
        outcome = {}

        def run():
            try:
                outcome['reply'] = storage.call(self.a(vm), name, **kwargs)
            except labctl.LabError as exc:
                outcome['error'] = str(exc)

        worker = threading.Thread(target=run)
        worker.start()
        return outcome, worker

    def crash_during_extend(self, vol, size):
        """SIGKILL hci-0001 once hci-0002's LV has grown for an extend.

        The volume stays attached.  hci-0002 must not become Primary; what
        DRBD shows there (old size, or a resync of the new area already
        started) goes to the transcript.
        """
        name = vol['name']
        before = self.lv_bytes(P2, name)
        outcome, worker = self.background(P1, 'extend_volume', volume=vol,
                                          new_size=size)
        deadline = time.time() + 300
        grown = before
        while (grown == before and worker.is_alive() and
               time.time() < deadline):
            time.sleep(0.2)
            grown = self.lv_bytes(P2, name)
        labctl.kill(P1)
        worker.join(120)
        labctl.log('extend of %s cut: hci-0002 LV %d -> %d bytes; the '
                   'call: %s', name, before, grown, outcome)
        if outcome.get('reply', {}).get('ok'):
            raise labctl.LabError('the extend finished before the kill')
        if grown == before:
            raise labctl.LabError("hci-0002's LV of %s never grew" % name)
        state = self.drbd(P2, name)
        self.transcript('extend-cut', 'hci-0002 LV %d -> %d bytes, DRBD %s'
                        % (before, grown, state))
        if not state or not state[0].startswith('Secondary'):
            raise labctl.LabError('hci-0002 holds %s as %s after the kill'
                                  % (name, state))

    def resume_after_restart(self, vol, info, dev):
        """hci-0001 restarted without a failover; Cinder's ensure_export.

        Both replicas came back Secondary (nothing promoted at start-up).
        ensure_export of the in-use volume (what cinder-volume does at
        start-up) must promote it on hci-0001 -- its peer is Connected and
        Secondary -- restore the target with the client's initiator, and
        the client's session must log in again by itself.
        """
        name = vol['name']
        for vm in (P1, P2):
            state = self.drbd(vm, name)
            if not state or not state[0].startswith('Secondary'):
                raise labctl.LabError('%s holds %s as %s after the restart'
                                      % (vm, name, state))
        self.call(P1, 'ensure_export', volume=vol)
        state = self.drbd(P1, name)
        if not state[0].startswith('Primary'):
            raise labctl.LabError('ensure_export left %s %s on hci-0001'
                                  % (name, state))
        try:
            client.wait_logged_in(self.a('client'), dev, timeout=180)
        except labctl.LabError as exc:
            raise labctl.LabError('the client did not log in again to the '
                                  'restored target: %s' % exc)
        self.verify(dev, GEN1, '/root/ack1', 'gen1 after the restart')
        self.verify(dev, GEN2, '/root/ack2', 'gen2 after the restart')
        self.verify(dev, GEN0, '/root/ack0', 'gen0 after the restart')

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
