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
"""The operator runbook with faults injected, on simulated hosts.

Each test breaks one step of SPEC.md "The operator runbook" -- a DRBD
command that fails, a cinder-volume that dies between two steps, a network
partition, a host that crashes before the command runs, a wrong
``--backend_id`` -- and asserts, for every host, the DRBD roles, the iSCSI
exports and the data, and what Cinder is told (the value returned by
``failover_host`` or the type of exception it raises).
"""

import logging
import uuid

import ddt
import fixtures

from cinder import exception as cinder_exception
from cinder import objects
from cinder.objects import fields
from cinder.tests.unit.volume.drivers.ovt import harness
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.tests.unit.volume.drivers.ovt import test_runbook
from cinder.volume.drivers.ovt import exception

CONNECTOR = test_lifecycle.CONNECTOR
PATTERN = test_runbook.PATTERN
LATER = b'written after the failover'
TWO = {'hosts': 2, 'drbd_version': '8.4.11'}
THREE = {'hosts': 3, 'drbd_version': '9.2.12'}
PROMOTE = ['drbdadm', 'primary']
NO_UPTODATE = ('0: State change failed: (-2) Need access to UpToDate data\n'
               "Command 'drbdsetup-84 primary 0' terminated with exit code "
               '17\n')


class ServiceDied(Exception):
    """cinder-volume ends in the middle of a command (kill -9, OOM)."""


