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
"""The simulator's ``drbdadm adjust`` of the replication protocol.

DRBD 8.4 and 9 change the protocol of a connected resource in place
(``drbdsetup net-options``): the connection stays up, no resync starts and
the connected peer takes the new protocol over.  The kernel refuses what
``_check_net_options`` refuses, changing nothing.
"""

from cinder.tests.unit.volume.drivers.ovt import test_sim

ROOT = test_sim.ROOT


def with_protocol(text, protocol):
    """``text`` of a resource file with another protocol."""
    return text.replace('protocol C;', 'protocol %s;' % protocol)


class AdjustProtocolTest(test_sim.SimTestCase):

    def _connected(self, hosts=None, **kwargs):
        hosts = hosts or [self.a, self.b]
        text = self.replica(hosts=hosts, **kwargs)
        self.adm(hosts[0], 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        return text

    def _protocols(self, hosts):
        return [host.drbd()['r0']['protocol'] for host in hosts]

    def test_connected_resource_changes_protocol_in_place(self):
        text = self._connected()
        self.a.write('/dev/drbd1', 0, b'before')
        self.a.resource_files.write('r0', with_protocol(text, 'A'))
        self.adm(self.a, 'adjust', 'r0')
        # Still connected, nothing to resync, and the peer follows.
        self.assertEqual(('Connected', 'Established', 'UpToDate'),
                         (self.peer(self.a)['connection'],
                          self.peer(self.a)['replication'],
                          self.peer(self.a)['disk']))
        self.assertEqual(['A', 'A'], self._protocols([self.a, self.b]))
        self.assertIn(' A r-----', self.b.execute('cat', '/proc/drbd')[0])
        self.a.write('/dev/drbd1', 0, b'after!')
        self.assertEqual(b'after!', self.b.read('/dev/volumes/r0', 0, 6))
        # The peer's adjust to the same file changes nothing more.
        self.b.resource_files.write('r0', with_protocol(text, 'A'))
        self.adm(self.b, 'adjust', 'r0')
        self.assertEqual('Connected', self.peer(self.b)['connection'])
        # Both files agree: a reconnect is accepted.
        self.cluster.partition('hci-1', 'hci-2')
        self.cluster.heal('hci-1', 'hci-2')
        self.assertEqual('Connected', self.peer(self.a)['connection'])
        self.assertEqual(['A', 'A'], self._protocols([self.a, self.b]))

    def test_peer_with_old_file_is_refused_at_its_next_handshake(self):
        text = self._connected()
        self.cluster.partition('hci-1', 'hci-2')
        self.a.resource_files.write('r0', with_protocol(text, 'B'))
        self.adm(self.a, 'adjust', 'r0')
        self.assertEqual(['B', 'C'], self._protocols([self.a, self.b]))
        self.cluster.heal('hci-1', 'hci-2')
        self.assertEqual('StandAlone', self.peer(self.a)['connection'])

    def test_two_primaries_need_protocol_c(self):
        text = self._connected(net='        allow-two-primaries yes;')
        self.a.resource_files.write('r0', with_protocol(text, 'A'))
        exc = self.refused(self.a, 'drbdadm', 'adjust', 'r0')
        self.assertEqual(10, exc.exit_code)
        self.assertIn('(139) Protocol C required', exc.stderr)
        self.assertIn('net-options', exc.stderr)
        self.assertEqual(['C', 'C'], self._protocols([self.a, self.b]))
        self.assertEqual('Connected', self.peer(self.a)['connection'])

    def test_protocol_a_refused_with_stonith_fencing(self):
        text = self._connected(disk='        fencing resource-and-stonith;')
        self.a.resource_files.write('r0', with_protocol(text, 'A'))
        exc = self.refused(self.a, 'drbdadm', 'adjust', 'r0')
        self.assertIn('(154) Fencing policy resource-and-stonith only with '
                      'prot B or C allowed', exc.stderr)
        self.assertEqual(['C', 'C'], self._protocols([self.a, self.b]))
        # Protocol B is allowed with that fencing policy.
        self.a.resource_files.write('r0', with_protocol(text, 'B'))
        self.adm(self.a, 'adjust', 'r0')
        self.assertEqual(['B', 'B'], self._protocols([self.a, self.b]))

    def test_two_primaries_cannot_be_cleared_while_both_are_primary(self):
        text = self._connected(net='        allow-two-primaries yes;')
        self.adm(self.b, 'primary', 'r0')
        self.a.resource_files.write('r0', text.replace(
            'allow-two-primaries yes;', ''))
        exc = self.refused(self.a, 'drbdadm', 'adjust', 'r0')
        self.assertIn('(164) Can not clear allow_two_primaries', exc.stderr)
        self.assertEqual('Primary', self.b.drbd()['r0']['role'])

    def test_drbd9_every_connected_peer_follows(self):
        hosts = [self.cluster.add_host('n%d' % i, vg_size_gib=10,
                                       drbd_version='9.2.12')
                 for i in range(3)]
        text = self._connected(hosts=hosts, nine=True)
        hosts[0].resource_files.write('r0', with_protocol(text, 'B'))
        self.adm(hosts[0], 'adjust', 'r0')
        self.assertEqual(['B', 'B', 'B'], self._protocols(hosts))
        for peer in hosts[0].drbd()['r0']['peers'].values():
            self.assertEqual(('Connected', 'Established'),
                             (peer['connection'], peer['replication']))
