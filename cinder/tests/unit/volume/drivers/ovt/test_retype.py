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
"""Retype: the replication mode changed live, and types refused.

Cinder's manager hands ``retype`` a VolumeType object; these tests do the
same.  Each asserts every host's resource file, kernel protocol, DRBD
connection and export, and what Cinder is told.
"""

import uuid

import ddt

from cinder import objects
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder import utils
from cinder.volume.drivers.ovt import exception

CONNECTOR = test_lifecycle.CONNECTOR
TOPOLOGIES = test_lifecycle.TOPOLOGIES
HOST = 'hci-0001@RBS#ev3'


def vtype(replicated=True, mode=None, provisioning=None):
    """A volume type as Cinder's manager passes it to retype."""
    specs = {'volume_backend_name': 'ev3'}
    if replicated:
        specs['replication_enabled'] = '<is> True'
    if mode is not None:
        specs['ev3:replication_mode'] = mode
    if provisioning is not None:
        specs['provisioning:type'] = provisioning
    return objects.VolumeType(id=str(uuid.uuid4()),
                              name='RBS-%s' % (mode or 'default'),
                              extra_specs=specs)


@ddt.ddt
class LiveModeChangeTestCase(test_lifecycle.LabTestCase):
    """Only the replication mode differs: DRBD's protocol changes live."""

    def _attached(self, **topology):
        self.start_lab(**topology)
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        volume.update(self.primary.create_export(self.lab.ctx, volume,
                                                 CONNECTOR))
        self.primary.initialize_connection(volume, CONNECTOR)
        volume.status = 'in-use'
        self.device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(self.device, 0, b'before retype')
        return volume

    def assert_protocol(self, volume, protocol):
        """Every host's file and kernel say ``protocol``; all connected."""
        for node in self.lab.nodes:
            self.assertEqual(
                protocol,
                node.driver.agent.resource(volume.name).protocol.value,
                node.name)
            held = node.holdings()['drbd'][volume.name]
            self.assertEqual(protocol, held['protocol'], node.name)
            self.assertEqual('UpToDate', held['disk'], node.name)
            for peer, link in held['peers'].items():
                self.assertEqual(('Connected', 'Established'),
                                 (link['connection'], link['replication']),
                                 '%s -> %s' % (node.name, peer))
        # Still exported where it was; nothing exported elsewhere.
        iqn = 'iqn.2010-10.org.openstack:%s' % volume.name
        self.assertEqual(self.device, self.lab.node(0).holdings()['targets']
                         [iqn]['path'])
        for node in self.lab.nodes[1:]:
            self.assertEqual({}, node.holdings()['targets'], node.name)

    @ddt.data(*TOPOLOGIES)
    def test_mode_changes_in_place_on_every_host(self, topology):
        volume = self._attached(**topology)
        result = self.primary.retype(self.lab.ctx, volume,
                                     vtype(mode='async'), {}, HOST)
        self.assertEqual((True, {'replication_status': 'enabled'}), result)
        self.assert_protocol(volume, 'A')
        self.lab.node(0).sim.write(self.device, 4096, b'under protocol A')
        for node in self.lab.nodes:
            self.assertEqual(b'under protocol A', node.sim.read(
                '/dev/volumes/%s' % volume.name, 4096, 16), node.name)
        # semi-sync, then back to the backend's default (full-sync).
        self.assertTrue(self.primary.retype(self.lab.ctx, volume,
                                            vtype(mode='semi-sync'), {},
                                            HOST)[0])
        self.assert_protocol(volume, 'B')
        self.assertTrue(self.primary.retype(self.lab.ctx, volume, vtype(),
                                            {}, HOST)[0])
        self.assert_protocol(volume, 'C')
        for node in self.lab.nodes:
            self.assertEqual(b'before retype', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 13), node.name)

    def test_same_mode_changes_nothing(self):
        volume = self._attached()
        before = self.lab.holdings()
        self.assertTrue(self.primary.retype(self.lab.ctx, volume,
                                            vtype(mode='full-sync'), {},
                                            HOST))
        self.assertEqual(before, self.lab.holdings())
        self.assert_protocol(volume, 'C')

    def test_a_replica_restarting_later_keeps_the_new_mode(self):
        volume = self._attached()
        self.primary.retype(self.lab.ctx, volume, vtype(mode='async'), {},
                            HOST)
        self.lab.node(1).crash()
        self.lab.node(1).restart(active_backend_id='hci-0001@RBS')
        self.lab.cluster.finish_syncs()
        self.assert_protocol(volume, 'A')

    @ddt.data((TOPOLOGIES[0], 1), (TOPOLOGIES[1], 2), (TOPOLOGIES[1], 1),
              (TOPOLOGIES[0], 0))
    @ddt.unpack
    def test_host_failing_part_way_rolls_back_everywhere(
            self, topology, failing):
        volume = self._attached(**topology)
        node = self.lab.node(failing)
        self.lab.cluster.fail_next(node.name, ['drbdadm', 'adjust'],
                                   'adjust: simulated failure', 10)
        err = self.assertRaises(exception.Ev3Error, self.primary.retype,
                                self.lab.ctx, volume, vtype(mode='async'),
                                {}, HOST)
        self.assertIn('%s failed' % node.backend_id, str(err))
        self.assertIn('adjust: simulated failure', str(err))
        self.assertIn('every host is back on protocol C', str(err))
        self.assert_protocol(volume, 'C')

    def test_peer_unreachable_part_way_rolls_back(self):
        volume = self._attached(hosts=3, drbd_version='9.2.12')
        # hci-0003's service dies while hci-0002 changes its protocol.
        agent = self.lab.node(1).driver.agent
        real = agent.set_protocol

        def stop_hci_0003_then_change(name, protocol):
            self.lab.node(2).stop()
            return real(name, protocol)

        agent.set_protocol = stop_hci_0003_then_change
        err = self.assertRaises(exception.Ev3Error, self.primary.retype,
                                self.lab.ctx, volume, vtype(mode='async'),
                                {}, HOST)
        self.assertIn('hci-0003@RBS failed', str(err))
        self.assertIn('protocol C could not be restored on hci-0003@RBS',
                      str(err))
        # Its file was never rewritten; the kernel followed the rollback.
        self.lab.node(2).start([self.lab.node(0), self.lab.node(1)])
        self.assert_protocol(volume, 'C')

    def test_refused_while_a_peer_api_is_down(self):
        volume = self._attached(hosts=3, drbd_version='9.2.12')
        self.lab.node(2).stop()
        before = self.lab.holdings()
        err = self.assertRaises(exception.PeerError, self.primary.retype,
                                self.lab.ctx, volume, vtype(mode='async'),
                                {}, HOST)
        self.assertIn('hci-0003@RBS', str(err))
        self.assertEqual(before, self.lab.holdings())
        for node in self.lab.nodes[:2]:
            self.assertEqual(
                'C', node.driver.agent.resource(volume.name).protocol.value)

    def test_refused_while_a_replica_is_away(self):
        volume = self._attached()
        self.lab.node(1).crash()
        before = self.lab.node(0).holdings()
        err = self.assertRaises(exception.Ev3Error, self.primary.retype,
                                self.lab.ctx, volume, vtype(mode='async'),
                                {}, HOST)
        self.assertIn('not connected', str(err))
        self.assertIn('nothing was changed', str(err))
        self.assertEqual(before, self.lab.node(0).holdings())
        self.assertEqual(
            'C', self.primary.agent.resource(volume.name).protocol.value)

    def test_refused_while_frozen(self):
        volume = self._attached()
        self.lab.node(1).driver.freeze_backend(self.lab.ctx)
        before = self.lab.holdings()
        self.assertRaises(exception.HostFrozen, self.primary.retype,
                          self.lab.ctx, volume, vtype(mode='async'), {},
                          HOST)
        self.assertEqual(before, self.lab.holdings())
        self.assert_protocol(volume, 'C')


