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
"""Tests of the pure DRBD model: sizes, resource files, status parsing."""

import dataclasses
import json

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception

NAME = 'volume-0b5c3f7e-6a3d-4c1e-9f00-1234567890ab'
SECRET = 'f00dfeed' * 6
GiB = 1024 ** 3
V84 = drbd.DrbdVersion(kernel=(8, 4, 11), utils=(9, 22, 0))
V9 = drbd.DrbdVersion(kernel=(9, 2, 8), utils=(9, 27, 0))

VERSION_84 = """DRBDADM_BUILDTAG=GIT-hash:\\ 6ba7b8e\\ build\\ by\\ pbuild
DRBDADM_API_VERSION=1
DRBD_KERNEL_VERSION_CODE=0x08040b
DRBD_KERNEL_VERSION=8.4.11
DRBDADM_VERSION_CODE=0x091600
DRBDADM_VERSION=9.22.0
"""
VERSION_NO_MODULE = """DRBDADM_BUILDTAG=GIT-hash:\\ 6ba7b8e\\ build
DRBDADM_API_VERSION=1
DRBD_KERNEL_VERSION_CODE=0x000000
DRBDADM_VERSION_CODE=0x091600
DRBDADM_VERSION=9.22.0
"""

# /proc/drbd of DRBD 8.4 (drbd_proc.c layout): minor 0 in sync, 1 syncing,
# 2 unconfigured, 3 waiting for its peer, 10 StandAlone and suspended.
PROC_DRBD = """version: 8.4.11 (api:1/proto:86-101)
srcversion: 2A8F4AA6E03C3DB4B6FF3DA
 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
    ns:1048576 nr:0 dw:1048576 dr:2120 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1
 1: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:131072 nr:0 dw:0 dr:133184 al:8 bm:0 lo:0 pe:2 ua:0 ap:0 oos:917504
\t[=>..................] sync'ed: 12.5% (917504/1048508)K
\tfinish: 0:00:26 speed: 34,944 (34,944) K/sec
 2: cs:Unconfigured
 3: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----
    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0
10: cs:StandAlone ro:Primary/Unknown ds:UpToDate/DUnknown   s-----
    ns:0 nr:0 dw:4096 dr:0 al:1 bm:1 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:4096
"""

# drbdsetup status --json of drbd-utils 9 (layout of drbdsetup.c).
STATUS_JSON = json.dumps([
    {"name": "volume-a", "node-id": 0, "role": "Primary", "suspended": False,
     "write-ordering": "flush",
     "devices": [{"volume": 0, "minor": 1000, "disk-state": "UpToDate",
                  "client": False, "quorum": True, "size": 1048576,
                  "read": 0, "written": 0, "al-writes": 0, "bm-writes": 0,
                  "upper-pending": 0, "lower-pending": 0}],
     "connections": [
         {"peer-node-id": 1, "name": "hci-0002",
          "connection-state": "Connected", "congested": False,
          "peer-role": "Secondary", "ap-in-flight": 0, "rs-in-flight": 0,
          "peer_devices": [{"volume": 0, "replication-state": "SyncSource",
                            "peer-disk-state": "Inconsistent",
                            "peer-client": False, "resync-suspended": "no",
                            "received": 0, "sent": 4096, "out-of-sync": 9000,
                            "pending": 0, "unacked": 0,
                            "has-sync-details": True,
                            "has-online-verify-details": False,
                            "percent-in-sync": 40.25}]},
         {"peer-node-id": 2, "name": "hci-0003",
          "connection-state": "Connected", "peer-role": "Secondary",
          "peer_devices": [{"volume": 0, "replication-state": "Established",
                            "peer-disk-state": "UpToDate",
                            "percent-in-sync": 100.0}]}]},
    {"name": "volume-b", "node-id": 0, "role": "Secondary",
     "suspended": False,
     "devices": [{"volume": 0, "minor": 1001, "disk-state": "Outdated",
                  "size": 2048}],
     "connections": [{"peer-node-id": 1, "name": "hci-0002",
                      "connection-state": "Connecting",
                      "peer-role": "Unknown", "peer_devices": []}]},
])


def node(n, **kwargs):
    values = dict(backend_id='hci-000%d@RBS' % n, node_name='hci-000%d' % n,
                  node_id=n - 1, address='10.0.10.2%d' % n, port=7000 + n,
                  minor=1000 + n, volume_group='volumes')
    values.update(kwargs)
    return drbd.Node(**values)


