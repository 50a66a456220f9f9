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
"""The failover benchmark's core (bench/failover_scale.py) at small N.

It asserts what bench/README.rst claims: the driver's failover uses the same
number of DRBD commands and peer requests for 1 and for 3 volumes, while the
per-volume baseline grows with N.  No timing is asserted.  The benchmark is
part of the source tree, not of the installed package: it is found through
``EV3_SOURCE_DIR`` (tools/run-tests.sh sets it) or, in a development venv
whose test folder links to the checkout, next to this file's real path.
"""

import importlib.util
import os

from cinder.tests.unit import test


def _bench_path():
    here = os.path.realpath(__file__)
    checkout = here
    for _level in range(7):     # .../cinder/tests/unit/volume/drivers/ovt/f
        checkout = os.path.dirname(checkout)
    for root in (os.environ.get('EV3_SOURCE_DIR'), checkout):
        if root:
            path = os.path.join(root, 'bench', 'failover_scale.py')
            if os.path.isfile(path):
                return path
    return None


def _load(path):
    spec = importlib.util.spec_from_file_location('ev3_bench_failover_scale',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FailoverScaleSmokeTestCase(test.TestCase):

    def setUp(self):
        super(FailoverScaleSmokeTestCase, self).setUp()
        path = _bench_path()
        if path is None:
            self.skipTest('bench/failover_scale.py not found: set '
                          'EV3_SOURCE_DIR to the ev3 source tree')
        self.bench = _load(path)

    def _rows(self, size):
        rows = self.bench.run_size(size, say=lambda message: None)
        return {row.scenario: row for row in rows}

    def test_batched_counts_do_not_grow_with_volumes(self):
        one, three = self._rows(1), self._rows(3)
        self.assertEqual({self.bench.SWITCHOVER, self.bench.DISASTER},
                         set(three))
        for scenario, row in sorted(three.items()):
            small = one[scenario]
            # Batched: the same commands per host and requests per verb.
            self.assertEqual(small.batched.commands, row.batched.commands,
                             scenario)
            self.assertEqual(small.batched.requests, row.batched.requests,
                             scenario)
            # Naive: three times what one volume costs.
            self.assertEqual({h: 3 * n for h, n in
                              small.naive.commands.items()},
                             row.naive.commands, scenario)
            self.assertEqual({v: 3 * n for v, n in
                              small.naive.requests.items()},
                             row.naive.requests, scenario)
            self.assertLess(row.batched.drbd_commands,
                            row.naive.drbd_commands, scenario)
        switch, disaster = (three[self.bench.SWITCHOVER],
                            three[self.bench.DISASTER])
        # One snapshot request and one batched promotion on the peer.
        self.assertEqual({'failover_view': 1, 'promote_many': 1},
                         switch.batched.requests)
        self.assertEqual({'promote': 3}, switch.naive.requests)
        # The dead host is asked once for its view, then left alone.
        self.assertEqual({'failover_view': 1}, disaster.batched.requests)
        self.assertEqual({}, disaster.naive.requests)
        self.assertEqual({'hci-0002'}, set(disaster.batched.commands))

    def test_drbd_commands_are_recognised(self):
        self.assertTrue(self.bench.is_drbd_command('drbdadm',
                                                   ['secondary', 'r0']))
        self.assertTrue(self.bench.is_drbd_command('cat', ['/proc/drbd']))
        self.assertFalse(self.bench.is_drbd_command('cat', ['/etc/hosts']))
        self.assertFalse(self.bench.is_drbd_command('lvs', []))
