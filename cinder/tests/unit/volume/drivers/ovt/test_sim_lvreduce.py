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
"""The simulator's ``lvreduce`` (a migration cuts DRBD's metadata off)."""

from cinder.tests.unit.volume.drivers.ovt import test_sim

ROOT = test_sim.ROOT
MiB = test_sim.MiB


class LvreduceTest(test_sim.SimTestCase):

    def lvreduce(self, *args):
        return self.a.execute('env', 'LC_ALL=C', 'lvreduce', *args, **ROOT)

    def test_cuts_the_tail_and_keeps_the_head(self):
        self.lvcreate(self.a, 'lv0', '68m')
        self.a.write('/dev/volumes/lv0', 0, b'head')
        out, _err = self.lvreduce('-f', '-L', '64m', 'volumes/lv0')
        self.assertIn('successfully resized', out)
        self.assertEqual(64 * MiB, self.a.lvs()['lv0']['size_bytes'])
        self.assertEqual(b'head', self.a.read('/dev/volumes/lv0', 0, 4))

    def test_refusals_change_nothing(self):
        self.replica(size='68m')
        self.lvcreate(self.a, 'lv1', '64m')
        cases = ((('-L', '32m', 'volumes/lv1'), 'Do you really want'),
                 (('-f', '-L', '64m', 'volumes/lv1'), 'matches existing'),
                 (('-f', '-L', '128m', 'volumes/lv1'), 'not less than'),
                 (('-f', '-L', '32m', 'volumes/r0'), 'in use'))
        for args, words in cases:
            exc = self.refused(self.a, 'env', 'LC_ALL=C', 'lvreduce', *args)
            self.assertEqual(5, exc.exit_code, args)
            self.assertIn(words, exc.stderr)
        self.assertEqual(64 * MiB, self.a.lvs()['lv1']['size_bytes'])
        self.assertEqual(68 * MiB, self.a.lvs()['r0']['size_bytes'])
        self.assertTrue(self.a.lvs()['r0']['has_drbd_md'])

    def test_drbd_metadata_in_the_tail_is_gone(self):
        self.replica(size='68m')
        self.adm(self.a, 'down', 'r0')
        self.lvreduce('-f', '-L', '64m', 'volumes/r0')
        self.assertFalse(self.a.lvs()['r0']['has_drbd_md'])
        exc = self.refused(self.a, 'drbdadm', 'up', 'r0')
        self.assertIn('No valid meta-data signature found', exc.stderr)
