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
"""Every lifecycle result survives a promotion of the standby.

After a clone, a volume from a snapshot, a revert, a retype that turns
replication on and a manage, the standby hci-0002 is promoted, either by a
planned switchover (``failover-host hci-0001 --backend_id hci-0002``, every
host alive) or after a disaster (hci-0001 dies; ``failover-host hci-0002
--backend_id default``).  On the new Primary the volume's DRBD device holds
the expected data, its snapshots are there with their data, it can be
exported, reverted and (all hosts alive) snapshotted again, and the hosts
still alive follow its writes.
"""

import uuid

import ddt

from cinder.tests.unit import fake_snapshot
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle

CONNECTOR = test_lifecycle.CONNECTOR
TOPOLOGIES = test_lifecycle.TOPOLOGIES
PLANNED = 'planned'
DISASTER = 'disaster'
THIN = dict(TOPOLOGIES[0], lvm_type='thin')
CASES = tuple(dict(topology, how=how) for topology in TOPOLOGIES + (THIN,)
              for how in (PLANNED, DISASTER))
AT = 4096                     # where each test's data sits
LATER = b'written on the old primary after the snapshot'
NEWER = b'written on the new primary'
NEWER_AT = 1024 * 1024
OPERATIONS = ('_clone', '_from_snapshot', '_revert', '_retype_on', '_manage')


