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
"""DRBD meta data left on freed extents, and ``drbdadm wipe-md``.

Found on the real-kernel lab (Debian 12, LVM 2.03.16, drbd-utils 9.22,
DRBD 8.4.11): a replicated volume deleted without wiping its meta data
left the DRBD superblock at the end of its LV's last extent; Cinder's next
thick ``lvcreate`` of the same size took the same extents, LVM's signature
wipe found the superblock at the end of the new LV and, with no tty,
refused (exit 5, the text below) and created nothing.  ``drbdadm -- --force
wipe-md`` of the resource, down, erases it (the texts below, exit 0; once
more: "no drbd meta data", exit 0).
"""

from cinder import exception as cinder_exception
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.tests.unit.volume.drivers.ovt import test_sim

ROOT = test_sim.ROOT
MiB = test_sim.MiB
LAB_LV = 'volume-cb778126-2360-4bcd-bc27-5bde861227ea'
# Real stderr of "lvcreate -n LAB_LV volumes -L 1028m" over the extents of a
# removed 1028 MiB LV that held DRBD meta data.
REAL_LVCREATE = (
    'WARNING: drbd signature detected on /dev/volumes/%(lv)s at offset '
    '1077932092. Wipe it? [y/n]: [n]\n'
    '  Aborted wiping of drbd.\n'
    '  1 existing signature left on the device.\n'
    '  Failed to wipe signatures on logical volume volumes/%(lv)s.\n'
    '  Aborting. Failed to wipe start of new LV.\n' % {'lv': LAB_LV})
REAL_WIPE_ERR = ('Do you really want to wipe out the DRBD meta data?\n'
                 '*** confirmation forced via --force option ***\n')
REAL_WIPE_OUT = ('Wiping meta data...\n'
                 'DRBD meta data block successfully wiped out.\n')
REAL_WIPE_NONE = 'There appears to be no drbd meta data to wipe out?\n'


