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
"""Manage and unmanage of replicated volumes on two and three hosts.

Unmanage leaves every host's storage as it is; managing the backing LV of
a DRBD resource (such as an unmanaged volume's) is refused, changing
nothing; managing a plain LV for a replicated type needs every peer.
"""

import logging

import ddt
import fixtures

from cinder import exception as cinder_exception
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.volume.drivers.ovt import exception

TOPOLOGIES = test_lifecycle.TOPOLOGIES
CONNECTOR = test_lifecycle.CONNECTOR
LEGACY = '/dev/volumes/legacy-disk'


class ManageLabTestCase(test_lifecycle.LabTestCase):
    """A replicated volume, exported on hci-0001, then unmanaged."""

    def _replicated(self, **topology):
        self.start_lab(**topology)
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        volume.update(self.primary.create_export(self.lab.ctx, volume,
                                                 CONNECTOR))
        self.lab.node(0).sim.write(self.primary.local_path(volume), 0,
                                   b'keep me')
        return volume

    def _unmanage(self, volume):
        """What Cinder's manager does for "cinder unmanage"."""
        self.primary.remove_export(self.lab.ctx, volume)
        self.primary.unmanage(volume)

    def _legacy_lv(self):
        self.lab.node(0).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'legacy-disk', 'volumes',
            '-L', '1g', run_as_root=True)
        self.lab.node(0).sim.write(LEGACY, 0, b'legacy')

    def assert_kept(self, volume, before):
        """Every host holds what it held, except hci-0001's export."""
        after = self.lab.holdings()
        for node in self.lab.nodes:
            held, was = after[node.name], before[node.name]
            self.assertEqual(was['lvs'], held['lvs'], node.name)
            self.assertEqual(was['files'], held['files'], node.name)
            self.assertIn(volume.name, held['files'], node.name)
            self.assertEqual(was['drbd'][volume.name]['role'],
                             held['drbd'][volume.name]['role'], node.name)
            self.assertEqual({}, held['targets'], node.name)
        self.assertEqual('Primary', after['hci-0001']['drbd'][volume.name]
                         ['role'])
        for node in self.lab.nodes:
            self.assertEqual(b'keep me', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 7), node.name)