@ddt.ddt
class PromotedStandbyTestCase(test_lifecycle.LabTestCase):
    """Each operation, then the standby promoted and used."""

    # -- the operations (each returns the volume and the data it holds)

    def _replicated(self, data, size=1):
        volume = self.lab.volume(size=size)
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.node(0).sim.write(self.primary.local_path(volume), AT, data)
        return volume

    def _clone(self):
        source = self._replicated(b'clone source')
        clone = self.lab.volume(size=1)
        self.primary.create_cloned_volume(clone, source)
        # The source moves on; the clone keeps what it was cloned from.
        self.lab.node(0).sim.write(self.primary.local_path(source), AT,
                                   b'source moved on')
        return clone, b'clone source', [source]

    def _from_snapshot(self):
        source = self._replicated(b'snapshot data')
        snapshot = new_snapshot(self.lab, source)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(source), AT,
                                   b'later on source')
        volume = self.lab.volume(size=1)
        self.primary.create_volume_from_snapshot(volume, snapshot)
        self._source_snapshot = (snapshot, b'snapshot data')
        return volume, b'snapshot data', [source]

    def _revert(self):
        volume = self._replicated(b'before revert')
        snapshot = new_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(volume), AT,
                                   b'after the snapshot!')
        self.primary.revert_to_snapshot(self.lab.ctx, volume, snapshot)
        self._source_snapshot = (snapshot, b'before revert')
        return volume, b'before revert', []

    def _retype_on(self):
        volume = self.lab.volume(replicated=False)
        self.primary.create_volume(volume)
        self.lab.node(0).sim.write('/dev/volumes/%s' % volume.name, AT,
                                   b'was a plain LV')
        replicated = {'extra_specs': {'replication_enabled': '<is> True'}}
        self.assertEqual(test_lifecycle.ENABLED, self.primary.retype(
            self.lab.ctx, volume, replicated, {}, 'hci-0001@RBS#ev3'))
        volume.volume_type = self.lab.replicated_type
        volume.volume_type_id = self.lab.replicated_type.id
        self.lab.cluster.finish_syncs()
        return volume, b'was a plain LV', []

    def _manage(self):
        self.lab.node(0).sim.execute(
            'env', 'LC_ALL=C', 'lvcreate', '-n', 'legacy-disk', 'volumes',
            '-L', '1g', run_as_root=True)
        self.lab.node(0).sim.write('/dev/volumes/legacy-disk', AT,
                                   b'legacy data')
        volume = self.lab.volume(size=1)
        self.primary.manage_existing(volume, {'source-name': 'legacy-disk'})
        self.lab.cluster.finish_syncs()
        return volume, b'legacy data', []

    # -- promotion

    def _promote_standby(self, how, volumes):
        """Make hci-0002 the Primary; return its driver."""
        standby = self.lab.node(1).driver
        if how == PLANNED:
            active, _updates, _groups = self.primary.failover_host(
                self.lab.ctx, volumes, secondary_id='hci-0002@RBS')
            self.assertEqual('hci-0002@RBS', active)
            return standby
        for node in self.lab.nodes[1:]:
            node.driver.failover_host(self.lab.ctx, [],
                                      secondary_id='hci-0001@RBS')
        self.lab.node(0).crash()
        active, _updates, _groups = standby.failover_host(
            self.lab.ctx, [], secondary_id='default')
        self.assertEqual('default', active)
        return standby

    # -- what the new Primary must hold and do

    def assert_snapshot_on(self, nodes, volume, snapshot, data):
        for node in nodes:
            held = node.holdings()['lvs'].get('_' + snapshot.name)
            self.assertIsNotNone(held, node.name)
            self.assertEqual(volume.name, held['origin'], node.name)
            # Thin snapshots carry LVM's activation skip flag.
            node.driver.vg.activate_lv('_' + snapshot.name, is_snapshot=True)
            self.assertEqual(data, node.sim.read(
                '/dev/volumes/_%s' % snapshot.name, AT, len(data)),
                node.name)

    def assert_lvs_hold(self, nodes, volume, offset, data):
        for node in nodes:
            self.assertEqual(data, node.sim.read(
                '/dev/volumes/%s' % volume.name, offset, len(data)),
                node.name)

    @ddt.data(*[dict(case, operation=op) for case in CASES
                for op in OPERATIONS])
    def test_result_is_usable_on_the_promoted_standby(self, case):
        case = dict(case)
        how, operation = case.pop('how'), case.pop('operation')
        self.start_lab(**case)
        self._source_snapshot = None
        volume, data, others = getattr(self, operation)()
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
        self.assert_lvs_hold(self.lab.nodes, volume, AT, data)
        # A snapshot of the result, then a write after it, on hci-0001.
        snapshot = new_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(self.primary.local_path(volume), AT, LATER)

        standby = self._promote_standby(how, [volume] + others)
        alive = self.lab.nodes[1:] if how == DISASTER else self.lab.nodes
        new = self.lab.node(1)
        self.assertEqual('Primary', new.roles()[volume.name])
        for node in alive:
            if node is not new:
                self.assertEqual('Secondary', node.roles()[volume.name],
                                 node.name)

        # The data: the last acknowledged write, through the new device.
        device = standby.local_path(volume)
        self.assertTrue(device.startswith('/dev/drbd'), device)
        self.assertEqual(LATER, new.sim.read(device, AT, len(LATER)))
        # The snapshots are there, with their data.
        self.assert_snapshot_on(alive, volume, snapshot, data)
        if self._source_snapshot is not None:
            source_snapshot, source_data = self._source_snapshot
            self.assert_snapshot_on(alive, source_snapshot.volume,
                                    source_snapshot, source_data)

        # Usable: exported from the new Primary's DRBD device ...
        volume.host = 'hci-0002@RBS#ev3'
        volume.update(standby.create_export(self.lab.ctx, volume, CONNECTOR))
        info = standby.initialize_connection(volume, CONNECTOR)
        iqn = info['data']['target_iqn']
        self.assertEqual(device, new.holdings()['targets'][iqn]['path'])
        standby.terminate_connection(volume, CONNECTOR)
        standby.remove_export(self.lab.ctx, volume)
        # ... written, with the live peers following ...
        new.sim.write(device, NEWER_AT, NEWER)
        self.assert_lvs_hold(alive, volume, NEWER_AT, NEWER)
        # ... and reverted to the snapshot taken on the old Primary.
        standby.revert_to_snapshot(self.lab.ctx, volume, snapshot)
        self.lab.cluster.finish_syncs()
        self.assertEqual(data, new.sim.read(device, AT, len(data)))
        self.assert_lvs_hold(alive, volume, AT, data)
        for node in alive:
            self.assertEqual('UpToDate',
                             node.holdings()['drbd'][volume.name]['disk'],
                             node.name)
        if how == PLANNED:
            # Every replica is there: a new snapshot is taken on each.
            again = new_snapshot(self.lab, volume)
            standby.create_snapshot(again)
            self.assert_snapshot_on(alive, volume, again, data)
            standby.delete_snapshot(again)
            standby.delete_snapshot(snapshot)
            for node in alive:
                self.assertNotIn('_' + snapshot.name,
                                 node.holdings()['lvs'], node.name)


def new_snapshot(lab, volume):
    """A Cinder snapshot of ``volume`` with an id of its own."""
    snapshot = fake_snapshot.fake_snapshot_obj(
        lab.ctx, id=str(uuid.uuid4()), volume_id=volume.id,
        volume_size=volume.size)
    snapshot.volume = volume
    return snapshot
