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
"""Lifecycle of replicated volumes on two and three simulated hosts.

Every test drives real drivers with their real peer APIs on 127.0.0.1 and
asserts what each host's LVM, DRBD and LIO hold afterwards.
"""

import threading
import time

import ddt
import fixtures
from oslo_concurrency import processutils

from cinder import exception as cinder_exception
from cinder.image import image_utils
from cinder import objects
from cinder.tests.unit import fake_snapshot
from cinder.tests.unit import test
from cinder.tests.unit.volume.drivers.ovt import harness
from cinder.volume.drivers.ovt import exception
from cinder.volume import volume_utils

GiB = harness.GiB
CONNECTOR = {'initiator': 'iqn.1993-08.org.debian:01:client',
             'ip': '127.0.0.9', 'host': 'client', 'multipath': False}

TOPOLOGIES = (
    {'hosts': 2, 'drbd_version': '8.4.11'},
    {'hosts': 3, 'drbd_version': '9.2.12'},
)
# What retype returns when it changes replication in place.
ENABLED = (True, {'replication_status': 'enabled'})


class LabTestCase(test.TestCase):
    """Starts a lab of simulated hosts and stops it afterwards."""

    hosts = 2
    drbd_version = '8.4.11'
    lvm_type = 'default'

    def start_lab(self, hosts=None, drbd_version=None, lvm_type=None,
                  secrets=None, vg_size_gib=100, **extra):
        state = self.useFixture(fixtures.TempDir()).path
        self.lab = harness.Lab(hosts=hosts or self.hosts,
                               drbd_version=drbd_version or self.drbd_version,
                               lvm_type=lvm_type or self.lvm_type,
                               vg_size_gib=vg_size_gib, state_dir=state)
        self.useFixture(harness.sim.BrickRouting(self.lab.cluster))
        self.addCleanup(self.lab.stop)
        self.lab.start(secrets=secrets, **extra)
        self.primary = self.lab.node(0).driver
        return self.lab

    def attached_volume_with(self, data, db=False):
        """A synced replicated volume, exported, holding ``data`` at 0."""
        volume = self.lab.db_volume() if db else self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        volume.update(self.primary.create_export(self.lab.ctx, volume,
                                                 CONNECTOR))
        self.primary.initialize_connection(volume, CONNECTOR)
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0, data)
        return volume

    def assert_nothing_of(self, volume, nodes=None):
        """No host holds any trace of ``volume``."""
        for node in nodes or self.lab.nodes:
            held = node.holdings()
            self.assertNotIn(volume.name, held['lvs'], node.name)
            self.assertNotIn(volume.name, held['drbd'], node.name)
            self.assertNotIn(volume.name, held['files'], node.name)
            for iqn, target in held['targets'].items():
                self.assertNotIn(volume.name, iqn, node.name)

    def assert_replicated(self, volume, size_gib, synced=True):
        """Every host holds an LV and the DRBD resource of ``volume``."""
        roles = []
        for node in self.lab.nodes:
            held = node.holdings()
            self.assertIn(volume.name, held['lvs'], node.name)
            self.assertGreaterEqual(held['lvs'][volume.name]['size_bytes'],
                                    size_gib * GiB)
            self.assertIn(volume.name, held['files'], node.name)
            res = held['drbd'][volume.name]
            self.assertEqual(size_gib * GiB, res['size_bytes'], node.name)
            if synced:
                self.assertEqual('UpToDate', res['disk'], node.name)
            roles.append(res['role'])
        self.assertEqual(['Primary'] + ['Secondary'] * (len(roles) - 1),
                         roles)


