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
"""Snapshots a replica does not hold (or holds of another volume).

A revert to a snapshot that a replica no longer holds is refused before
anything is written on any host, naming the snapshot and the host; a
snapshot whose name a host already uses for another volume is refused.
"""

import ddt

from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle_failover
from cinder.volume.drivers.ovt import exception

TOPOLOGIES = test_lifecycle.TOPOLOGIES
new_snapshot = test_lifecycle_failover.new_snapshot


@ddt.ddt
class RevertRefusedTestCase(test_lifecycle.LabTestCase):

    def _snapshotted(self, **topology):
        self.start_lab(**topology)
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 0, b'snapshot data')
        snapshot = new_snapshot(self.lab, volume)
        self.primary.create_snapshot(snapshot)
        self.lab.node(0).sim.write(device, 0, b'current data!')
        return volume, snapshot

    def _lvremove(self, node, lv):
        node.sim.execute('env', 'LC_ALL=C', 'lvremove', '-f',
                         'volumes/%s' % lv, run_as_root=True)

    def assert_unchanged(self, volume, before):
        self.assertEqual(before, self.lab.holdings())
        for node in self.lab.nodes:
            self.assertEqual(b'current data!', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 13), node.name)

    @ddt.data((TOPOLOGIES[0], 1), (TOPOLOGIES[1], 2), (TOPOLOGIES[1], 0))
    @ddt.unpack
    def test_snapshot_missing_on_a_host(self, topology, where):
        volume, snapshot = self._snapshotted(**topology)
        node = self.lab.node(where)
        self._lvremove(node, '_' + snapshot.name)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.revert_to_snapshot,
                                self.lab.ctx, volume, snapshot)
        self.assertIn('_' + snapshot.name, str(err))
        self.assertIn('%s (missing)' % node.backend_id, str(err))
        self.assertIn('nothing was changed', str(err))
        self.assert_unchanged(volume, before)

    def test_snapshot_of_another_volume_on_a_peer(self):
        volume, snapshot = self._snapshotted()
        other = self.lab.volume()
        self.primary.create_volume(other)
        self.lab.cluster.finish_syncs()
        peer = self.lab.node(1)
        lv = '_' + snapshot.name
        self._lvremove(peer, lv)
        peer.sim.execute('env', 'LC_ALL=C', 'lvcreate', '--name', lv,
                         '--snapshot', 'volumes/%s' % other.name, '-L', '1g',
                         run_as_root=True)
        before = self.lab.holdings()
        err = self.assertRaises(exception.Ev3Error,
                                self.primary.revert_to_snapshot,
                                self.lab.ctx, volume, snapshot)
        self.assertIn('hci-0002@RBS (a snapshot of %s)' % other.name,
                      str(err))
        self.assert_unchanged(volume, before)

    def test_every_host_holding_it_reverts(self):
        volume, snapshot = self._snapshotted(hosts=3,
                                             drbd_version='9.2.12')
        self.primary.revert_to_snapshot(self.lab.ctx, volume, snapshot)
        for node in self.lab.nodes:
            self.assertEqual(b'snapshot data', node.sim.read(
                '/dev/volumes/%s' % volume.name, 0, 13), node.name)

    def test_snapshot_name_taken_by_another_volume_on_a_peer(self):
        volume, snapshot = self._snapshotted()
        other = self.lab.volume()
        self.primary.create_volume(other)
        self.lab.cluster.finish_syncs()
        again = new_snapshot(self.lab, other)
        again.id = snapshot.id       # the same LV name, another origin
        err = self.assertRaises(exception.ReplicaConflict,
                                self.primary.create_snapshot, again)
        self.assertIn('not a snapshot of %s' % other.name, str(err))
        self.assertIn('hci-0001@RBS', str(err))
        # The existing snapshot is untouched on every host.
        for node in self.lab.nodes:
            held = node.holdings()['lvs']['_' + snapshot.name]
            self.assertEqual(volume.name, held['origin'], node.name)
