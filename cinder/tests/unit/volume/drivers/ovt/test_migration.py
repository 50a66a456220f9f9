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
"""Driver-assisted migration of plain volumes between ev3 backends.

The source and the destination pair up over DRBD for the copy and part
afterwards.  Every test asserts both hosts' LVs (names, exact sizes, data),
DRBD resources, resource files and what Cinder is told.  The simulated
resync runs on the lab's manual clock: the driver's waits advance it.
"""

import logging

import ddt
import fixtures

from cinder.tests.unit.volume.drivers.ovt import harness
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.tests.unit.volume.drivers.ovt import test_packaging
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import migration
from cinder.volume.drivers.ovt import peer_api

GiB = harness.GiB
TOPOLOGIES = test_lifecycle.TOPOLOGIES
LAST_MIB = GiB - 1024 * 1024


@ddt.ddt
class MigrationTestCase(test_lifecycle.LabTestCase):

    def _plain(self, size=1, **topology):
        self.start_lab(**topology)
        # The driver's waits for the copy advance the simulated clock.
        self.mock_object(self.primary.migrator, '_sleep',
                         self.lab.clock.advance)
        self.mock_object(self.primary.migrator, '_clock', self.lab.clock)
        volume = self.lab.volume(size=size, replicated=False,
                                 status='available')
        self.primary.create_volume(volume)
        lv = '/dev/volumes/%s' % volume.name
        self.lab.node(0).sim.write(lv, 0, b'first block')
        self.lab.node(0).sim.write(lv, LAST_MIB, b'last MiB')
        self.fingerprint = self.lab.node(0).sim.fingerprint(lv)
        return volume

    def _host(self, index):
        node = self.lab.node(index)
        stats = node.driver.get_volume_stats(refresh=True)
        return {'host': '%s#ev3' % node.backend_id,
                'capabilities': stats['pools'][0]}

    def assert_plain_on(self, node, volume, size_gib=1):
        held = node.holdings()
        lv = '/dev/volumes/%s' % volume.name
        self.assertEqual(size_gib * GiB,
                         held['lvs'][volume.name]['size_bytes'], node.name)
        self.assertFalse(held['lvs'][volume.name]['has_drbd_md'], node.name)
        self.assertNotIn(volume.name, held['drbd'], node.name)
        self.assertNotIn(volume.name, held['files'], node.name)
        self.assertEqual(b'first block', node.sim.read(lv, 0, 11))
        self.assertEqual(b'last MiB', node.sim.read(lv, LAST_MIB, 8))
        self.assertEqual(self.fingerprint, node.sim.fingerprint(lv))

    @ddt.data(dict(TOPOLOGIES[0], target=1), dict(TOPOLOGIES[1], target=2),
              dict(TOPOLOGIES[0], target=1, lvm_type='thin'))
    def test_move_to_another_ev3_backend(self, case):
        case = dict(case)
        target = case.pop('target')
        volume = self._plain(**case)
        host = self._host(target)
        location = migration.Location.parse(
            host['capabilities']['location_info'])
        self.assertEqual(self.lab.node(target).backend_id,
                         location.backend_id)
        result = self.primary.migrate_volume(self.lab.ctx, volume, host)
        self.assertEqual((True, {'provider_location': None,
                                 'provider_auth': None}), result)
        destination = self.lab.node(target)
        self.assert_plain_on(destination, volume)
        self.assert_nothing_of(volume, nodes=[n for n in self.lab.nodes
                                              if n is not destination])
        # Cinder moves the volume; its new backend serves it as plain LVM.
        volume.host = host['host']
        driver = destination.driver
        self.assertEqual('/dev/mapper/volumes-%s'
                         % volume.name.replace('-', '--'),
                         driver.local_path(volume))
        volume.update(driver.create_export(self.lab.ctx, volume,
                                           test_lifecycle.CONNECTOR) or {})
        iqn = 'iqn.2010-10.org.openstack:%s' % volume.name
        self.assertIn(iqn, destination.holdings()['targets'])
        driver.remove_export(self.lab.ctx, volume)
        driver.delete_volume(volume)
        self.assert_nothing_of(volume)

    def test_no_replication_health_for_the_volume_being_moved(self):
        volume = self._plain()
        seen = []

        def look_then_advance(seconds):
            if not seen:
                pool = self.primary.get_volume_stats(
                    refresh=True)['pools'][0]
                seen.append((dict(pool['ev3_resyncing']),
                             pool['ev3_degraded_volumes'],
                             dict(self.primary._health)))
                # ... though DRBD is copying it right now.
                held = self.lab.node(0).holdings()['drbd'][volume.name]
                self.assertEqual('Primary', held['role'])
            self.lab.clock.advance(seconds)

        self.mock_object(self.primary.migrator, '_sleep', look_then_advance)
        self.assertTrue(self.primary.migrate_volume(
            self.lab.ctx, volume, self._host(1))[0])
        self.assertEqual([({}, 0, {})], seen)
        self.assertEqual(set(), self.primary.migrator.moving)

    def test_destination_failing_to_bring_up_leaves_nothing(self):
        volume = self._plain()
        self.lab.cluster.fail_next('hci-0002', ['drbdadm', 'up'],
                                   'simulated failure', 10)
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.migrate_volume, self.lab.ctx,
                                volume, self._host(1))
        self.assertIn('hci-0002@RBS', str(err))
        self.assertIn('stays on hci-0001@RBS', str(err))
        self.assert_plain_on(self.lab.node(0), volume)
        self.assert_nothing_of(volume, nodes=[self.lab.node(1)])

    def test_destination_lost_during_the_copy(self):
        volume = self._plain()
        host = self._host(1)
        advance = self.lab.clock.advance
        crashed = []

        def crash_then_advance(seconds):
            if not crashed:
                self.lab.node(1).crash()
                crashed.append(True)
            advance(seconds)

        self.mock_object(self.primary.migrator, '_sleep', crash_then_advance)
        log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume.drivers.ovt', level=logging.INFO))
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.migrate_volume, self.lab.ctx,
                                volume, host)
        self.assertIn('no DRBD connection', str(err))
        self.assert_plain_on(self.lab.node(0), volume)
        # The copy there could not be removed while it was down: the log
        # says what to remove; the volume stays usable here.
        self.assertIn('The copy of volume %s on hci-0002@RBS is left there'
                      % volume.name, log.output)
        self.assertIn('by hand', log.output)
        self.assertEqual('/dev/mapper/volumes-%s'
                         % volume.name.replace('-', '--'),
                         self.primary.local_path(volume))

    def test_generic_migration_when_drbd_cannot_be_used(self):
        volume = self._plain(hosts=3, drbd_version='9.2.12')
        before = self.lab.holdings()
        host = self._host(1)
        own = self._host(0)
        elsewhere = dict(host, capabilities=dict(
            host['capabilities'],
            location_info='LVMVolumeDriver:other:volumes:default:0'))
        unreachable = dict(host, capabilities=dict(
            host['capabilities'],
            location_info=migration.Location(
                'hci-0002@RBS', 'volumes', 'default', '127.0.0.1',
                harness.free_port()).render()))
        attached = self.lab.volume(replicated=False, status='in-use')
        replicated = self.lab.volume(status='available')
        cases = [(volume, own), (volume, elsewhere), (volume, unreachable),
                 (attached, host), (replicated, host)]
        for vol, where in cases:
            self.assertEqual((False, None), self.primary.migrate_volume(
                self.lab.ctx, vol, where), where['capabilities'])
        self.assertEqual(before, self.lab.holdings())
        # A frozen destination: nothing changes either.
        self.lab.node(1).driver.freeze_backend(self.lab.ctx)
        self.assertEqual((False, None), self.primary.migrate_volume(
            self.lab.ctx, volume, host))
        self.assertEqual(before, self.lab.holdings())

    def test_release_never_cuts_into_data(self):
        volume = self._plain()
        node = self.lab.node(0)
        client = peer_api.PeerClient(
            node.backend_id, '127.0.0.1', node.port, harness.SECRET,
            own_backend_id='hci-0002@RBS')
        self.addCleanup(client.close)
        err = self.assertRaises(exception.PeerError, client.release_replica,
                                volume.name, GiB // 2)
        self.assertIn('invalid_name', str(err))
        self.assert_plain_on(node, volume)
        # The exact size already: nothing to cut.
        client.release_replica(volume.name, GiB)
        self.assert_plain_on(node, volume)

    def test_wrong_secret_falls_back_to_generic_migration(self):
        self.start_lab(secrets=[harness.SECRET, 'another-secret-0123456789'])
        volume = self.lab.volume(replicated=False, status='available')
        self.primary.create_volume(volume)
        before = self.lab.holdings()
        self.assertEqual((False, None), self.primary.migrate_volume(
            self.lab.ctx, volume, self._host(1)))
        self.assertEqual(before, self.lab.holdings())


class LocationTestCase(test_lifecycle.test.TestCase):

    def test_round_trip_and_refusals(self):
        location = migration.Location('hci-0002@RBS', 'volumes', 'thin',
                                      'fd00::2', 7000)
        self.assertEqual('ev3:hci-0002@RBS:volumes:thin:fd00::2:7000',
                         location.render())
        self.assertEqual(location,
                         migration.Location.parse(location.render()))
        for text in (None, '', 'LVMVolumeDriver:h:volumes:default:0',
                     'ev3:hci-0002@RBS:volumes:default',
                     'ev3:hci/0002:volumes:default:127.0.0.1:7000',
                     'ev3:hci-0002@RBS:volumes:default:no-ip:7000',
                     'ev3:hci-0002@RBS:volumes:default:127.0.0.1:0',
                     'ev3:hci-0002@RBS:volumes:default:127.0.0.1:x'):
            self.assertIsNone(migration.Location.parse(text), text)


class LvreduceFilterTestCase(test_packaging.RootwrapFiltersTestCase):
    """ev3.filters allows the migration's lvreduce (as brick LVM runs it)."""

    def test_driver_commands_allowed(self):
        self.assertTrue(self._allowed(
            'env', 'LC_ALL=C', 'lvreduce', '-f', '-L', '1024m',
            'volumes/volume-%s' % test_packaging.UUID))

    def test_other_devices_refused(self):
        self.assertFalse(self._allowed('lvreduce', '-f', '-L', '1024m',
                                       'volumes/root'))