@ddt.ddt
class CreateDeleteTestCase(LabTestCase):

    @ddt.data(*TOPOLOGIES)
    def test_create_thick_syncs_then_delete_everywhere(self, topology):
        self.start_lab(**topology)
        volume = self.lab.volume(size=1)
        update = self.primary.create_volume(volume)
        self.assertEqual({'replication_status': 'enabled'}, update)
        # Thick LVs hold old data: the peers are sync targets at first.
        held = self.lab.node(1).holdings()['drbd'][volume.name]
        self.assertIn(held['disk'], ('Inconsistent', 'UpToDate'))
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        minors = {n.holdings()['drbd'][volume.name]['minor']
                  for n in self.lab.nodes}
        self.assertEqual(1, len(minors))
        self.primary.delete_volume(volume)
        self.assert_nothing_of(volume)
        # Idempotent: a second delete finds nothing and succeeds.
        self.primary.delete_volume(volume)
        self.assert_nothing_of(volume)

    @ddt.data(*TOPOLOGIES)
    def test_create_thin_skips_initial_sync(self, topology):
        self.start_lab(lvm_type='thin', **topology)
        volume = self.lab.volume(size=2)
        self.primary.create_volume(volume)
        # No finish_syncs(): thin replicas read zeros, so no sync is needed.
        self.assert_replicated(volume, 2, synced=True)
        data = self.lab.node(0).sim.read('/dev/drbd%d' % self._minor(volume),
                                         0, 4096)
        self.assertEqual(b'\0' * 4096, data)

    def test_thick_replicas_hold_identical_data_after_sync(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        device = '/dev/drbd%d' % self._minor(volume)
        self.lab.node(0).sim.write(device, 8192, b'ev3' * 100)
        primary_lv = self.lab.node(0).sim.read(
            '/dev/volumes/%s' % volume.name, 0, 16384)
        peer_lv = self.lab.node(1).sim.read(
            '/dev/volumes/%s' % volume.name, 0, 16384)
        self.assertEqual(primary_lv, peer_lv)
        self.assertEqual(b'ev3' * 100, primary_lv[8192:8492])

    def _minor(self, volume):
        return self.lab.node(0).holdings()['drbd'][volume.name]['minor']

    def test_non_replicated_type_is_plain_lvm(self):
        self.start_lab()
        volume = self.lab.volume(size=1, replicated=False)
        self.assertIsNone(self.primary.create_volume(volume))
        held = self.lab.node(0).holdings()
        self.assertIn(volume.name, held['lvs'])
        self.assertEqual(1 * GiB, held['lvs'][volume.name]['size_bytes'])
        self.assertNotIn(volume.name, held['drbd'])
        self.assertEqual([], held['files'])
        self.assert_nothing_of(volume, nodes=self.lab.nodes[1:])
        self.assertEqual('/dev/mapper/volumes-%s'
                         % volume.name.replace('-', '--'),
                         self.primary.local_path(volume))
        self.primary.delete_volume(volume)
        self.assert_nothing_of(volume)

    def test_peer_down_at_create_fails_clearly_and_leaves_nothing(self):
        self.start_lab()
        peer = self.lab.node(1)
        peer.stop()
        self.lab.cluster.crash(peer.name)
        volume = self.lab.volume()
        err = self.assertRaises(cinder_exception.VolumeBackendAPIException,
                                self.primary.create_volume, volume)
        self.assertIn(peer.backend_id, str(err))
        self.assert_nothing_of(volume, nodes=[self.lab.node(0)])

    @ddt.data(('drbdadm', '--', '--force', 'create-md'),
              ('drbdadm', 'up'),
              ('env', 'LC_ALL=C', 'lvcreate'))
    def test_peer_failing_part_way_rolls_back_everywhere(self, prefix):
        self.start_lab()
        self.lab.cluster.fail_next(self.lab.node(1).name, list(prefix),
                                   'simulated failure', 1)
        volume = self.lab.volume()
        err = self.assertRaises(cinder_exception.VolumeBackendAPIException,
                                self.primary.create_volume, volume)
        self.assertIn(self.lab.node(1).backend_id, str(err))
        self.assert_nothing_of(volume)

    def test_local_failure_rolls_back_everywhere(self):
        self.start_lab(hosts=3, drbd_version='9.2.12')
        self.lab.cluster.fail_next(self.lab.node(0).name,
                                   ['drbdadm', 'primary'], 'no', 11)
        volume = self.lab.volume()
        self.assertRaises(exception.DrbdCommandError,
                          self.primary.create_volume, volume)
        self.assert_nothing_of(volume)

    def test_wrong_secret_is_named(self):
        self.start_lab(secrets=[harness.SECRET, 'another-secret-0123456789'])
        volume = self.lab.volume()
        err = self.assertRaises(exception.PeerAuthError,
                                self.primary.create_volume, volume)
        self.assertIn('replication_internal_secret', str(err))
        self.assertIn(self.lab.node(1).backend_id, str(err))
        self.assert_nothing_of(volume)

    def test_concurrent_creates_get_distinct_minors_and_ports(self):
        self.start_lab()
        volumes = [self.lab.volume() for _ in range(12)]
        errors = []

        def create(vol):
            try:
                self.primary.create_volume(vol)
            except Exception as err:  # noqa: collected and asserted below
                errors.append(err)

        threads = [threading.Thread(target=create, args=(v,))
                   for v in volumes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        for node in self.lab.nodes:
            drbd = node.holdings()['drbd']
            minors = [drbd[v.name]['minor'] for v in volumes]
            self.assertEqual(len(volumes), len(set(minors)), node.name)
        ports = set()
        for vol in volumes:
            spec = self.primary.agent.resource(vol.name)
            ports.add(spec.nodes[0].port)
        self.assertEqual(len(volumes), len(ports))

    def test_delete_with_peer_down_is_retried_later(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        peer = self.lab.node(1)
        peer.stop()
        self.lab.cluster.crash(peer.name)
        self.primary.delete_volume(volume)
        self.assert_nothing_of(volume, nodes=[self.lab.node(0)])
        self.assertIn(volume.name, peer.holdings()['lvs'])
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual(1, stats['pools'][0]['ev3_pending_removals'])
        self.assertEqual([peer.backend_id],
                         stats['pools'][0]['ev3_unreachable_peers'])
        # The peer comes back; the next stats refresh removes the leftover.
        self.lab.cluster.boot(peer.name)
        peer.start([self.lab.node(0)])
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual(0, stats['pools'][0]['ev3_pending_removals'])
        self.assert_nothing_of(volume)

    def test_delete_thick_clears_through_drbd(self):
        self.start_lab()
        self.override_config('volume_clear', 'zero',
                             group=self.lab.node(0).group)
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 0, b'secret' * 512)
        lv = '/dev/volumes/%s' % volume.name
        seen = []
        real_remove = self.lab.node(1).driver.agent.remove_replica

        def remove_and_look(name):
            seen.append(self.lab.node(1).sim.read(lv, 0, 3072))
            return real_remove(name)

        self.lab.node(1).driver.agent.remove_replica = remove_and_look
        self.primary.delete_volume(volume)
        self.assertEqual([b'\0' * 3072], seen)
        self.assert_nothing_of(volume)


@ddt.ddt
class ExportExtendTestCase(LabTestCase):

    @ddt.data(*TOPOLOGIES)
    def test_attach_detach_exports_the_primary_drbd_device(self, topology):
        self.start_lab(**topology)
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        device = self.primary.local_path(volume)
        self.assertTrue(device.startswith('/dev/drbd'))
        update = self.primary.create_export(self.lab.ctx, volume, CONNECTOR)
        volume.update(update)
        targets = self.lab.node(0).holdings()['targets']
        iqn = 'iqn.2010-10.org.openstack:%s' % volume.name
        self.assertEqual(device, targets[iqn]['path'])
        for node in self.lab.nodes[1:]:
            self.assertEqual({}, node.holdings()['targets'])
        info = self.primary.initialize_connection(volume, CONNECTOR)
        self.assertEqual('iscsi', info['driver_volume_type'])
        self.assertEqual(iqn, info['data']['target_iqn'])
        self.assertIn('127.0.0.2:3260', info['data']['target_portals'])
        self.assertIn(CONNECTOR['initiator'],
                      self.lab.node(0).holdings()['targets'][iqn]
                      ['initiators'])
        self.primary.terminate_connection(volume, CONNECTOR)
        self.primary.remove_export(self.lab.ctx, volume)
        self.assertEqual({}, self.lab.node(0).holdings()['targets'])

    def test_export_refused_where_secondary(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        standby = self.lab.node(1).driver
        err = self.assertRaises(exception.Ev3Error, standby.create_export,
                                self.lab.ctx, volume, CONNECTOR)
        self.assertIn('Secondary', str(err))
        self.assertIn(volume.id, str(err))
        self.assertEqual({}, self.lab.node(1).holdings()['targets'])

    def test_ensure_export_restores_a_lost_target(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        volume.update(self.primary.create_export(self.lab.ctx, volume,
                                                 CONNECTOR))
        iqn = 'iqn.2010-10.org.openstack:%s' % volume.name
        self.lab.node(0).sim.execute('cinder-rtstool', 'delete', iqn,
                                     run_as_root=True)
        self.assertEqual({}, self.lab.node(0).holdings()['targets'])
        self.primary.ensure_export(self.lab.ctx, volume)
        self.assertEqual(self.primary.local_path(volume),
                         self.lab.node(0).holdings()['targets'][iqn]['path'])

    @ddt.data(*TOPOLOGIES)
    def test_extend_grows_every_replica_and_the_device(self, topology):
        self.start_lab(**topology)
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 4096, b'keep')
        self.primary.extend_volume(volume, 3)
        volume.size = 3
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 3)
        self.assertEqual(b'keep', self.lab.node(0).sim.read(device, 4096, 4))

    def test_extend_failing_on_peer_keeps_old_size(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.cluster.fail_next(self.lab.node(1).name,
                                   ['env', 'LC_ALL=C', 'lvextend'],
                                   'Insufficient free space', 5)
        self.assertRaises(cinder_exception.VolumeBackendAPIException,
                          self.primary.extend_volume, volume, 2)
        self.assert_replicated(volume, 1)
        # Retrying the extend completes it.
        self.primary.extend_volume(volume, 2)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 2)

    def test_stats_report_replication(self):
        self.start_lab(hosts=3, drbd_version='9.2.12')
        stats = self.primary.get_volume_stats(refresh=True)
        pool = stats['pools'][0]
        for where in (stats, pool):
            self.assertTrue(where['replication_enabled'])
            self.assertEqual(['hci-0002@RBS', 'hci-0003@RBS'],
                             where['replication_targets'])
            self.assertEqual(2, where['replication_count'])
            self.assertEqual(['sync'], where['replication_type'])
        self.assertTrue(pool['location_info'].startswith('ev3:hci-0001@RBS:'))
        self.assertFalse(pool['location_info'].startswith('LVMVolumeDriver'))
        self.assertEqual([], pool['ev3_unreachable_peers'])
        before = pool['free_capacity_gb']
        # Filling a peer's VG lowers what this backend can offer.
        self.lab.node(2).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'filler', 'volumes',
            '-L', '60g', run_as_root=True)
        pool = self.primary.get_volume_stats(refresh=True)['pools'][0]
        self.assertLess(pool['free_capacity_gb'], before - 50)


class ScaleTestCase(LabTestCase):

    def test_hundreds_of_volumes_per_host(self):
        self.start_lab(lvm_type='thin', vg_size_gib=4000)
        volumes = [self.lab.volume() for _ in range(200)]
        for volume in volumes:
            self.primary.create_volume(volume)
        for node in self.lab.nodes:
            drbd = node.holdings()['drbd']
            self.assertEqual(sorted(v.name for v in volumes), sorted(drbd))
            self.assertEqual(200, len({r['minor'] for r in drbd.values()}))
            self.assertEqual({'UpToDate'},
                             {r['disk'] for r in drbd.values()})
        ports = {self.primary.agent.resource(v.name).nodes[0].port
                 for v in volumes}
        self.assertEqual(200, len(ports))
        self.assertGreaterEqual(min(ports), 7001)
        # Removing one frees its minor and port for the next volume.
        freed = self.primary.agent.resource(volumes[0].name).nodes[0]
        self.primary.delete_volume(volumes[0])
        again = self.lab.volume()
        self.primary.create_volume(again)
        reused = self.primary.agent.resource(again.name).nodes[0]
        self.assertEqual((freed.minor, freed.port),
                         (reused.minor, reused.port))


class NotYetReplicatedTestCase(LabTestCase):
    """What is refused rather than done halfway, and plain volumes."""

    def test_retype_of_attached_volume_refused(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        volume.status = 'in-use'
        before = self.lab.holdings()
        plain = {'extra_specs': {'volume_backend_name': 'ev3'}}
        self.assertFalse(self.primary.retype(self.lab.ctx, volume, plain,
                                             {}, 'hci-0001@RBS#ev3'))
        self.assertEqual(before, self.lab.holdings())

    def test_plain_volume_snapshot_still_works(self):
        self.start_lab()
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        lvs = self.lab.node(0).holdings()['lvs']
        self.assertEqual(volume.name, lvs['_' + snapshot.name]['origin'])


def mock_snapshot(lab, volume):
    snapshot = fake_snapshot.fake_snapshot_obj(
        lab.ctx, volume_id=volume.id, volume_size=volume.size)
    snapshot.volume = volume
    return snapshot


class SlowPeerTestCase(LabTestCase):

    def test_slow_peer_times_out_and_its_late_replica_is_removed(self):
        self.start_lab(ev3_api_timeout=1)
        peer_agent = self.lab.node(1).driver.agent
        real_ensure = peer_agent.ensure_replica

        def slow_ensure(name, spec):
            time.sleep(1.5)
            return real_ensure(name, spec)

        peer_agent.ensure_replica = slow_ensure
        volume = self.lab.volume()
        err = self.assertRaises(cinder_exception.VolumeBackendAPIException,
                                self.primary.create_volume, volume)
        self.assertIn('hci-0002@RBS', str(err))
        self.assert_nothing_of(volume, nodes=[self.lab.node(0)])
        time.sleep(2)   # the peer finishes its late create meanwhile
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual(0, stats['pools'][0]['ev3_pending_removals'])
        self.assert_nothing_of(volume)


@ddt.ddt
class SnapshotTestCase(LabTestCase):

    def _volume_with(self, data, **topology):
        self.start_lab(**topology)
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0, data)
        return volume

    def _snap_lvs(self, snapshot):
        lv = '_' + snapshot.name
        return {node.name: node.holdings()['lvs'].get(lv)
                for node in self.lab.nodes}

    @ddt.data(*TOPOLOGIES)
    def test_snapshot_is_taken_on_every_replica(self, topology):
        volume = self._volume_with(b'before', **topology)
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0,
                                   b'after!')
        lv = '/dev/volumes/_%s' % snapshot.name
        for node in self.lab.nodes:
            held = node.holdings()['lvs']['_' + snapshot.name]
            self.assertEqual(volume.name, held['origin'], node.name)
            self.assertEqual(b'before', node.sim.read(lv, 0, 6), node.name)
        # I/O flows again after the snapshot.
        self.assertEqual(b'after!', self.lab.node(1).sim.read(
            '/dev/volumes/%s' % volume.name, 0, 6))
        self.primary.delete_snapshot(snapshot)
        self.assertEqual({n.name: None for n in self.lab.nodes},
                         self._snap_lvs(snapshot))
        self.primary.delete_snapshot(snapshot)   # idempotent

    def test_snapshot_refused_while_a_peer_is_down(self):
        volume = self._volume_with(b'data')
        self.lab.node(1).crash()
        snapshot = mock_snapshot(self.lab, volume)
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.create_snapshot, snapshot)
        self.assertIn('not every replica', str(err))
        self.assertIsNone(self._snap_lvs(snapshot)['hci-0001'])
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0, b'ok')

    def test_peer_failing_its_snapshot_leaves_none(self):
        volume = self._volume_with(b'data')

        def no_space(name, snapshot):
            # Cinder's brick LVM retries a failed lvcreate --snapshot
            # itself, so the peer fails the whole verb here.
            raise processutils.ProcessExecutionError(
                exit_code=5, stderr='Insufficient free space',
                cmd='lvcreate --snapshot')

        self.lab.node(1).driver.agent.snapshot_replica = no_space
        snapshot = mock_snapshot(self.lab, volume)
        self.assertRaises(cinder_exception.VolumeBackendAPIException,
                          self.primary.create_snapshot, snapshot)
        self.assertEqual({n.name: None for n in self.lab.nodes},
                         self._snap_lvs(snapshot))
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0, b'ok')

    def test_snapshot_delete_with_peer_down_is_retried(self):
        volume = self._volume_with(b'data')
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(1).crash()
        self.primary.delete_snapshot(snapshot)
        self.assertIsNone(self._snap_lvs(snapshot)['hci-0001'])
        self.assertIsNotNone(self._snap_lvs(snapshot)['hci-0002'])
        self.lab.node(1).restart()
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual(0, stats['pools'][0]['ev3_pending_removals'])
        self.assertEqual({n.name: None for n in self.lab.nodes},
                         self._snap_lvs(snapshot))

    @ddt.data('default', 'thin')
    def test_revert_reaches_every_replica(self, lvm_type):
        volume = self._volume_with(b'before', lvm_type=lvm_type)
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 0, b'after!')
        self.primary.revert_to_snapshot(self.lab.ctx, volume, snapshot)
        for node in self.lab.nodes:
            self.assertEqual(b'before', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 6), node.name)
        # The snapshot is still there for the next revert.
        self.assertIsNotNone(self._snap_lvs(snapshot)['hci-0002'])

    def test_revert_with_peer_away_resyncs_it(self):
        volume = self._volume_with(b'before')
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0,
                                   b'after!')
        self.lab.node(1).crash()
        self.primary.revert_to_snapshot(self.lab.ctx, volume, snapshot)
        self.lab.node(1).restart()
        self.lab.cluster.finish_syncs()
        self.assertEqual(b'before', self.lab.node(1).sim.read(
            '/dev/volumes/%s' % volume.name, 0, 6))

    def test_snapshot_survives_failover(self):
        volume = self._volume_with(b'kept')
        snapshot = mock_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        standby = self.lab.node(1).driver
        standby.failover_host(self.lab.ctx, [], secondary_id='hci-0001@RBS')
        self.lab.node(0).crash()
        standby.failover_host(self.lab.ctx, [], secondary_id='default')
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        self.assertEqual(b'kept', self.lab.node(1).sim.read(
            '/dev/volumes/_%s' % snapshot.name, 0, 4))