class WipeMdTest(test_sim.SimTestCase):
    """lvcreate over a removed replica's extents, with and without wipe-md."""

    def setUp(self):
        super(WipeMdTest, self).setUp()
        self.replica('r0', size='1028m')

    def create(self, host, name, size='1028m', *options):
        return host.run(['lvcreate', '-n', name, 'volumes', '-L', size] +
                        list(options))

    def remove(self, host, wipe):
        self.adm(host, 'down', 'r0')
        if wipe:
            self.assertEqual(
                (0, REAL_WIPE_OUT, REAL_WIPE_ERR),
                host.run(['drbdadm', '--', '--force', 'wipe-md', 'r0']))
        host.execute('lvremove', '-f', 'volumes/r0', **ROOT)

    def test_lvcreate_over_left_meta_data_refuses_like_lvm(self):
        extents = self.a.lv_extents('r0')
        self.remove(self.a, wipe=False)
        self.assertEqual([1077932092], self.a.stale_signatures())
        self.assertEqual((5, '', REAL_LVCREATE),
                         self.create(self.a, LAB_LV))
        self.assertNotIn(LAB_LV, self.a.lvs())
        self.assertEqual([1077932092], self.a.stale_signatures())
        # Where the removed LV was, so only LVM's wipe stood in the way.
        self.assertEqual((0, '  Logical volume "%s" created.\n' % LAB_LV,
                          ''), self.create(self.a, LAB_LV, '1028m', '-Wn'))
        self.assertEqual(extents, self.a.lv_extents(LAB_LV))

    def test_wipe_md_before_removal_lets_the_same_lv_be_created(self):
        extents = self.a.lv_extents('r0')
        self.remove(self.a, wipe=True)
        self.assertEqual([], self.a.stale_signatures())
        self.assertEqual(0, self.create(self.a, LAB_LV)[0])
        self.assertEqual(extents, self.a.lv_extents(LAB_LV))
        self.assertEqual({'size_bytes': 1028 * MiB, 'has_drbd_md': False},
                         {k: self.a.lvs()[LAB_LV][k]
                          for k in ('size_bytes', 'has_drbd_md')})

    def test_wipe_md_refused_while_the_device_is_up(self):
        code, _out, err = self.a.run(['drbdadm', '--', '--force', 'wipe-md',
                                      'r0'])
        self.assertEqual(20, code)
        self.assertIn("Device '1' is configured!", err)
        self.assertTrue(self.a.lvs()['r0']['has_drbd_md'])
        self.assertIn('r0', self.a.drbd())

    def test_wipe_md_twice_is_quiet(self):
        self.adm(self.a, 'down', 'r0')
        for out, err in ((REAL_WIPE_OUT, REAL_WIPE_ERR),
                         ('', REAL_WIPE_NONE)):
            self.assertEqual((0, out, err), self.a.run(
                ['drbdadm', '--', '--force', 'wipe-md', 'r0']))
            self.assertFalse(self.a.lvs()['r0']['has_drbd_md'])
        exc = self.refused(self.a, 'drbdadm', 'up', 'r0')
        self.assertIn('No valid meta-data signature found', exc.stderr)

    def test_wipe_md_without_force_needs_yes(self):
        self.adm(self.a, 'down', 'r0')
        code, out, err = self.a.run(['drbdadm', 'wipe-md', 'r0'])
        self.assertEqual((1, 'Operation cancelled.\n'), (code, out))
        self.assertIn("[need to type 'yes' to confirm]", err)
        self.assertTrue(self.a.lvs()['r0']['has_drbd_md'])
        self.assertEqual((0, REAL_WIPE_OUT), self.a.run(
            ['drbdadm', 'wipe-md', 'r0'], process_input='yes\n')[:2])
        self.assertFalse(self.a.lvs()['r0']['has_drbd_md'])

    def test_lvreduce_leaves_the_cut_meta_data_on_the_pv(self):
        self.adm(self.a, 'down', 'r0')
        self.a.execute('lvreduce', '-f', '-L', '1024m', 'volumes/r0', **ROOT)
        self.assertEqual([1077932092], self.a.stale_signatures())
        code, _out, err = self.create(self.a, 'tiny', '4m')
        self.assertEqual(5, code)
        self.assertIn('/dev/volumes/tiny at offset %d.' % (4 * MiB - 4036),
                      err)

    def test_yes_wipes_the_signature(self):
        self.remove(self.a, wipe=False)
        code, out, _err = self.create(self.a, LAB_LV, '1028m', '-y')
        self.assertEqual(0, code)
        self.assertIn('Wiping drbd signature on /dev/volumes/%s.' % LAB_LV,
                      out)
        self.assertEqual([], self.a.stale_signatures())
        self.a.execute('lvremove', '-f', 'volumes/' + LAB_LV, **ROOT)
        self.assertEqual(0, self.create(self.a, 'again')[0])


