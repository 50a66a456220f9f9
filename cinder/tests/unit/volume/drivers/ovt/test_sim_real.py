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
"""The simulator and the parser pinned to what a real DRBD 8.4.11 printed.

The texts below were read on real Debian 12 guests (kernel 6.1, DRBD
8.4.11, drbd-utils 9.22) in the ev3 lab (tools/lab.sh drill); where the
simulator printed otherwise, it was corrected and these tests keep it so.
"""

import os
import re

from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.volume.drivers.ovt import drbd

REAL_PROC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'real_proc_drbd_8411.txt')
# Real: "\tfinish: 0:00:33 speed: 27,776 (27,776) want: 9,280 K/sec" on the
# SyncTarget, the same without "want: ..." on the SyncSource.
FINISH_RE = re.compile(r'^\tfinish: \d+:\d\d:\d\d speed: [\d,]+ \([\d,]+\)'
                       r'(?P<want> want: [\d,]+)? K/sec$')
# Real stderr of "drbdadm down" while LIO holds the device, exit code 11.
REAL_DOWN_HELD = (
    '%(name)s: State change failed: (-12) Device is held open by someone\n'
    'additional info from kernel:\n'
    'failed to demote\n'
    "Command 'drbdsetup-84 down %(name)s' terminated with exit code 11\n")


def _snapshots():
    with open(REAL_PROC) as handle:
        text = handle.read()
    return [block.partition('\n')[2] for block in text.split('### ')[1:]]


class RealProcDrbdTestCase(test_lifecycle.LabTestCase):

    def test_every_real_snapshot_parses(self):
        seen = set()
        for text in _snapshots():
            status = drbd.parse_proc_drbd(text, {0: 'volume-x'})['volume-x']
            seen.add((status.role.value, status.disk.value))
        self.assertEqual({('Primary', 'UpToDate'),
                          ('Secondary', 'Inconsistent'),
                          ('Secondary', 'UpToDate')}, seen)

    def test_real_progress_lines_have_the_pinned_shape(self):
        lines = [line for text in _snapshots()
                 for line in text.splitlines() if 'finish:' in line]
        self.assertEqual(2, len(lines))
        for line in lines:
            self.assertIsNotNone(FINISH_RE.match(line), line)

    def test_simulated_progress_lines_match_the_real_ones(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        for node, state, want in ((self.lab.node(0), 'SyncSource', False),
                                  (self.lab.node(1), 'SyncTarget', True)):
            _code, out, _err = node.sim.run(['cat', '/proc/drbd'])
            self.assertIn('cs:%s' % state, out)
            finish = [line for line in out.splitlines() if 'finish:' in line]
            self.assertEqual(1, len(finish), out)
            match = FINISH_RE.match(finish[0])
            self.assertIsNotNone(match, finish[0])
            self.assertEqual(want, match.group('want') is not None, state)

    def test_down_of_a_held_device_says_what_the_real_one_says(self):
        self.start_lab()
        volume = self.lab.volume(size=1)
        self.primary.create_volume(volume)
        node = self.lab.node(0)
        device = self.primary.local_path(volume)
        node.sim.hold(device)
        code, _out, err = node.sim.run(['drbdadm', 'down', volume.name])
        self.assertEqual(11, code)
        self.assertEqual(REAL_DOWN_HELD % {'name': volume.name}, err)
        node.sim.release(device)
        self.assertIn(volume.name, node.holdings()['drbd'])