@ddt.ddt
class SeededVolumeTestCase(LabTestCase):
    """Volumes from snapshots and clones: each host copies its own LV."""

    def _source(self, data, **topology):
        self.start_lab(**topology)
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.node(0).sim.write(self.primary.local_path(volume), 4096,
                                   data)
        return volume

    def assert_no_snapshot_lv(self):
        """No host keeps a (temporary) snapshot LV."""
        for node in self.lab.nodes:
            self.assertEqual([], [lv for lv in node.holdings()['lvs']
                                  if lv.startswith('_snapshot-')],
                             node.name)

    def _assert_holds(self, volume, size_gib, data):
        # No sync was needed: every replica is UpToDate without
        # finish_syncs, holds the data and has exactly the asked size.
        self.assert_replicated(volume, size_gib, synced=True)
        for node in self.lab.nodes:
            self.assertEqual(data, node.sim.read(
                '/dev/volumes/%s' % volume.name, 4096, len(data)), node.name)

    @ddt.data(dict(TOPOLOGIES[0], lvm_type='default'),
              dict(TOPOLOGIES[1], lvm_type='default'),
              dict(TOPOLOGIES[0], lvm_type='thin'))
    def test_volume_from_snapshot(self, topology):
        source = self._source(b'snapshot data', **topology)
        snapshot = mock_snapshot(self.lab, source)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(source), 4096,
                                   b'later write!!')
        volume = self.lab.volume(size=1)
        update = self.primary.create_volume_from_snapshot(volume, snapshot)
        self.assertEqual({'replication_status': 'enabled'}, update)
        self._assert_holds(volume, 1, b'snapshot data')

    def test_larger_volume_from_snapshot_syncs_the_new_area(self):
        source = self._source(b'snapshot data')
        snapshot = mock_snapshot(self.lab, source)
        self.primary.create_snapshot(snapshot)
        volume = self.lab.volume(size=2)
        self.primary.create_volume_from_snapshot(volume, snapshot)
        self.lab.cluster.finish_syncs()
        self._assert_holds(volume, 2, b'snapshot data')

    @ddt.data(*TOPOLOGIES)
    def test_clone(self, topology):
        source = self._source(b'clone me', **topology)
        clone = self.lab.volume(size=1)
        self.primary.create_cloned_volume(clone, source)
        self._assert_holds(clone, 1, b'clone me')
        self.assert_no_snapshot_lv()

    def test_clone_failing_on_a_peer_leaves_nothing(self):
        source = self._source(b'clone me')
        self.lab.cluster.fail_next('hci-0002', ['dd'], 'I/O error', 1)
        clone = self.lab.volume(size=1)
        self.assertRaises(cinder_exception.VolumeBackendAPIException,
                          self.primary.create_cloned_volume, clone, source)
        self.assert_nothing_of(clone)
        self.assert_no_snapshot_lv()

    def test_clone_larger_than_free_space_leaves_nothing(self):
        source = self._source(b'clone me')
        clone = self.lab.volume(size=500)   # the VGs hold 100 GiB
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.create_cloned_volume, clone,
                                source)
        self.assertIn('free', str(err))
        self.assert_nothing_of(clone)
        self.assert_no_snapshot_lv()
        self.assert_replicated(source, 1)

    def test_mixed_replication_refused(self):
        source = self._source(b'x')
        plain = self.lab.volume(replicated=False)
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.create_cloned_volume, plain,
                                source)
        self.assertIn('both must be replicated', str(err))
        self.assert_nothing_of(plain)