class LeftSuperblockTest(test_sim.SimTestCase):
    """blkid finds DRBD meta data only at the end of the new LV."""

    def setUp(self):
        super(LeftSuperblockTest, self).setUp()
        self.replica('r0', size='64m', hosts=[self.a])
        self.adm(self.a, 'down', 'r0')
        self.a.execute('lvremove', '-f', 'volumes/r0', **ROOT)

    def create(self, name, size):
        return self.a.run(['lvcreate', '-n', name, 'volumes', '-L', size])

    def test_a_larger_lv_over_it_is_created_and_carries_it(self):
        self.assertEqual(0, self.create('big', '128m')[0])
        self.assertEqual([[0, 32]], self.a.lv_extents('big'))
        self.assertEqual([], self.a.stale_signatures())
        self.assertEqual(b'\x83\x74\x02\x6b', self.a.read(
            '/dev/volumes/big', 64 * MiB - 4096 + 60, 4))
        self.a.execute('lvremove', '-f', 'volumes/big', **ROOT)
        self.assertEqual([64 * MiB - 4096 + 60], self.a.stale_signatures())
        self.assertEqual(5, self.create('same', '64m')[0])

    def test_a_write_over_it_erases_it(self):
        self.assertEqual(0, self.create('big', '128m')[0])
        self.a.write('/dev/volumes/big', 64 * MiB - 4096, b'\0' * 4096)
        self.a.execute('lvremove', '-f', 'volumes/big', **ROOT)
        self.assertEqual([], self.a.stale_signatures())
        self.assertEqual(0, self.create('same', '64m')[0])

    def test_an_lv_ending_on_it_after_another_lv_is_refused(self):
        self.assertEqual(0, self.create('small', '4m')[0])
        code, _out, err = self.create('rest', '60m')
        self.assertEqual(5, code)
        self.assertIn('at offset %d.' % (60 * MiB - 4096 + 60), err)
        self.assertNotIn('rest', self.a.lvs())

    def test_drbdmeta_sees_it_at_the_end_of_an_lv(self):
        self.assertEqual(0, self.a.run(['lvcreate', '-n', 'r0', 'volumes',
                                        '-L', '64m', '-W', 'n'])[0])
        code, _out, err = self.a.run(['drbdadm', 'create-md', 'r0'])
        self.assertEqual(20, code)
        self.assertIn('meta data block\nalready in place', err)
        self.assertEqual((0, REAL_WIPE_OUT, REAL_WIPE_ERR), self.a.run(
            ['drbdadm', '--', '--force', 'wipe-md', 'r0']))
        self.a.execute('lvremove', '-f', 'volumes/r0', **ROOT)
        self.assertEqual([], self.a.stale_signatures())

    def test_create_md_overwrites_it(self):
        self.assertEqual(0, self.a.run(['lvcreate', '-n', 'r0', 'volumes',
                                        '-L', '64m', '--wipesignatures',
                                        'n'])[0])
        self.adm(self.a, '--', '--force', 'create-md', 'r0')
        self.adm(self.a, '--', '--force', 'wipe-md', 'r0')
        self.a.execute('lvremove', '-f', 'volumes/r0', **ROOT)
        self.assertEqual([], self.a.stale_signatures())
        self.assertEqual(0, self.create('same', '64m')[0])


class ResizeTest(test_sim.SimTestCase):
    """A grown replica's old superblock stays in its data."""

    def test_resize_leaves_the_old_superblock_behind(self):
        """DRBD moves its meta data to the new end and keeps the old block.

        From DRBD's drbd_determine_dev_size (8.4 and 9): the superblock is
        written at its new offset, the old one is not erased; a resync of
        the new area copies the Primary's to the peers.  Not yet measured
        on the lab.
        """
        self.replica('r1', minor=2, port=7002, size='64m')
        self.adm(self.a, 'primary', '--force', 'r1')
        self.cluster.finish_syncs()
        for host in (self.a, self.b):
            host.execute('lvextend', '-L', '128m', 'volumes/r1', **ROOT)
        self.adm(self.a, 'resize', 'r1')
        self.cluster.finish_syncs()
        old = 64 * MiB - 4096 + 60
        self.assertEqual(b'\x83\x74\x02\x6b',
                         self.a.read('/dev/drbd2', old, 4))
        self.assertEqual(self.a.fingerprint('/dev/drbd2'),
                         self.b.fingerprint('/dev/drbd2'))
        self.adm(self.a, 'secondary', 'r1')
        self.adm(self.a, 'down', 'r1')
        self.adm(self.a, '--', '--force', 'wipe-md', 'r1')
        self.a.execute('lvremove', '-f', 'volumes/r1', **ROOT)
        self.assertEqual([old], self.a.stale_signatures())
        self.assertEqual(5, self.a.run(['lvcreate', '-n', 'again', 'volumes',
                                        '-L', '64m'])[0])