def resource(nodes=None, **kwargs):
    values = dict(name=NAME, nodes=nodes or (node(1), node(2)),
                  protocol=drbd.Protocol.C, resync_rate_mib=100,
                  size_bytes=10 * GiB, thin=True, shared_secret=SECRET)
    values.update(kwargs)
    return drbd.Resource(**values)


class ProtocolTestCase(test.TestCase):

    def test_modes(self):
        self.assertEqual([drbd.Protocol.A, drbd.Protocol.B, drbd.Protocol.C],
                         [drbd.Protocol.from_mode(m)
                          for m in ('async', 'semi-sync', 'full-sync')])

    def test_unknown_mode_refused(self):
        self.assertRaises(exception.InvalidName, drbd.Protocol.from_mode,
                          'sync')

    def test_unknown_state_words_become_unknown(self):
        self.assertEqual(drbd.DiskState.UNKNOWN, drbd.DiskState('Melted'))
        self.assertEqual(drbd.Connection.UNKNOWN,
                         drbd.Connection('Wobbling'))
        self.assertEqual(drbd.Replication.UNKNOWN,
                         drbd.Replication('Sideways'))
        self.assertEqual(drbd.Role.UNKNOWN, drbd.Role(None))


class VersionTestCase(test.TestCase):

    def test_84_kernel_with_9_utils(self):
        version = drbd.DrbdVersion.parse(VERSION_84)
        self.assertEqual((8, 4, 11), version.kernel)
        self.assertEqual((9, 22, 0), version.utils)
        self.assertFalse(version.is_9)
        self.assertEqual('8.4.11', version.kernel_text)

    def test_9_kernel(self):
        text = VERSION_84.replace('0x08040b', '0x090208').replace(
            'DRBD_KERNEL_VERSION=8.4.11', 'DRBD_KERNEL_VERSION=9.2.8')
        version = drbd.DrbdVersion.parse(text)
        self.assertEqual((9, 2, 8), version.kernel)
        self.assertTrue(version.is_9)

    def test_module_not_loaded(self):
        version = drbd.DrbdVersion.parse(VERSION_NO_MODULE)
        self.assertIsNone(version.kernel)
        self.assertFalse(version.is_9)
        self.assertEqual('', version.kernel_text)
        self.assertEqual('9.22.0', version.utils_text)

    def test_garbage(self):
        self.assertRaises(drbd.ParseError, drbd.DrbdVersion.parse,
                          'drbdadm: command not found')