@ddt.ddt
class RetypeTestCase(LabTestCase):

    REPLICATED = {'extra_specs': {'volume_backend_name': 'ev3',
                                  'replication_enabled': '<is> True'}}
    PLAIN = {'extra_specs': {'volume_backend_name': 'ev3'}}

    @ddt.data(*TOPOLOGIES)
    def test_replication_on_keeps_data_and_fills_peers(self, topology):
        self.start_lab(**topology)
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        lv = '/dev/volumes/%s' % volume.name
        self.lab.node(0).sim.write(lv, 4096, b'plain data')
        self.assertEqual(ENABLED, self.primary.retype(
            self.lab.ctx, volume, self.REPLICATED, {}, 'hci-0001@RBS#ev3'))
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        self.assertTrue(self.primary.local_path(volume).startswith(
            '/dev/drbd'))
        for node in self.lab.nodes:
            self.assertEqual(b'plain data', node.sim.read(lv, 4096, 10),
                             node.name)

    def test_replication_off_keeps_data_and_drops_peers(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 4096, b'kept here')
        self.assertEqual((True, {'replication_status': 'disabled'}),
                         self.primary.retype(self.lab.ctx, volume, self.PLAIN,
                                             {}, 'hci-0001@RBS#ev3'))
        held = self.lab.node(0).holdings()
        self.assertIn(volume.name, held['lvs'])
        self.assertNotIn(volume.name, held['drbd'])
        self.assertEqual([], held['files'])
        self.assert_nothing_of(volume, nodes=[self.lab.node(1)])
        lv = '/dev/volumes/%s' % volume.name
        self.assertEqual(b'kept here',
                         self.lab.node(0).sim.read(lv, 4096, 9))
        self.assertEqual('/dev/mapper/volumes-%s'
                         % volume.name.replace('-', '--'),
                         self.primary.local_path(volume))
        # And back on again.
        self.assertEqual(ENABLED, self.primary.retype(
            self.lab.ctx, volume, self.REPLICATED, {}, 'hci-0001@RBS#ev3'))
        self.lab.cluster.finish_syncs()
        self.assertEqual(b'kept here',
                         self.lab.node(1).sim.read(lv, 4096, 9))

    def test_replication_on_failing_on_peer_leaves_plain_volume(self):
        self.start_lab()
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        lv = '/dev/volumes/%s' % volume.name
        self.lab.node(0).sim.write(lv, 0, b'precious')
        self.lab.cluster.fail_next('hci-0002', ['drbdadm', 'up'], 'no', 10)
        self.assertRaises(cinder_exception.VolumeBackendAPIException,
                          self.primary.retype, self.lab.ctx, volume,
                          self.REPLICATED, {}, 'hci-0001@RBS#ev3')
        held = self.lab.node(0).holdings()
        self.assertIn(volume.name, held['lvs'])
        self.assertNotIn(volume.name, held['drbd'])
        self.assertEqual([], held['files'])
        self.assert_nothing_of(volume, nodes=[self.lab.node(1)])
        self.assertEqual(b'precious', self.lab.node(0).sim.read(lv, 0, 8))