@ddt.ddt
class UnmanageTestCase(ManageLabTestCase):

    @ddt.data(*TOPOLOGIES)
    def test_unmanage_keeps_the_storage_on_every_host(self, topology):
        volume = self._replicated(**topology)
        before = self.lab.holdings()
        self.assertEqual(1, len(before['hci-0001']['targets']))
        log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume.drivers.ovt', level=logging.INFO))
        self._unmanage(volume)
        self.assert_kept(volume, before)
        self.assertIn('Volume %s is no longer managed by Cinder' % volume.id,
                      log.output)
        self.assertIn('DRBD resource %s stays as it is on %s' % (
            volume.name, ', '.join(n.backend_id for n in self.lab.nodes)),
            log.output)

    @ddt.data(*TOPOLOGIES)
    def test_orphan_survives_stats_and_restart(self, topology):
        volume = self._replicated(**topology)
        before = self.lab.holdings()
        self._unmanage(volume)
        # The periodic report still sees the resource (healthy); Cinder,
        # which no longer knows it, gets no update for it.
        for node in self.lab.nodes:
            stats = node.driver.get_volume_stats(refresh=True)
            self.assertEqual(0, stats['pools'][0]['ev3_degraded_volumes'])
            self.assertEqual(([], []),
                             node.driver.get_replication_error_status(
                                 self.lab.ctx, []))
        self.assert_kept(volume, before)
        # A reboot of a peer: start-up brings its replica up again and
        # it resynchronises; nothing is removed anywhere.
        peer = self.lab.node(len(self.lab.nodes) - 1)
        peer.crash()
        peer.restart()
        self.lab.cluster.finish_syncs()
        self.assert_kept(volume, before)
        for node in self.lab.nodes:
            held = node.holdings()['drbd'][volume.name]
            self.assertEqual('UpToDate', held['disk'], node.name)

    def test_degraded_orphan_is_reported_not_removed(self):
        volume = self._replicated()
        self._unmanage(volume)
        self.lab.node(1).crash()
        stats = self.primary.get_volume_stats(refresh=True)
        self.assertEqual(1, stats['pools'][0]['ev3_degraded_volumes'])
        self.assertEqual(([], []), self.primary.get_replication_error_status(
            self.lab.ctx, []))
        held = self.lab.node(0).holdings()
        self.assertIn(volume.name, held['lvs'])
        self.assertEqual('Primary', held['drbd'][volume.name]['role'])
        self.assertEqual({}, self.primary.replicator.retry_pending_removals())

    def test_orphan_follows_a_planned_failover(self):
        volume = self._replicated(hosts=3, drbd_version='9.2.12')
        self._unmanage(volume)
        active, updates, _groups = self.primary.failover_host(
            self.lab.ctx, [], secondary_id='hci-0002@RBS')
        self.assertEqual(('hci-0002@RBS', []), (active, updates))
        self.assertEqual({volume.name: 'Secondary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        for node in self.lab.nodes:
            held = node.holdings()
            self.assertIn(volume.name, held['lvs'], node.name)
            self.assertIn(volume.name, held['files'], node.name)
            self.assertEqual(b'keep me', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 7), node.name)

    def test_unmanage_plain_volume_keeps_its_lv(self):
        self.start_lab()
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        self._unmanage(volume)
        held = self.lab.node(0).holdings()
        self.assertIn(volume.name, held['lvs'])
        self.assertEqual([], held['files'])
        self.assert_nothing_of(volume, nodes=self.lab.nodes[1:])


@ddt.ddt
class RemanageTestCase(ManageLabTestCase):
    """The LV of a DRBD resource is never adopted: refused, unchanged."""

    @ddt.data(*[dict(t, replicated=r, ref=k) for t in TOPOLOGIES
                for r in (True, False) for k in ('source-name', 'source-id')])
    def test_remanage_after_unmanage_is_refused(self, case):
        case = dict(case)
        replicated, key = case.pop('replicated'), case.pop('ref')
        volume = self._replicated(**case)
        self._unmanage(volume)
        before = self.lab.holdings()
        again = self.lab.volume(size=1, replicated=replicated)
        ref = {key: volume.name if key == 'source-name' else volume.id}
        for call in (self.primary.manage_existing_get_size,
                     self.primary.manage_existing):
            err = self.assertRaises(
                cinder_exception.ManageExistingInvalidReference,
                call, again, ref)
            message = str(err)
            self.assertIn('backing LV of the ev3 DRBD resource %s'
                          % volume.name, message)
            self.assertIn('Primary on hci-0001@RBS', message)
            self.assertIn('held on %s' % ', '.join(
                n.backend_id for n in self.lab.nodes), message)
            self.assertIn('does not adopt', message)
            self.assertIn('drbdadm down %s' % volume.name, message)
            self.assertEqual(before, self.lab.holdings())
        self.assert_nothing_of(again)

    def test_managed_volume_lv_is_refused(self):
        # Not even unmanaged: Cinder still owns it.
        volume = self._replicated(hosts=3, drbd_version='9.2.12')
        before = self.lab.holdings()
        self.assertRaises(cinder_exception.ManageExistingInvalidReference,
                          self.primary.manage_existing,
                          self.lab.volume(), {'source-name': volume.name})
        self.assertEqual(before, self.lab.holdings())

    def test_lv_open_by_drbd_without_resource_file_is_refused(self):
        volume = self._replicated()
        self._unmanage(volume)
        # The operator removed the resource file but DRBD still runs.
        self.lab.node(0).sim.resource_files.remove(volume.name)
        self.primary.agent._forget_files()
        before = self.lab.holdings()
        err = self.assertRaises(
            cinder_exception.ManageExistingInvalidReference,
            self.primary.manage_existing, self.lab.volume(),
            {'source-name': volume.name})
        self.assertIn('LV %s on hci-0001@RBS is open' % volume.name,
                      str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assertEqual('Primary', self.lab.node(0).roles()[volume.name])


@ddt.ddt
class ManagePeersTestCase(ManageLabTestCase):
    """A plain LV for a replicated type: every peer, or nothing changes."""

    @ddt.data(*TOPOLOGIES)
    def test_peer_down_is_refused_and_changes_nothing(self, topology):
        self.start_lab(**topology)
        self._legacy_lv()
        down = self.lab.node(len(self.lab.nodes) - 1)
        down.crash()
        before = self.lab.holdings()
        volume = self.lab.volume()
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.manage_existing, volume,
                                {'source-name': 'legacy-disk'})
        self.assertIn('%s does not answer' % down.backend_id, str(err))
        self.assertIn('nothing was changed', str(err))
        self.assertIn('legacy-disk', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assertEqual(b'legacy', self.lab.node(0).sim.read(LEGACY, 0, 6))

    def test_frozen_peer_is_refused_and_changes_nothing(self):
        self.start_lab(hosts=3, drbd_version='9.2.12')
        self._legacy_lv()
        self.lab.node(1).driver.freeze_backend(self.lab.ctx)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.manage_existing,
                                self.lab.volume(),
                                {'source-name': 'legacy-disk'})
        self.assertIn('hci-0002@RBS is frozen', str(err))
        self.assertEqual(before, self.lab.holdings())

    @ddt.data((TOPOLOGIES[0], 1), (TOPOLOGIES[1], 2))
    @ddt.unpack
    def test_peer_failing_part_way_gives_the_lv_back(self, topology,
                                                     failing):
        self.start_lab(**topology)
        self._legacy_lv()
        before = self.lab.holdings()
        node = self.lab.node(failing)
        self.lab.cluster.fail_next(
            node.name, ['drbdadm', '--', '--force', 'create-md'],
            'create-md: simulated failure', 10)
        volume = self.lab.volume()
        err = self.assertRaises(cinder_exception.VolumeBackendAPIException,
                                self.primary.manage_existing, volume,
                                {'source-name': 'legacy-disk'})
        self.assertIn('simulated failure', str(err))
        self.assertEqual(before, self.lab.holdings())
        self.assertEqual(b'legacy', self.lab.node(0).sim.read(LEGACY, 0, 6))
        self.assert_nothing_of(volume)
        # The operator fixes the peer and manages it again.
        self.primary.manage_existing(volume, {'source-name': 'legacy-disk'})
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        for each in self.lab.nodes:
            self.assertEqual(b'legacy', each.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 6), each.name)

    def test_reference_without_a_name_is_refused(self):
        self.start_lab()
        before = self.lab.holdings()
        for call in (self.primary.manage_existing_get_size,
                     self.primary.manage_existing):
            err = self.assertRaises(
                cinder_exception.ManageExistingInvalidReference, call,
                self.lab.volume(), {'source-uuid': 'x'})
            self.assertIn('source-name or source-id', str(err))
        self.assertEqual(before, self.lab.holdings())

    def test_source_id_names_the_lv_of_that_volume_id(self):
        self.start_lab()
        old = self.lab.volume(replicated=False)
        self.primary.create_volume(old)
        self.lab.node(0).sim.write('/dev/volumes/%s' % old.name, 0, b'old')
        volume = self.lab.volume()
        ref = {'source-id': old.id}
        self.assertEqual(1, self.primary.manage_existing_get_size(volume,
                                                                  ref))
        self.assertEqual({'replication_status': 'enabled'},
                         self.primary.manage_existing(volume, ref))
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        self.assert_nothing_of(old)
        for each in self.lab.nodes:
            self.assertEqual(b'old', each.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 3), each.name)
