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
"""A storage host killed hard, as its peers really see it.

In the real-kernel lab (DRBD 8.4.11), a host whose VM gets SIGKILL stops
answering TCP SYNs on its peer API address: the other host's requests end
in connect timeouts (four attempts of 3.05 s plus 1.75 s of backoff, about
14 s per request) and the error says "cannot connect to http://IP:PORT
(timed out)".  These tests crash hosts with ``Node.crash(silent=True)``,
which gives the same silence on 127.0.0.1, so each call to the dead host
costs real seconds: every test makes at most one.
"""

import logging
import socket

import fixtures

from cinder import exception as cinder_exception
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.tests.unit.volume.drivers.ovt import test_runbook

CONNECTOR = test_lifecycle.CONNECTOR
PATTERN = test_runbook.PATTERN
LATER = b'written after the failover'


def _connect(port, timeout=1):
    """Open and close a TCP connection to 127.0.0.1:``port``."""
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    sock.close()


class DeadPeerTestCase(test_lifecycle.LabTestCase):
    """Hosts whose peer API is silent after a crash."""

    def setUp(self):
        super(DeadPeerTestCase, self).setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume.drivers.ovt', level=logging.INFO))

    def timed_out(self, node):
        """What a peer's error says of ``node``'s silent API."""
        return 'cannot connect to http://127.0.0.1:%d (timed out)' % node.port

    def test_silent_port_times_out_refused_port_refuses(self):
        self.start_lab()
        refused, silent = self.lab.node(0), self.lab.node(1)
        refused.crash()
        silent.crash(silent=True)
        self.assertRaises(ConnectionRefusedError, _connect, refused.port)
        self.assertRaises(socket.timeout, _connect, silent.port)
        # Booted again, the host serves its API on the same port.
        silent.restart()
        _connect(silent.port)
        self.assertIsNone(silent.silent_port)

    def test_disaster_failover_past_a_silent_primary(self):
        self.start_lab()
        standby = self.lab.node(1).driver
        self.assertEqual(('hci-0001@RBS', [], []), standby.failover_host(
            self.lab.ctx, [], secondary_id='hci-0001@RBS'))
        volume = self.attached_volume_with(PATTERN)
        dead = self.lab.node(0)
        dead.crash(silent=True)

        self.assertEqual(('default', [], []), standby.failover_host(
            self.lab.ctx, [], secondary_id='default'))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        self.assertEqual({}, dead.holdings()['drbd'])
        self.assertIn('Host hci-0001@RBS is unreachable for the failover '
                      'snapshot: Peer hci-0001@RBS: failover_view: %s'
                      % self.timed_out(dead), self.log.output)
        device = standby.local_path(volume)
        self.assertEqual(PATTERN, self.lab.node(1).sim.read(
            device, 0, len(PATTERN)))
        self.lab.node(1).sim.write(device, 8192, LATER)

        # The dead host boots on the same API port, returns as Secondary
        # and resyncs what was written while it was away.
        dead.restart()
        self.lab.cluster.finish_syncs()
        self.assertEqual({volume.name: 'Secondary'}, dead.roles())
        self.assertEqual({}, dead.holdings()['targets'])
        lv = '/dev/volumes/%s' % volume.name
        for node in self.lab.nodes:
            held = node.holdings()['drbd'][volume.name]
            self.assertEqual('UpToDate', held['disk'], node.name)
            self.assertEqual(LATER, node.sim.read(lv, 8192, len(LATER)),
                             node.name)

    def test_create_with_a_silent_peer_fails_and_leaves_nothing(self):
        self.start_lab()
        live, dead = self.lab.node(0), self.lab.node(1)
        dead.crash(silent=True)
        volume = self.lab.volume()
        err = self.assertRaises(cinder_exception.VolumeBackendAPIException,
                                self.primary.create_volume, volume)
        self.assertIn('Peer hci-0002@RBS: describe: %s'
                      % self.timed_out(dead), str(err))
        self.assert_nothing_of(volume, nodes=[live])
        self.assertEqual({}, live.holdings()['drbd'])
        self.assertEqual({}, live.holdings()['targets'])

        # Nothing is left to clean up either: once the peer is back, the
        # same volume is created on both hosts.
        dead.restart()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 1)