class ManageTestCase(LabTestCase):

    def test_manage_existing_lv_as_replicated(self):
        self.start_lab()
        self.lab.node(0).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'legacy-disk', 'volumes',
            '-L', '1g', run_as_root=True)
        self.lab.node(0).sim.write('/dev/volumes/legacy-disk', 0, b'legacy')
        volume = self.lab.volume(size=1)
        ref = {'source-name': 'legacy-disk'}
        self.assertEqual(1, self.primary.manage_existing_get_size(volume,
                                                                  ref))
        update = self.primary.manage_existing(volume, ref)
        self.assertEqual({'replication_status': 'enabled'}, update)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        lv = '/dev/volumes/%s' % volume.name
        for node in self.lab.nodes:
            self.assertEqual(b'legacy', node.sim.read(lv, 0, 6), node.name)
            self.assertNotIn('legacy-disk', node.holdings()['lvs'])


class ImageAndMigrationTestCase(LabTestCase):
    """Image copies go through the Primary's DRBD device."""

    def test_image_to_volume_reaches_every_replica(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        written = {}

        def fetch_to_raw(context, image_service, image_id, dest, blocksize,
                         size=None, disable_sparse=False):
            # What qemu-img would do: write the image onto ``dest``, whose
            # size must be exactly the volume's.
            out, _err = self.lab.node(0).sim.execute(
                'blockdev', '--getsize64', dest, run_as_root=True)
            written['size'] = int(out.strip())
            self.lab.node(0).sim.write(dest, 0, b'image bytes')
            written['dest'] = dest

        self.mock_object(image_utils, 'fetch_to_raw', fetch_to_raw)
        self.primary.copy_image_to_volume(self.lab.ctx, volume, None, 'img')
        self.assertTrue(written['dest'].startswith('/dev/drbd'))
        self.assertEqual(harness.GiB, written['size'])
        for node in self.lab.nodes:
            self.assertEqual(b'image bytes', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 11), node.name)

    def test_volume_to_image_reads_the_drbd_device(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0,
                                   b'upload me')
        read = {}

        def upload_volume(context, image_service, image_meta, path,
                          volume_obj, *args, **kwargs):
            read['data'] = self.lab.node(0).sim.read(path, 0, 9)

        self.mock_object(volume_utils, 'upload_volume', upload_volume)
        self.primary.copy_volume_to_image(self.lab.ctx, volume, None, {})
        self.assertEqual(b'upload me', read['data'])

    def test_plain_lvm_backend_does_not_take_ev3_location(self):
        self.start_lab()
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        location = self.primary.get_volume_stats(
            refresh=True)['pools'][0]['location_info']
        host = {'host': 'hci-0002@RBS#ev3',
                'capabilities': {'location_info': location}}
        # The LVM driver's own dd-based migration must not take an ev3
        # location for its own: Cinder's generic migration runs instead.
        self.assertEqual((False, None), self.primary.migrate_volume(
            self.lab.ctx, volume, host))