class ExtentsTest(test_sim.SimTestCase):
    """Extents are allocated as LVM's normal policy allocates them."""

    def create(self, name, size):
        self.a.execute('lvcreate', '-n', name, 'volumes', '-L', size, **ROOT)

    def test_largest_free_area_first_then_the_next(self):
        for name in ('a', 'b'):
            self.create(name, '64m')
        # 10 GiB VG: 2559 extents; leave 8 free at the end.
        self.create('fill', '%dm' % ((2559 - 32 - 8) * 4))
        self.assertEqual([[32, 2519]], self.a.lv_extents('fill'))
        self.a.execute('lvremove', '-f', 'volumes/a', **ROOT)
        self.create('x', '96m')
        self.assertEqual([[0, 16], [2551, 8]], self.a.lv_extents('x'))

    def test_new_lv_skips_a_smaller_hole(self):
        for name in ('a', 'b'):
            self.create(name, '64m')
        self.a.execute('lvremove', '-f', 'volumes/a', **ROOT)
        self.create('c', '32m')
        self.assertEqual([[32, 8]], self.a.lv_extents('c'))

    def test_lvextend_continues_contiguously_when_it_can(self):
        for name in ('a', 'b'):
            self.create(name, '64m')
        self.a.execute('lvremove', '-f', 'volumes/b', **ROOT)
        self.a.execute('lvextend', '-L', '128m', 'volumes/a', **ROOT)
        self.assertEqual([[0, 32]], self.a.lv_extents('a'))
        self.create('c', '64m')
        self.a.execute('lvextend', '-L', '192m', 'volumes/a', **ROOT)
        self.assertEqual([[0, 32], [48, 16]], self.a.lv_extents('a'))


class DriverWipesMdTest(test_lifecycle.LabTestCase):
    """The driver wipes DRBD meta data before it removes a replica's LV."""

    def test_a_volume_after_a_deleted_one_lands_on_its_extents(self):
        self.start_lab()
        first = self.lab.volume(size=1)
        self.primary.create_volume(first)
        self.lab.cluster.finish_syncs()
        where = {node.name: node.sim.lv_extents(first.name)
                 for node in self.lab.nodes}
        self.primary.delete_volume(first)
        self.assert_nothing_of(first)
        second = self.lab.volume(size=1)
        self.primary.create_volume(second)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(second, 1)
        for node in self.lab.nodes:
            self.assertEqual(where[node.name],
                             node.sim.lv_extents(second.name), node.name)
            self.assertEqual([], node.sim.stale_signatures(), node.name)

    def test_a_rolled_back_replica_leaves_no_meta_data(self):
        self.start_lab()
        peer = self.lab.node(1)
        self.lab.cluster.fail_next(peer.name, ['drbdadm', 'up'],
                                   'up: simulated failure', 10)
        first = self.lab.volume(size=1)
        self.assertRaises(cinder_exception.VolumeBackendAPIException,
                          self.primary.create_volume, first)
        self.assert_nothing_of(first)
        second = self.lab.volume(size=1)
        self.primary.create_volume(second)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(second, 1)
        self.assertEqual([], peer.sim.stale_signatures())

    def test_an_extended_volume_leaves_no_old_superblock(self):
        """Grow 1 -> 2 GiB, delete without clearing, create 1 GiB again.

        DRBD leaves the 1 GiB superblock inside the grown area; measured in
        the lab, the next 1 GiB LV on those extents ends exactly on it.
        """
        self.start_lab(volume_clear='none')
        first = self.lab.volume(size=1)
        self.primary.create_volume(first)
        self.lab.cluster.finish_syncs()
        self.primary.extend_volume(first, 2)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(first, 2)
        self.primary.delete_volume(first)
        self.assert_nothing_of(first)
        for node in self.lab.nodes:
            self.assertEqual([], node.sim.stale_signatures(), node.name)
        second = self.lab.volume(size=1)
        self.primary.create_volume(second)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(second, 1)