@ddt.ddt
class RunbookFaultsTestCase(test_lifecycle.LabTestCase):
    """Faults at every step of the runbook; every host checked after."""

    def setUp(self):
        super(RunbookFaultsTestCase, self).setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume.drivers.ovt', level=logging.INFO))

    # -- runbook steps

    def _standbys(self):
        """Runbook 1: every other host becomes the standby of hci-0001."""
        for node in self.lab.nodes[1:]:
            result = node.driver.failover_host(
                self.lab.ctx, [], secondary_id='hci-0001@RBS')
            self.assertEqual(('hci-0001@RBS', [], []), result)
        return self.lab.node(1).driver

    def _volume(self, attached=True, db=False):
        """Runbook 2: a replicated volume holding acknowledged writes."""
        volume = self.attached_volume_with(PATTERN, db=db)
        if not attached:
            self.primary.terminate_connection(volume, CONNECTOR)
            self.primary.remove_export(self.lab.ctx, volume)
        return volume

    def _restart_service(self, index, active_backend_id=None, **extra):
        """cinder-volume of one host stops and starts again (host stays)."""
        node = self.lab.node(index)
        node.stop()
        peers = [p for p in self.lab.nodes if p is not node]
        return node.start(peers, active_backend_id=active_backend_id,
                          **extra)

    # -- what every host holds

    def assert_hosts(self, volume, primary, exported=None, down=()):
        """Roles and exports of ``volume`` on every host.

        ``primary``: index of the one Primary, None for none; ``exported``:
        index of the host exporting it, None for none; ``down``: indexes of
        crashed hosts, which hold no kernel state at all.
        """
        iqn = 'iqn.2010-10.org.openstack:%s' % volume.name
        primaries = []
        for i, node in enumerate(self.lab.nodes):
            held = node.holdings()
            if i in down:
                self.assertEqual({}, held['drbd'], node.name)
                self.assertEqual({}, held['targets'], node.name)
                continue
            role = node.roles()[volume.name]
            if role == 'Primary':
                primaries.append(i)
            want = 'Primary' if i == primary else 'Secondary'
            self.assertEqual(want, role, node.name)
            if i == exported:
                self.assertEqual([iqn], list(held['targets']), node.name)
                self.assertEqual('/dev/drbd%d' % held['drbd'][
                    volume.name]['minor'], held['targets'][iqn]['path'])
            else:
                self.assertEqual({}, held['targets'], node.name)
        self.assertLessEqual(len(primaries), 1, primaries)

    def assert_data(self, volume, *chunks, **kwargs):
        """Each host's LV of ``volume`` holds PATTERN and ``chunks``.

        ``chunks``: (offset, bytes); ``nodes``: the hosts (default all).
        """
        lv = '/dev/volumes/%s' % volume.name
        for node in kwargs.get('nodes') or self.lab.nodes:
            held = node.holdings()['drbd'][volume.name]
            self.assertEqual('UpToDate', held['disk'], node.name)
            for offset, data in ((0, PATTERN),) + chunks:
                self.assertEqual(data, node.sim.read(lv, offset, len(data)),
                                 node.name)

    def failover(self, index, secondary_id, volumes=()):
        return self.lab.node(index).driver.failover_host(
            self.lab.ctx, list(volumes), secondary_id=secondary_id)

    # 1. The target fails during a planned switchover

    @ddt.data(TWO, THREE)
    def test_promote_fails_on_target_then_rerun_completes(self, topology):
        self.start_lab(**topology)
        volume = self._volume(attached=False)
        self.lab.cluster.fail_next('hci-0002', PROMOTE, NO_UPTODATE, 17)
        err = self.assertRaises(exception.Ev3Error, self.failover, 0,
                                'hci-0002@RBS', [volume])
        # Not InvalidReplicationTarget: Cinder must mark failover-error,
        # since hci-0001 did demote.
        self.assertNotIsInstance(err,
                                 cinder_exception.InvalidReplicationTarget)
        self.assertIn(volume.name, str(err))
        self.assertIn('again', str(err))
        self.assert_hosts(volume, primary=None)
        # Retry: the demote is already done, only the promote remains.
        self.assertEqual(('hci-0002@RBS', [], []),
                         self.failover(0, 'hci-0002@RBS', [volume]))
        self.assert_hosts(volume, primary=1)
        self.assert_data(volume)

    def test_target_crashes_mid_switchover_then_returns(self):
        """The peer dies between hci-0001's demote and its own promote."""
        self.start_lab()
        volume = self._volume(attached=False)
        client = self.primary.roles.peers['hci-0002@RBS']
        promote_many = client.promote_many

        def crash_then_promote(names, force=False):
            self.lab.node(1).crash()
            return promote_many(names, force=force)

        with fixtures.MonkeyPatch(
                'cinder.volume.drivers.ovt.peer_api.PeerClient.promote_many',
                lambda _self, names, force=False: crash_then_promote(
                    names, force)):
            self.assertRaises(exception.Ev3Error, self.failover, 0,
                              'hci-0002@RBS', [volume])
        self.assert_hosts(volume, primary=None, down=(1,))
        # While the target is down the rerun is refused, changing nothing.
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                self.failover, 0, 'hci-0002@RBS', [volume])
        self.assertIn('hci-0002@RBS', str(err))
        self.assertEqual(before, self.lab.holdings())
        # It boots (nothing promoted at start-up); the rerun completes.
        self.lab.node(1).restart()
        self.assert_hosts(volume, primary=None)
        self.assertEqual(('hci-0002@RBS', [], []),
                         self.failover(0, 'hci-0002@RBS', [volume]))
        self.assert_hosts(volume, primary=1)
        self.assert_data(volume)

    # 2. cinder-volume dies between two steps

    @ddt.data(TWO, THREE)
    def test_service_dies_after_demote_then_rerun(self, topology):
        self.start_lab(**topology)
        volume = self._volume(attached=False)

        def die(_self, names, force=False):
            raise ServiceDied('cinder-volume on hci-0001 was killed')

        with fixtures.MonkeyPatch(
                'cinder.volume.drivers.ovt.peer_api.PeerClient.promote_many',
                die):
            self.assertRaises(ServiceDied, self.failover, 0, 'hci-0002@RBS',
                              [volume])
        self.assert_hosts(volume, primary=None)
        # The service starts again as Cinder left it (the failover never
        # returned, so active_backend_id is unchanged); nothing is promoted.
        self._restart_service(0)
        self.assert_hosts(volume, primary=None)
        self.assertEqual(('hci-0002@RBS', [], []),
                         self.failover(0, 'hci-0002@RBS', [volume]))
        # The same end state as the uninterrupted run; a third run is a
        # no-op.
        self.assert_hosts(volume, primary=1)
        self.assert_data(volume)
        before = self.lab.holdings()
        self.assertEqual(('hci-0002@RBS', [], []),
                         self.failover(0, 'hci-0002@RBS', [volume]))
        self.assertEqual(before, self.lab.holdings())

    # 3. Network partition with both hosts alive

    def test_api_down_drbd_up_refuses_default(self):
        self.start_lab()
        standby = self._standbys()
        volume = self._volume()
        self.lab.node(0).stop()
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                standby.failover_host, self.lab.ctx, [],
                                secondary_id='default')
        self.assertIn(volume.name, str(err))
        self.assertIn('partition', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=0, exported=0)

    def test_full_partition_two_primaries_detected_on_heal(self):
        """Documents the partition the planner cannot tell from a crash.

        With the API and the DRBD link both cut, hci-0001 looks dead to
        hci-0002: failover-host default promotes there while hci-0001 is
        still Primary and exported.  Both sides take writes.  When the
        network heals DRBD must refuse to reconnect (after-sb disconnect:
        StandAlone on both), the driver must report the volume as an
        error in its stats, and no further failover may pick a side.
        """
        self.start_lab()
        standby = self._standbys()
        volume = self._volume(db=True)
        self.lab.cluster.partition('hci-0001', 'hci-0002')
        self.lab.node(0).stop()
        self.assertEqual(('default', [], []),
                         standby.failover_host(self.lab.ctx, [],
                                               secondary_id='default'))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        self.assertEqual(1, len(self.lab.node(0).holdings()['targets']))
        self.assertEqual({}, self.lab.node(1).holdings()['targets'])
        lv = '/dev/volumes/%s' % volume.name
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 8192, b'old side')
        self.lab.node(1).sim.write(device, 8192, b'new side')

        self.lab.cluster.heal('hci-0001', 'hci-0002')
        for node, mine in ((self.lab.node(0), b'old side'),
                           (self.lab.node(1), b'new side')):
            held = node.holdings()['drbd'][volume.name]
            self.assertEqual('Primary', held['role'], node.name)
            [peer] = held['peers'].values()
            self.assertEqual('StandAlone', peer['connection'], node.name)
            self.assertEqual(mine, node.sim.read(lv, 8192, 8), node.name)
        self.assertTrue(any('Split-Brain' in line for line in
                            self.lab.node(0).sim.kernel_log()))
        # The driver says so: Cinder is asked for the volume's status.
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual('error', stats.get('replication_status'))
        _groups, updates = self.primary.get_replication_error_status(
            self.lab.ctx, [])
        self.assertEqual([{'volume_id': volume.id,
                           'replication_status': 'error'}], updates)
        self.assertIn(volume.name, self.log.output)
        self.assertIn('split brain', self.log.output.lower())

        # With the API back, no failover picks a side by itself.
        self._restart_service(0)
        before = self.lab.holdings()
        for index, target in ((1, 'hci-0001@RBS'), (0, 'hci-0002@RBS')):
            err = self.assertRaises(
                cinder_exception.InvalidReplicationTarget, self.failover,
                index, target)
            self.assertIn('split brain', str(err))
            self.assertEqual(before, self.lab.holdings())

    def test_three_hosts_partition_third_host_is_witness(self):
        """DRBD 9: hci-0003 still sees hci-0001 Primary, so no disaster."""
        self.start_lab(**THREE)
        standby = self._standbys()
        volume = self._volume()
        self.lab.cluster.partition('hci-0001', 'hci-0002')
        self.lab.node(0).stop()
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                standby.failover_host, self.lab.ctx, [],
                                secondary_id='default')
        self.assertIn(volume.name, str(err))
        self.assertIn('hci-0001@RBS', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=0, exported=0)

    # 4. The standby crashes before failover-host default runs

    @ddt.data(TWO, THREE)
    def test_standby_crash_never_promotes_at_boot(self, topology):
        self.start_lab(**topology)
        standby = self._standbys()
        volume = self._volume()
        self.lab.node(0).crash()
        self.lab.node(1).crash()
        standby = self.lab.node(1).restart(active_backend_id='hci-0001@RBS')
        # Back as Secondary, not exported, however long it waits.
        self.lab.cluster.finish_syncs()
        self.assert_hosts(volume, primary=None, down=(0,))
        self.assertEqual(('default', [], []),
                         standby.failover_host(self.lab.ctx, [],
                                               secondary_id='default'))
        self.assert_hosts(volume, primary=1, down=(0,))
        device = standby.local_path(volume)
        self.assertEqual(PATTERN, self.lab.node(1).sim.read(
            device, 0, len(PATTERN)))
        self.lab.node(1).sim.write(device, 8192, LATER)
        self.lab.cluster.finish_syncs()
        self.assert_data(volume, (8192, LATER), nodes=self.lab.nodes[1:])

    # 5. Bad input: each refused with a clear error, nothing changed

    @ddt.data(TWO, THREE)
    def test_wrong_backend_ids_change_nothing(self, topology):
        self.start_lab(**topology)
        standby = self._standbys()
        volume = self._volume()
        before = self.lab.holdings()
        cases = ((0, 'hci-0009@RBS', 'hci-0009@RBS'),
                 (0, 'hci-0001@RBS', 'hci-0001@RBS'),
                 (0, 'default', 'already the primary'),
                 (1, 'hci-0002@RBS', 'hci-0002@RBS'))
        for index, secondary_id, said in cases:
            err = self.assertRaises(
                cinder_exception.InvalidReplicationTarget, self.failover,
                index, secondary_id, [volume] if index == 0 else [])
            self.assertIn(said, str(err))
            self.assertEqual(before, self.lab.holdings(), secondary_id)
        self.assert_hosts(volume, primary=0, exported=0)
        # The standby still knows what it is: default still works after.
        self.assertFalse(standby._is_primary_role())

    def test_failover_while_another_runs_is_refused(self):
        self.start_lab()
        standby = self._standbys()
        volume = self._volume(attached=False)
        before = self.lab.holdings()
        for driver, secondary_id in ((self.primary, 'hci-0002@RBS'),
                                     (standby, 'default')):
            self.assertTrue(driver._failover_lock.acquire(False))
            try:
                err = self.assertRaises(
                    cinder_exception.InvalidReplicationTarget,
                    driver.failover_host, self.lab.ctx, [],
                    secondary_id=secondary_id)
            finally:
                driver._failover_lock.release()
            self.assertIn('another failover', str(err))
            self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=0)

    def test_peer_with_other_secret_is_refused(self):
        self.start_lab(secrets=[harness.SECRET, harness.SECRET[::-1]])
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                self.failover, 0, 'hci-0002@RBS')
        self.assertIn('hci-0002@RBS', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assertIn('replication_internal_secret', self.log.output)

    def test_secret_changed_on_standby_changes_nothing(self):
        """Volumes exist, then hci-0002 restarts with another secret."""
        self.start_lab()
        standby = self._standbys()
        volume = self._volume()
        other = self._restart_service(1, active_backend_id='hci-0001@RBS',
                                      replication_internal_secret='x' * 32)
        self.assertIsNot(standby, other)
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                self.failover, 0, 'hci-0002@RBS', [volume])
        self.assertIn('hci-0002@RBS', str(err))
        # The standby cannot reach hci-0001's API, but DRBD still shows
        # hci-0001 Primary: no disaster is declared.
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                other.failover_host, self.lab.ctx, [],
                                secondary_id='default')
        self.assertIn(volume.name, str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=0, exported=0)
        self.assertIn('replication_internal_secret', self.log.output)

    def test_thaw_of_unfrozen_host_changes_nothing(self):
        """Idempotent, not an error: Cinder would keep the host disabled."""
        self.start_lab()
        standby = self._standbys()
        volume = self._volume()
        before = self.lab.holdings()
        for driver in (self.primary, standby):
            self.assertTrue(driver.thaw_backend(self.lab.ctx))
        self.assertEqual(before, self.lab.holdings())
        self.assertIn('not frozen', self.log.output)
        self.primary.extend_volume(volume, 2)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 2)

    # 6. Returning roles while the old primary still resynchronises

    def _disaster_and_return(self):
        """hci-0001 dies, hci-0002 takes over, hci-0001 resyncs (slowly)."""
        self.start_lab(replication_resync_rate=1)
        standby = self._standbys()
        volume = self._volume()
        self.lab.node(0).crash()
        self.assertEqual(('default', [], []),
                         standby.failover_host(self.lab.ctx, [],
                                               secondary_id='default'))
        device = standby.local_path(volume)
        self.lab.node(1).sim.write(device, 8192, LATER)
        # 64 MiB written while hci-0001 is away: a 64 s resync at 1 MiB/s.
        self.lab.node(1).sim.execute(
            'dd', 'if=/dev/zero', 'of=%s' % device, 'bs=1M', 'seek=1',
            'count=64', 'oflag=direct', run_as_root=True)
        old = self.lab.node(0).restart()
        held = self.lab.node(0).holdings()['drbd'][volume.name]
        self.assertEqual('Inconsistent', held['disk'])
        return old, standby, volume

    def test_return_during_resync_moves_no_role(self):
        old, _standby, volume = self._disaster_and_return()
        try:
            result = old.failover_host(self.lab.ctx, [],
                                       secondary_id='hci-0002@RBS')
        except cinder_exception.InvalidReplicationTarget as err:
            self.assertIn(volume.name, str(err))
        else:
            self.assertEqual(('hci-0002@RBS', [], []), result)
        self.assert_hosts(volume, primary=1)
        self.assertEqual('Inconsistent', self.lab.node(0).holdings()[
            'drbd'][volume.name]['disk'])
        self.lab.cluster.finish_syncs()
        self.assertEqual(('hci-0002@RBS', [], []),
                         old.failover_host(self.lab.ctx, [],
                                           secondary_id='hci-0002@RBS'))
        self.assert_hosts(volume, primary=1)
        self.assert_data(volume, (8192, LATER))

    def test_return_during_resync_is_refused(self):
        """Issue 4 item 6: refused while a replica is not UpToDate."""
        old, _standby, volume = self._disaster_and_return()
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                old.failover_host, self.lab.ctx, [],
                                secondary_id='hci-0002@RBS')
        self.assertIn(volume.name, str(err))
        self.assertEqual(before['hci-0001']['drbd'][volume.name]['role'],
                         self.lab.node(0).roles()[volume.name])
        self.assert_hosts(volume, primary=1)

    def test_missing_volume_group_stops_the_backend_by_name(self):
        """A host whose VG is gone (its disk not attached) says so."""
        self.start_lab(**TWO)
        volume = self._volume()
        before = self.lab.holdings()
        err = self.assertRaises(exception.ConfigError,
                                self._restart_service, 0,
                                volume_group='missing-vg')
        self.assertIn('option volume_group names missing-vg, which does not '
                      'exist on this host', str(err))
        self.assertIn('is its disk attached?', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=0, exported=0)

    # 7. Three hosts: disaster of the primary

    def _disaster(self, topology):
        """Runbook 3: hci-0001 dies, hci-0002 takes its volumes."""
        self.start_lab(**topology)
        standby = self._standbys()
        volume = self._volume()
        self.lab.node(0).crash()
        self.assertEqual(('default', [], []),
                         standby.failover_host(self.lab.ctx, [],
                                               secondary_id='default'))
        return standby, volume

    def _three_hosts_disaster(self):
        standby, volume = self._disaster(THREE)
        self.assert_hosts(volume, primary=1, down=(0,))
        volume.host = 'hci-0002@RBS#ev3'
        volume.update(standby.create_export(self.lab.ctx, volume,
                                            CONNECTOR))
        standby.initialize_connection(volume, CONNECTOR)
        self.lab.node(1).sim.write(standby.local_path(volume), 8192, LATER)
        return volume

    def test_three_hosts_disaster_promotes_one_standby_only(self):
        volume = self._three_hosts_disaster()
        self.assert_hosts(volume, primary=1, exported=1, down=(0,))
        # hci-0003 is still a standby: its own default is refused (the
        # volume is Primary and in use on reachable hci-0002).
        before = self.lab.holdings()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                self.failover, 2, 'default')
        self.assertIn(volume.name, str(err))
        self.assertEqual(before, self.lab.holdings())
        self.lab.cluster.finish_syncs()
        self.assert_data(volume, (8192, LATER), nodes=self.lab.nodes[1:])

    def test_three_hosts_old_primary_returns_and_resyncs(self):
        volume = self._three_hosts_disaster()
        self.lab.node(0).restart()
        self.assert_hosts(volume, primary=1, exported=1)
        self.lab.cluster.finish_syncs()
        self.assert_hosts(volume, primary=1, exported=1)
        self.assert_data(volume, (8192, LATER))

    # 8. The primary host restarts without a failover

    def _primary_restarts(self, topology, **extra):
        """hci-0001 dies and boots again; nobody failed over meanwhile."""
        self.start_lab(**topology)
        self._standbys()
        volume = self._volume()
        self.lab.node(0).crash()
        primary = self.lab.node(0).restart(**extra)
        self.lab.cluster.finish_syncs()
        # Nothing is promoted at start-up: Secondary everywhere.
        self.assert_hosts(volume, primary=None)
        return primary, volume

    @ddt.data(TWO, THREE)
    def test_restarted_primary_resumes_its_role_on_export(self, topology):
        primary, volume = self._primary_restarts(topology)
        # A standby asked for an export still refuses, changing nothing.
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error,
                                self.lab.node(1).driver.create_export,
                                self.lab.ctx, volume, CONNECTOR)
        self.assertIn('fail over to this host first', str(err))
        self.assertEqual(before, self.lab.holdings())
        # The volume's own host: every peer Connected and Secondary.
        volume.update(primary.create_export(self.lab.ctx, volume,
                                            CONNECTOR))
        primary.initialize_connection(volume, CONNECTOR)
        self.assert_hosts(volume, primary=0, exported=0)
        primary.terminate_connection(volume, CONNECTOR)
        self.assertIn('promoting it for export', self.log.output)
        self.assertIn(volume.id, self.log.output)
        self.lab.node(0).sim.write(primary.local_path(volume), 8192, LATER)
        self.lab.cluster.finish_syncs()
        self.assert_data(volume, (8192, LATER))

    def test_restarted_primary_restores_in_use_exports(self):
        """cinder-volume's start-up ensure_export of an in-use volume.

        The target comes back with the attached host's initiator allowed
        (its iSCSI session can log in again by itself), not the initiator
        of an attachment that ended.
        """
        primary, volume = self._primary_restarts(TWO)
        gone = dict(CONNECTOR, initiator='iqn.1993-08.org.debian:01:gone')
        volume.volume_attachment = objects.VolumeAttachmentList(objects=[
            objects.VolumeAttachment(
                context=self.lab.ctx, id=str(uuid.uuid4()),
                volume_id=volume.id, connector=connector,
                attach_status=status)
            for connector, status in (
                (CONNECTOR, fields.VolumeAttachStatus.ATTACHED),
                (gone, fields.VolumeAttachStatus.DETACHED))])
        self.assertIsNone(primary.ensure_export(self.lab.ctx, volume))
        self.assert_hosts(volume, primary=0, exported=0)
        target = self.lab.node(0).holdings()['targets'][
            'iqn.2010-10.org.openstack:%s' % volume.name]
        self.assertEqual([CONNECTOR['initiator']], target['initiators'])
        self.assertIn('initiator %s allowed again' % CONNECTOR['initiator'],
                      self.log.output)
        self.assert_data(volume)

    def test_restarted_primary_with_its_peer_down_changes_nothing(self):
        self.start_lab(**TWO)
        self._standbys()
        volume = self._volume()
        self.lab.node(0).crash()
        self.lab.node(1).crash()
        primary = self.lab.node(0).restart(ev3_connect_timeout=1)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error, primary.create_export,
                                self.lab.ctx, volume, CONNECTOR)
        self.assertIn(volume.id, str(err))
        self.assertIn('cannot tell that no other host is Primary', str(err))
        self.assertIn('cinder failover-host', str(err))
        # The start-up export of an in-use volume is not restored either.
        self.assertIsNone(primary.ensure_export(self.lab.ctx, volume))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=None, down=(1,))

    def test_restarted_primary_never_promotes_over_a_primary_peer(self):
        """hci-0002 took over; hci-0001 restarts still thinking it owns it."""
        _standby, volume = self._disaster(TWO)
        primary = self.lab.node(0).restart()
        self.lab.cluster.finish_syncs()
        self.assert_hosts(volume, primary=1)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error, primary.create_export,
                                self.lab.ctx, volume, CONNECTOR)
        self.assertIn('Primary', str(err))
        self.assertIsNone(primary.ensure_export(self.lab.ctx, volume))
        self.assertEqual(before, self.lab.holdings())
        self.assert_hosts(volume, primary=1)