@ddt.ddt
class TypeModeTestCase(LabTestCase):

    @ddt.data(('async', 'A'), ('semi-sync', 'B'), ('full-sync', 'C'))
    @ddt.unpack
    def test_type_extra_spec_sets_the_protocol(self, mode, protocol):
        self.start_lab()
        volume = self.lab.volume()
        volume.volume_type = objects.VolumeType(
            id=volume.volume_type_id, name='RBS-' + mode,
            extra_specs={'replication_enabled': '<is> True',
                         'ev3:replication_mode': mode})
        self.primary.create_volume(volume)
        for node in self.lab.nodes:
            self.assertEqual(
                protocol,
                node.driver.agent.resource(volume.name).protocol.value,
                node.name)

    def test_unknown_mode_is_refused_clearly(self):
        self.start_lab()
        volume = self.lab.volume()
        volume.volume_type = objects.VolumeType(
            id=volume.volume_type_id, name='RBS-bad',
            extra_specs={'replication_enabled': '<is> True',
                         'ev3:replication_mode': 'sometimes'})
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.create_volume, volume)
        self.assertIn('ev3:replication_mode', str(err))
        self.assert_nothing_of(volume)

    def test_retype_changing_the_mode_changes_the_protocol(self):
        # More in test_retype.py (live change, rollback, refusals).
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        same = {'extra_specs': {'replication_enabled': '<is> True'}}
        other = {'extra_specs': {'replication_enabled': '<is> True',
                                 'ev3:replication_mode': 'async'}}
        self.assertTrue(self.primary.retype(self.lab.ctx, volume, same, {},
                                            'hci-0001@RBS#ev3'))
        self.assertEqual(
            'C', self.primary.agent.resource(volume.name).protocol.value)
        self.assertEqual(ENABLED, self.primary.retype(
            self.lab.ctx, volume, other, {}, 'hci-0001@RBS#ev3'))
        for node in self.lab.nodes:
            self.assertEqual(
                'A', node.driver.agent.resource(volume.name).protocol.value)


class MigratedVolumeTestCase(LabTestCase):

    def test_migrated_replicated_volume_keeps_its_backing_name(self):
        self.start_lab()
        original = self.lab.volume(replicated=False)
        new = self.lab.volume()
        self.primary.create_volume(new)
        self.lab.cluster.finish_syncs()
        update = self.primary.update_migrated_volume(
            self.lab.ctx, original, new, 'available')
        self.assertEqual(new.id, update['_name_id'])
        # Cinder saves the update: the volume now names the new backing.
        original.update(update)
        self.assertEqual(new.name, original.name)
        self.assertEqual(self.primary.local_path(new),
                         self.primary.local_path(original))
        self.assertTrue(self.primary.local_path(original).startswith(
            '/dev/drbd'))
        for node in self.lab.nodes:
            self.assertIn(new.name, node.holdings()['drbd'], node.name)
