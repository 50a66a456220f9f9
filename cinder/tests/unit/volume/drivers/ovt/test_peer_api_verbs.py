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
"""Peer API verbs of retype, revert and migration.

``set_protocol``, ``snapshot_info`` and ``release_replica``: a real server
on 127.0.0.1 in front of the stateful fake host of test_peer_api, which
learns these verbs here.
"""

import http.client
import json

from cinder.tests.unit import test
from cinder.tests.unit.volume.drivers.ovt import test_peer_api
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import peer_api
from cinder.volume.drivers.ovt import signing

SECRET = test_peer_api.SECRET
ME = test_peer_api.ME
PEER = test_peer_api.PEER
NAME = test_peer_api.NAME
SNAPSHOT = '_snapshot-6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b'


class FakeHost(test_peer_api.FakeHost):
    """The fake host, with protocols and snapshots."""

    def __init__(self):
        super(FakeHost, self).__init__()
        self.snapshots = {}
        self.plain = {}

    def set_protocol(self, name, protocol):
        self._enter()
        if self.frozen:
            raise exception.HostFrozen(host=self.backend_id,
                                       action='set_protocol')
        self._replica(name)['spec']['protocol'] = protocol
        return self._status(name)

    def release_replica(self, name, size_bytes):
        self._enter()
        replica = self.replicas.pop(name, None)
        if replica is not None:
            self.plain[name] = size_bytes

    def snapshot_info(self, snapshot):
        self._enter()
        origin = self.snapshots.get(snapshot)
        return {'snapshot': snapshot, 'exists': origin is not None,
                'origin': origin}


class NewVerbsTestCase(test.TestCase):

    def setUp(self):
        super(NewVerbsTestCase, self).setUp()
        self.host = FakeHost()
        self.server = peer_api.PeerServer('127.0.0.1', 0, SECRET, self.host,
                                          ME, test_peer_api.VG)
        self.server.start()
        self.addCleanup(self.server.stop)
        self.client = peer_api.PeerClient(ME, '127.0.0.1', self.server.port,
                                          SECRET, PEER, backoff_s=0.01)
        self.addCleanup(self.client.close)
        self.client.ensure_replica(NAME, test_peer_api.make_spec())

    def raw(self, path, body):
        headers = {'Content-Length': str(len(body))}
        headers.update(signing.Signer(SECRET, backend_id=PEER).sign(
            'POST', path, body))
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        conn.request('POST', path, body, headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def test_set_protocol_round_trips(self):
        status = self.client.set_protocol(NAME, 'A')
        self.assertEqual(NAME, status['name'])
        self.assertEqual('A', self.host.replicas[NAME]['spec']['protocol'])

    def test_set_protocol_refusals(self):
        for protocol in ('D', 'a', 1, None):
            err = self.assertRaises(exception.PeerError,
                                    self.client.set_protocol, NAME, protocol)
            self.assertIn('invalid_request', str(err))
        status, payload = self.raw('/v1/replicas/%s/protocol' % NAME,
                                   b'{"protocol": "A", "force": true}')
        self.assertEqual((400, 'invalid_request'),
                         (status, payload['error']['code']))
        self.assertEqual('C', self.host.replicas[NAME]['spec']['protocol'])
        self.assertRaises(exception.InvalidName, self.client.set_protocol,
                          '../etc', 'A')
        self.host.frozen = True
        self.assertRaises(exception.HostFrozen, self.client.set_protocol,
                          NAME, 'A')
        self.host.frozen = False
        other = test_peer_api.NAME2
        self.assertRaises(exception.ResourceNotFound,
                          self.client.set_protocol, other, 'A')

    def test_snapshot_info(self):
        self.assertEqual({'snapshot': SNAPSHOT, 'exists': False,
                          'origin': None},
                         self.client.snapshot_info(SNAPSHOT))
        self.host.snapshots[SNAPSHOT] = NAME
        self.assertEqual({'snapshot': SNAPSHOT, 'exists': True,
                          'origin': NAME},
                         self.client.snapshot_info(SNAPSHOT))
        for bad in ('volume-x', '../etc', '_snapshot-X'):
            status, payload = self.raw(
                '/v1/snapshots/info', json.dumps({'snapshot': bad}).encode())
            self.assertEqual(400, status, bad)
        status, payload = self.raw(
            '/v1/snapshots/info',
            json.dumps({'snapshot': SNAPSHOT, 'volume': NAME}).encode())
        self.assertEqual((400, 'invalid_request'),
                         (status, payload['error']['code']))

    def test_release_replica(self):
        self.assertIsNone(self.client.release_replica(NAME, 2 ** 30))
        self.assertEqual({NAME: 2 ** 30}, self.host.plain)
        self.assertEqual({}, self.host.replicas)
        for size in (0, -1, 1.5, '1g'):
            self.assertRaises(exception.PeerError,
                              self.client.release_replica, NAME, size)
        status, payload = self.raw('/v1/replicas/%s/release' % NAME,
                                   b'{"size_bytes": 1024, "keep": true}')
        self.assertEqual((400, 'invalid_request'),
                         (status, payload['error']['code']))