class SizeTestCase(test.TestCase):

    def _smallest_lv(self, usable, peers):
        lv = -(-usable // 4096) * 4096
        while drbd.usable_bytes(lv, peers) < usable:
            lv += 4096
        return lv

    def test_overhead_is_the_smallest_lv_that_fits(self):
        for usable in (4096, 1 << 20, 33 * 4096 * 8 * 4096 + 4096,
                       (1 << 30) - 4096, 1 << 30, 3 * (1 << 30) + 12288):
            for peers in (1, 2, 3):
                lv = usable + drbd.md_overhead_bytes(usable, peers)
                self.assertEqual(self._smallest_lv(usable, peers), lv,
                                 (usable, peers))

    def test_documented_estimate(self):
        # drbd.conf(5): 36 KiB + size / 32K per peer, rounded up to 4 KiB.
        usable = 10 * GiB
        overhead = drbd.md_overhead_bytes(usable, 1)
        self.assertGreaterEqual(overhead, 36 * 1024 + usable // 32768)
        self.assertLess(overhead, 36 * 1024 + usable // 32768 + 8192)
        self.assertGreater(drbd.md_overhead_bytes(usable, 2), overhead)

    def test_lv_size_whole_extents_and_fits(self):
        for usable in (GiB, 10 * GiB, 1000 * GiB):
            lv = drbd.lv_bytes_for(usable, 1)
            self.assertEqual(0, lv % (4 * 1024 ** 2))
            self.assertGreaterEqual(drbd.usable_bytes(lv, 1), usable)
            self.assertLess(lv - usable, 4 * 1024 ** 2 + 64 * 1024 ** 2)

    def test_tiny_peer_count_refused(self):
        self.assertRaises(exception.InvalidName, drbd.md_overhead_bytes,
                          GiB, 0)


class ResourceTestCase(test.TestCase):

    def test_spec_round_trip(self):
        res = resource()
        spec = res.to_spec()
        self.assertEqual(res, drbd.Resource.from_spec(NAME, spec, SECRET))
        self.assertNotIn('shared_secret', json.dumps(spec))
        self.assertEqual('/dev/volumes/%s' % NAME,
                         res.node('hci-0002@RBS').disk_path(NAME))
        self.assertIsNone(res.node('hci-0009@RBS'))

    def test_secret_not_in_repr(self):
        self.assertNotIn(SECRET, repr(resource()))

    def test_spec_with_unexpected_field_refused(self):
        spec = resource().to_spec()
        spec['extra'] = 1
        self.assertRaises(exception.InvalidName, drbd.Resource.from_spec,
                          NAME, spec, SECRET)
        spec = resource().to_spec()
        spec['nodes'][0]['disk'] = '/dev/sda'
        self.assertRaises(exception.InvalidName, drbd.Resource.from_spec,
                          NAME, spec, SECRET)

    def test_bad_fields_refused(self):
        bad_nodes = [dict(address='10.0.0.300'), dict(port=0),
                     dict(minor=-1), dict(volume_group='../etc'),
                     dict(node_name='a b'), dict(node_id=True),
                     dict(volume_group='..')]
        for bad in bad_nodes:
            self.assertRaises(exception.InvalidName, node, 1, **bad)
        self.assertRaises(exception.InvalidName, resource,
                          nodes=(node(1), node(2, node_name='hci-0001')))
        self.assertRaises(exception.InvalidName, resource, nodes=(node(1),))
        self.assertRaises(exception.InvalidName, resource, size_bytes=1000)
        self.assertRaises(exception.InvalidName, resource, name='../x')
        self.assertRaises(exception.InvalidName, resource,
                          shared_secret='a"b')

    def test_replace_revalidates(self):
        grown = dataclasses.replace(resource(), size_bytes=20 * GiB)
        self.assertEqual(20 * GiB, grown.size_bytes)
        self.assertRaises(exception.InvalidName, dataclasses.replace,
                          resource(), resync_rate_mib=0)


class RenderTestCase(test.TestCase):

    def test_84(self):
        text = drbd.render(resource(), V84)
        self.assertIn('protocol C;', text)
        self.assertIn('shared-secret "%s";' % SECRET, text)
        self.assertIn('resync-rate 100M;', text)
        self.assertIn('c-max-rate 100M;', text)
        self.assertIn('size 10485760K;', text)
        self.assertIn('    on hci-0002 {\n'
                      '        device /dev/drbd1002 minor 1002;\n'
                      '        disk /dev/volumes/%s;\n'
                      '        address 10.0.10.22:7002;\n'
                      '        meta-disk internal;\n'
                      '    }' % NAME, text)
        self.assertNotIn('node-id', text)
        self.assertNotIn('connection-mesh', text)
        self.assertEqual(text.count('{'), text.count('}'))

    def test_84_refuses_three_nodes(self):
        res = resource(nodes=(node(1), node(2), node(3)))
        error = self.assertRaises(exception.Ev3Error, drbd.render, res, V84)
        self.assertIn('DRBD 9', str(error))

    def test_9_three_nodes(self):
        res = resource(nodes=(node(1), node(2), node(3)),
                       protocol=drbd.Protocol.A)
        text = drbd.render(res, V9)
        self.assertIn('protocol A;', text)
        self.assertEqual(3, text.count('node-id '))
        self.assertIn('    on hci-0003 {\n        node-id 2;\n', text)
        self.assertIn('hosts hci-0001 hci-0002 hci-0003;', text)

    def test_ipv6_address(self):
        res = resource(nodes=(node(1, address='fd00::21'),
                              node(2, address='fd00::22')))
        self.assertIn('address ipv6 [fd00::22]:7002;',
                      drbd.render(res, V84))

    def test_header_round_trip_without_secret(self):
        res = resource()
        text = drbd.render(res, V84)
        header = drbd.parse_header(text)
        self.assertTrue(drbd.has_header(text))
        self.assertEqual(NAME, header.pop('name'))
        self.assertEqual(res, drbd.Resource.from_spec(NAME, header, SECRET))
        self.assertNotIn(SECRET, text.splitlines()[0])

    def test_no_secret_no_file(self):
        self.assertRaises(exception.Ev3Error, drbd.render,
                          resource(shared_secret=None), V84)

    def test_bad_headers(self):
        for text in ('resource r0 {\n}\n', '# ev3-resource: {nope\n',
                     '# ev3-resource: {"name": "../x"}\n', ''):
            self.assertRaises(ValueError, drbd.parse_header, text)


class ProcDrbdTestCase(test.TestCase):

    MINORS = {0: 'volume-0', 1: 'volume-1', 2: 'volume-2', 3: 'volume-3',
              10: 'volume-10', 42: 'volume-42'}

    def test_states(self):
        states = drbd.parse_proc_drbd(PROC_DRBD, self.MINORS)
        self.assertEqual(set(self.MINORS.values()), set(states))
        self.assertEqual(
            {'name': 'volume-0', 'minor': 0, 'role': 'Primary',
             'disk': 'UpToDate', 'size_bytes': None,
             'peers': [{'node_name': None, 'connection': 'Connected',
                        'role': 'Secondary', 'disk': 'UpToDate',
                        'replication': 'Established',
                        'sync_percent': None}]},
            states['volume-0'].to_dict())
        syncing = states['volume-1'].peers[0]
        self.assertEqual((drbd.Connection.CONNECTED,
                          drbd.Replication.SYNC_SOURCE,
                          drbd.DiskState.INCONSISTENT, 12.5),
                         (syncing.connection, syncing.replication,
                          syncing.disk, syncing.sync_percent))
        waiting = states['volume-3'].peers[0]
        self.assertEqual((drbd.Connection.CONNECTING, drbd.Replication.OFF,
                          drbd.Role.UNKNOWN, drbd.DiskState.DUNKNOWN),
                         (waiting.connection, waiting.replication,
                          waiting.role, waiting.disk))
        alone = states['volume-10']
        self.assertEqual(drbd.Connection.STANDALONE,
                         alone.peers[0].connection)
        self.assertTrue(alone.suspended)
        self.assertFalse(states['volume-0'].suspended)

    def test_unconfigured_and_absent_are_not_up(self):
        states = drbd.parse_proc_drbd(PROC_DRBD, self.MINORS)
        for name, minor in (('volume-2', 2), ('volume-42', 42)):
            self.assertEqual(
                {'name': name, 'minor': minor, 'role': 'Unknown',
                 'disk': 'Diskless', 'size_bytes': None, 'peers': []},
                states[name].to_dict())
            self.assertFalse(states[name].is_up)
        self.assertTrue(states['volume-0'].is_up)

    def test_only_named_minors(self):
        self.assertEqual(['volume-1'], list(drbd.parse_proc_drbd(
            PROC_DRBD, {1: 'volume-1'})))

    def test_unknown_words_and_lines(self):
        text = PROC_DRBD.replace('ds:UpToDate/UpToDate',
                                 'ds:UpToDate/Glowing') + 'GIT-hash: abc\n'
        states = drbd.parse_proc_drbd(text, {0: 'volume-0'})
        self.assertEqual(drbd.DiskState.UNKNOWN,
                         states['volume-0'].peers[0].disk)

    def test_garbage_names_the_line(self):
        for bad in (' 5: cs:Connected ro:Primary', 'garbage here',
                    ' 7: something'):
            error = self.assertRaises(drbd.ParseError, drbd.parse_proc_drbd,
                                      PROC_DRBD + bad + '\n', {})
            self.assertIn(repr(bad), str(error))
            self.assertIn('line 14', str(error))


class StatusJsonTestCase(test.TestCase):

    def test_states(self):
        states = drbd.parse_status_json(STATUS_JSON)
        first = states['volume-a']
        self.assertEqual((1000, drbd.Role.PRIMARY, drbd.DiskState.UPTODATE,
                          GiB),
                         (first.minor, first.role, first.disk,
                          first.size_bytes))
        self.assertEqual(
            [{'node_name': 'hci-0002', 'connection': 'Connected',
              'role': 'Secondary', 'disk': 'Inconsistent',
              'replication': 'SyncSource', 'sync_percent': 40.25},
             {'node_name': 'hci-0003', 'connection': 'Connected',
              'role': 'Secondary', 'disk': 'UpToDate',
              'replication': 'Established', 'sync_percent': None}],
            first.to_dict()['peers'])
        second = states['volume-b']
        self.assertEqual(drbd.DiskState.OUTDATED, second.disk)
        self.assertEqual((drbd.Connection.CONNECTING, drbd.Replication.OFF,
                          drbd.DiskState.DUNKNOWN),
                         (second.peers[0].connection,
                          second.peers[0].replication,
                          second.peers[0].disk))

    def test_dict_round_trip(self):
        for status in drbd.parse_status_json(STATUS_JSON).values():
            self.assertEqual(status,
                             drbd.ResourceStatus.from_dict(status.to_dict()))

    def test_empty(self):
        self.assertEqual({}, drbd.parse_status_json('[]'))

    def test_garbage(self):
        for bad in ('not json', '{"name": "x"}', '[{"role": "Primary"}]',
                    '[{"name": "x", "role": "Primary", '
                    '"connections": [{"name": "y"}]}]'):
            self.assertRaises(drbd.ParseError, drbd.parse_status_json, bad)