@ddt.ddt
class RetypeTypesTestCase(test_lifecycle.LabTestCase):
    """Replication on/off with the manager's VolumeType; bad types."""

    def test_replicated_to_replicated_type_object_keeps_replication(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        before = self.lab.holdings()
        self.assertTrue(self.primary.retype(self.lab.ctx, volume, vtype(),
                                            {}, HOST))
        self.assertEqual(before, self.lab.holdings())
        self.assert_replicated(volume, 1)

    @ddt.data(*TOPOLOGIES)
    def test_replication_on_with_a_mode(self, topology):
        self.start_lab(**topology)
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        result = self.primary.retype(self.lab.ctx, volume,
                                     vtype(mode='semi-sync'), {}, HOST)
        self.assertEqual((True, {'replication_status': 'enabled'}), result)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        for node in self.lab.nodes:
            self.assertEqual('B', node.holdings()['drbd'][volume.name]
                             ['protocol'], node.name)

    def test_replication_off_tells_cinder(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.assertEqual((True, {'replication_status': 'disabled'}),
                         self.primary.retype(self.lab.ctx, volume,
                                             vtype(replicated=False), {},
                                             HOST))
        self.assert_nothing_of(volume, nodes=self.lab.nodes[1:])

    @ddt.data(True, False)
    def test_unknown_mode_is_refused_and_changes_nothing(self, replicated):
        self.start_lab()
        volume = self.lab.volume(replicated=replicated)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error, self.primary.retype,
                                self.lab.ctx, volume,
                                vtype(mode='sometimes'), {}, HOST)
        self.assertIn("ev3:replication_mode='sometimes'", str(err))
        self.assertIn('full-sync', str(err))
        self.assertEqual(before, self.lab.holdings())

    def _plain_backend(self):
        """One host without replication_device: a plain LVM backend."""
        # Cinder's LVM checks ask for the root helper themselves.
        self.mock_object(utils, 'get_root_helper',
                         lambda: self.lab.node(0).sim.root_helper)
        self.start_lab(hosts=1)

    @ddt.data(('default', 'thin'), ('thin', 'thick'))
    @ddt.unpack
    def test_other_provisioning_needs_a_migration(self, lvm_type, wanted):
        self.start_lab(lvm_type=lvm_type)
        plain = self.lab.volume(replicated=False)
        replicated = self.lab.volume()
        for volume in (plain, replicated):
            self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        before = self.lab.holdings()
        for volume in (plain, replicated):
            for new_type in (vtype(replicated=False, provisioning=wanted),
                             vtype(provisioning=wanted)):
                self.assertFalse(self.primary.retype(
                    self.lab.ctx, volume, new_type, {}, HOST))
        self.assertEqual(before, self.lab.holdings())
        same = 'thin' if lvm_type == 'thin' else 'thick'
        self.assertTrue(self.primary.retype(
            self.lab.ctx, replicated, vtype(provisioning=same), {}, HOST))

    def test_replicated_type_on_backend_without_replication_device(self):
        self._plain_backend()
        self.assertFalse(self.primary.replicated_backend)
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error, self.primary.retype,
                                self.lab.ctx, volume, vtype(), {}, HOST)
        self.assertIn('no replication_device', str(err))
        self.assertIn(volume.id, str(err))
        self.assertEqual(before, self.lab.holdings())
        # A plain type is still fine there.
        self.assertTrue(self.primary.retype(self.lab.ctx, volume,
                                            vtype(replicated=False), {},
                                            HOST))

    def test_manage_with_replicated_type_without_replication_device(self):
        self._plain_backend()
        self.lab.node(0).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'legacy-disk', 'volumes',
            '-L', '1g', run_as_root=True)
        before = self.lab.holdings()
        volume = self.lab.volume()
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.manage_existing, volume,
                                {'source-name': 'legacy-disk'})
        self.assertIn('no replication_device', str(err))
        self.assertEqual(before, self.lab.holdings())

    def test_manage_with_unknown_mode_changes_nothing(self):
        self.start_lab()
        self.lab.node(0).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'legacy-disk', 'volumes',
            '-L', '1g', run_as_root=True)
        before = self.lab.holdings()
        volume = self.lab.volume()
        volume.volume_type = vtype(mode='sometimes')
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.manage_existing, volume,
                                {'source-name': 'legacy-disk'})
        self.assertIn('ev3:replication_mode', str(err))
        self.assertEqual(before, self.lab.holdings())
