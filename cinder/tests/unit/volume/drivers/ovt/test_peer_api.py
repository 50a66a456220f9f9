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
"""Tests of the peer API: a real server on 127.0.0.1 and a stateful fake."""

import copy
import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from unittest import mock

import fixtures
import requests
import urllib3.exceptions

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import peer_api
from cinder.volume.drivers.ovt import signing
from cinder.volume.drivers.ovt import validate

SECRET = 'shared replication secret'
ME = 'hci-0002@RBS'
PEER = 'hci-0001@RBS'
VG = 'volumes'
NAME = 'volume-0b7b4c28-0d7e-4d6a-9f43-6f3c2a0e1d11'
NAME2 = 'volume-4f3a9d0e-8c1b-4b5e-a6d2-1e9f0c7b3a55'
GiB = 1024 ** 3


def make_spec(name_minor=100, port=7001, vg=VG, size=GiB):
    return {
        'size_bytes': size, 'thin': True, 'protocol': 'C',
        'resync_rate_mib': 100,
        'nodes': [
            {'backend_id': PEER, 'node_name': 'hci-0001', 'node_id': 0,
             'address': '10.0.10.21', 'port': port, 'minor': name_minor,
             'volume_group': 'volumes'},
            {'backend_id': ME, 'node_name': 'hci-0002', 'node_id': 1,
             'address': '10.0.10.22', 'port': port, 'minor': name_minor,
             'volume_group': vg},
        ]}


class FakeHost(object):
    """A host agent that keeps state and refuses what it should refuse."""

    def __init__(self, backend_id=ME, volume_group=VG):
        self.backend_id = backend_id
        self.volume_group = volume_group
        self.frozen = False
        self.replicas = {}
        self.fail_with = None
        self.hold = None          # (entered Event, release Event)
        self.calls_started = 0
        self._lock = threading.Lock()

    def _enter(self):
        with self._lock:
            self.calls_started += 1
        if self.fail_with is not None:
            raise self.fail_with
        if self.hold is not None:
            entered, release = self.hold
            entered.set()
            release.wait(30)

    def _replica(self, name):
        if name not in self.replicas:
            raise exception.ResourceNotFound(name=name, host=self.backend_id)
        return self.replicas[name]

    def _own(self, spec):
        return [n for n in spec['nodes']
                if n['backend_id'] == self.backend_id][0]

    def _status(self, name):
        replica = self.replicas[name]
        return {'name': name, 'minor': self._own(replica['spec'])['minor'],
                'role': replica['role'], 'disk': replica['disk'],
                'size_bytes': replica['size_bytes'], 'peers': []}

    def describe(self):
        self._enter()
        return {'backend_id': self.backend_id, 'node_name': 'hci-0002',
                'drbd_version': '8.4.11', 'volume_group': self.volume_group,
                'frozen': self.frozen, 'free_bytes': 100 * GiB}

    def used_ids(self):
        self._enter()
        owns = [self._own(r['spec']) for r in self.replicas.values()]
        return {'minors': sorted(n['minor'] for n in owns),
                'ports': sorted(n['port'] for n in owns)}

    def ensure_replica(self, name, spec):
        self._enter()
        if self.frozen:
            raise exception.HostFrozen(host=self.backend_id,
                                       action='ensure_replica')
        own = self._own(spec)
        for other, replica in self.replicas.items():
            theirs = self._own(replica['spec'])
            if other != name and (theirs['minor'] == own['minor'] or
                                  theirs['port'] == own['port']):
                raise exception.ReplicaConflict(
                    name=name, host=self.backend_id,
                    reason='minor or port used by %s' % other)
        if name not in self.replicas:
            self.replicas[name] = {'spec': copy.deepcopy(spec),
                                   'size_bytes': spec['size_bytes'],
                                   'role': 'Secondary',
                                   'disk': 'Inconsistent'}
        return self._status(name)

    def remove_replica(self, name):
        self._enter()
        self.replicas.pop(name, None)

    def grow_replica(self, name, size_bytes):
        self._enter()
        replica = self._replica(name)
        replica['size_bytes'] = max(replica['size_bytes'], size_bytes)

    def resize_device(self, name):
        self._enter()
        self._replica(name)['resized'] = True

    def skip_initial_sync(self, name):
        self._enter()
        self._replica(name)['disk'] = 'UpToDate'

    def promote(self, name, force=False):
        self._enter()
        replica = self._replica(name)
        if replica['disk'] != 'UpToDate' and not force:
            raise exception.RoleChangeRefused(
                name=name, role='Primary', host=self.backend_id,
                reason='disk is %s' % replica['disk'])
        replica['role'] = 'Primary'
        return self._status(name)

    def demote(self, name):
        self._enter()
        self._replica(name)['role'] = 'Secondary'
        return self._status(name)

    def status(self, names=None):
        self._enter()
        wanted = sorted(self.replicas) if names is None else names
        return {n: self._status(n) for n in wanted if n in self.replicas}


class PeerApiTestCase(test.TestCase):
    """A real PeerServer on 127.0.0.1 and PeerClients talking to it."""

    def setUp(self):
        super().setUp()
        self.host = FakeHost()
        self.server = self.start_server(self.host)
        self.client = self.make_client()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='cinder.volume.drivers.ovt.peer_api',
            level=logging.DEBUG))

    def start_server(self, host, port=0, **kwargs):
        server = peer_api.PeerServer('127.0.0.1', port, SECRET, host, ME, VG,
                                     **kwargs)
        server.start()
        self.addCleanup(server.stop)
        return server

    def make_client(self, secret=SECRET, port=None, **kwargs):
        kwargs.setdefault('backoff_s', 0.01)
        client = peer_api.PeerClient(
            ME, '127.0.0.1', port or self.server.port, secret, PEER,
            **kwargs)
        self.addCleanup(client.close)
        return client

    def raw(self, method, path, body=b'', headers=None, sign=True,
            signer=None, sign_path=None, sign_body=None):
        """Send one request by hand; return (status, payload, headers)."""
        all_headers = {'Content-Length': str(len(body))}
        if sign:
            signer = signer or signing.Signer(SECRET, backend_id=PEER)
            all_headers.update(signer.sign(
                method, path if sign_path is None else sign_path,
                body if sign_body is None else sign_body))
        all_headers.update(headers or {})
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in all_headers.items():
            if value is not None:
                conn.putheader(key, value)
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        payload = json.loads(response.read())
        return response.status, payload, response

    def assert_error(self, status, code, answer):
        self.assertEqual((status, code),
                         (answer[0], answer[1]['error']['code']))
        self.assertEqual({'error'}, set(answer[1]))
        self.assertNotIn('Traceback', answer[1]['error']['message'])

    # -- every verb round-trips ---------------------------------------------

    def test_every_verb_round_trips(self):
        self.assertEqual(self.host.describe(), self.client.describe())
        self.assertEqual({'minors': [], 'ports': []}, self.client.used_ids())

        status = self.client.ensure_replica(NAME, make_spec())
        self.assertEqual({'name': NAME, 'minor': 100, 'role': 'Secondary',
                          'disk': 'Inconsistent', 'size_bytes': GiB,
                          'peers': []}, status)
        self.assertEqual(make_spec(), self.host.replicas[NAME]['spec'])
        self.assertEqual({'minors': [100], 'ports': [7001]},
                         self.client.used_ids())

        self.assertIsNone(self.client.grow_replica(NAME, 2 * GiB))
        self.assertEqual(2 * GiB, self.host.replicas[NAME]['size_bytes'])
        self.assertIsNone(self.client.resize_device(NAME))
        self.assertTrue(self.host.replicas[NAME]['resized'])
        self.assertIsNone(self.client.skip_initial_sync(NAME))
        self.assertEqual('UpToDate', self.host.replicas[NAME]['disk'])

        self.assertEqual('Primary', self.client.promote(NAME)['role'])
        self.assertEqual('Primary', self.host.replicas[NAME]['role'])
        self.assertEqual('Secondary', self.client.demote(NAME)['role'])
        self.assertEqual('Secondary', self.host.replicas[NAME]['role'])

        self.client.ensure_replica(NAME2, make_spec(101, 7002))
        self.assertEqual(self.host.status(), self.client.status())
        self.assertEqual([NAME2], list(self.client.status([NAME2])))
        self.assertEqual({}, self.client.status([]))

        self.assertIsNone(self.client.remove_replica(NAME))
        self.assertIsNone(self.client.remove_replica(NAME))
        self.assertEqual([NAME2], list(self.host.replicas))

    def test_promote_force_is_sent(self):
        self.client.ensure_replica(NAME, make_spec())
        exc = self.assertRaises(exception.RoleChangeRefused,
                                self.client.promote, NAME)
        self.assertIn(ME, str(exc))
        self.assertIn('Inconsistent', str(exc))
        self.assertEqual('Secondary', self.host.replicas[NAME]['role'])
        self.assertEqual('Primary',
                         self.client.promote(NAME, force=True)['role'])

    # -- the agent's exceptions come back as themselves --------------------

    def test_not_found(self):
        exc = self.assertRaises(exception.ResourceNotFound,
                                self.client.grow_replica, NAME, GiB)
        self.assertIn(ME, str(exc))
        self.assertIn(NAME, str(exc))

    def test_frozen(self):
        self.host.frozen = True
        exc = self.assertRaises(exception.HostFrozen,
                                self.client.ensure_replica, NAME, make_spec())
        self.assertIn(ME, str(exc))
        self.assertEqual({}, self.host.replicas)

    def test_conflict(self):
        self.client.ensure_replica(NAME, make_spec())
        exc = self.assertRaises(exception.ReplicaConflict,
                                self.client.ensure_replica, NAME2,
                                make_spec(port=7009))
        self.assertIn(ME, str(exc))
        self.assertIn(NAME, str(exc))
        self.assertEqual([NAME], list(self.host.replicas))

    def test_unexpected_error_is_500_without_traceback(self):
        self.host.fail_with = RuntimeError('disk on fire')
        answer = self.raw('GET', '/v1/host')
        self.assert_error(500, 'internal_error', answer)
        self.assertEqual('disk on fire', answer[1]['error']['message'])
        exc = self.assertRaises(exception.PeerError, self.client.describe)
        self.assertIn('disk on fire', str(exc))
        self.assertIn(ME, str(exc))

    def test_drbd_error(self):
        self.host.fail_with = exception.DrbdCommandError(
            cmd='drbdadm up', host=ME, code=10, stderr='no such minor')
        exc = self.assertRaises(exception.PeerError, self.client.demote,
                                NAME)
        self.assertIn('drbd_command_failed', str(exc))
        self.assertIn('no such minor', str(exc))

    def test_result_not_json(self):
        self.host.describe = lambda: {'when': object()}
        self.assert_error(500, 'internal_error', self.raw('GET', '/v1/host'))

    # -- signatures ---------------------------------------------------------

    def test_tampered_body(self):
        body = json.dumps(make_spec()).encode()
        answer = self.raw('PUT', '/v1/replicas/' + NAME, body,
                          sign_body=body.replace(b'true', b'false'))
        self.assert_error(401, 'bad_digest', answer)
        self.assertEqual({}, self.host.replicas)

    def test_tampered_path(self):
        body = json.dumps(make_spec()).encode()
        answer = self.raw('PUT', '/v1/replicas/' + NAME2, body,
                          sign_path='/v1/replicas/' + NAME)
        self.assert_error(401, 'bad_signature', answer)
        self.assertEqual({}, self.host.replicas)

    def test_old_and_future_timestamps(self):
        for offset in (-120, 120):
            signer = signing.Signer(SECRET,
                                    clock=lambda: time.time() + offset)
            answer = self.raw('PUT', '/v1/replicas/' + NAME,
                              json.dumps(make_spec()).encode(),
                              signer=signer)
            self.assert_error(401, 'stale_request', answer)
        self.assertEqual({}, self.host.replicas)

    def test_stale_via_client_hints_clocks(self):
        client = self.make_client(clock=lambda: time.time() - 3600)
        exc = self.assertRaises(exception.PeerError, client.describe)
        self.assertNotIsInstance(exc, exception.PeerAuthError)
        self.assertIn('clocks', str(exc))

    def test_reused_nonce(self):
        body = json.dumps(make_spec()).encode()
        headers = signing.Signer(SECRET).sign('PUT', '/v1/replicas/' + NAME,
                                              body)
        first = self.raw('PUT', '/v1/replicas/' + NAME, body, sign=False,
                         headers=headers)
        self.assertEqual(200, first[0])
        self.client.remove_replica(NAME)
        again = self.raw('PUT', '/v1/replicas/' + NAME, body, sign=False,
                         headers=headers)
        self.assert_error(401, 'replayed_request', again)
        self.assertEqual({}, self.host.replicas)

    def test_missing_header(self):
        headers = {signing.HEADER_SIGNATURE: None}
        answer = self.raw('PUT', '/v1/replicas/' + NAME,
                          json.dumps(make_spec()).encode(), headers=headers)
        self.assert_error(401, 'missing_signature', answer)
        self.assert_error(401, 'missing_signature',
                          self.raw('GET', '/v1/host', sign=False))
        self.assertEqual({}, self.host.replicas)

    def test_wrong_secret(self):
        client = self.make_client(secret='not the shared secret')
        exc = self.assertRaises(exception.PeerAuthError,
                                client.ensure_replica, NAME, make_spec())
        self.assertIn(ME, str(exc))
        self.assertIn('replication_internal_secret', str(exc))
        self.assertEqual({}, self.host.replicas)
        self.assertIn(PEER, self.log.output)
        self.assertIn('different replication_internal_secret?',
                      self.log.output)
        self.assertNotIn(SECRET, self.log.output)
        self.assertNotIn('not the shared secret', self.log.output)

    # -- validation ---------------------------------------------------------

    def test_unknown_field(self):
        spec = make_spec()
        spec['disk'] = '/dev/sda'
        exc = self.assertRaises(exception.PeerError,
                                self.client.ensure_replica, NAME, spec)
        self.assertIn('invalid_request', str(exc))
        self.assertIn('disk', str(exc))
        spec = make_spec()
        spec['nodes'][1]['device'] = '/dev/sda'
        self.assertRaises(exception.PeerError, self.client.ensure_replica,
                          NAME, spec)
        answer = self.raw('POST', '/v1/replicas/%s/grow' % NAME,
                          b'{"size_bytes": 5, "shrink": true}')
        self.assert_error(400, 'invalid_request', answer)
        answer = self.raw('POST', '/v1/replicas/%s/demote' % NAME,
                          b'{"force": true}')
        self.assert_error(400, 'invalid_request', answer)
        self.assertEqual({}, self.host.replicas)

    def test_path_like_names(self):
        body = json.dumps(make_spec()).encode()
        for name in ('..%2Fetc', 'volume-X', NAME.upper(), NAME + '.res'):
            answer = self.raw('PUT', '/v1/replicas/' + name, body)
            self.assert_error(400, 'invalid_name', answer)
        self.assert_error(404, 'unknown_route',
                          self.raw('PUT', '/v1/replicas/../etc', body))
        self.assertRaises(exception.InvalidName, self.client.ensure_replica,
                          '../etc', make_spec())
        self.assertRaises(exception.InvalidName, self.client.remove_replica,
                          '/etc/passwd')
        answer = self.raw('POST', '/v1/status', b'{"names": ["../etc"]}')
        self.assert_error(400, 'invalid_name', answer)
        self.assertEqual({}, self.host.replicas)
        self.assertEqual(0, self.host.calls_started)

    def test_node_volume_group_must_be_the_servers(self):
        exc = self.assertRaises(exception.PeerError,
                                self.client.ensure_replica, NAME,
                                make_spec(vg='other'))
        self.assertIn('volume group', str(exc))
        spec = make_spec()
        spec['nodes'][1]['backend_id'] = 'hci-0003@RBS'
        exc = self.assertRaises(exception.PeerError,
                                self.client.ensure_replica, NAME, spec)
        self.assertIn('no node entry', str(exc))
        self.assertEqual({}, self.host.replicas)

    def test_bad_values(self):
        for field, value in (('size_bytes', 0), ('size_bytes', 1.5),
                             ('size_bytes', True), ('protocol', 'D'),
                             ('thin', 'yes'), ('resync_rate_mib', 0)):
            spec = make_spec()
            spec[field] = value
            self.assertRaises(exception.PeerError,
                              self.client.ensure_replica, NAME, spec)
        self.assertRaises(exception.PeerError, self.client.grow_replica,
                          NAME, -1)
        self.assertRaises(exception.PeerError, self.client.promote, NAME,
                          force='yes')
        self.assertEqual(0, self.host.calls_started)

    def test_oversize_body(self):
        length = peer_api.MAX_BODY_BYTES + 1
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=10)
        self.addCleanup(conn.close)
        # Only the headers are sent: the server must answer without
        # waiting for (or reading) the announced body.
        conn.putrequest('PUT', '/v1/replicas/' + NAME)
        conn.putheader('Content-Length', str(length))
        conn.endheaders()
        response = conn.getresponse()
        self.assertEqual(413, response.status)
        self.assertEqual('body_too_large',
                         json.loads(response.read())['error']['code'])
        huge = ['volume-%08x-0000-4000-8000-000000000000' % i
                for i in range(30000)]
        self.assertRaises(exception.PeerError, self.client.status, huge)
        self.assertEqual(0, self.host.calls_started)

    def test_bad_json(self):
        for body in (b'{not json', b'{"size_bytes": 1, "size_bytes": 2}',
                     b'{"size_bytes": NaN}', b'[1]', b'\xff\xfe',
                     b'[' * 100000):
            answer = self.raw('POST', '/v1/replicas/%s/grow' % NAME, body)
            self.assert_error(400, 'invalid_request', answer)
        self.assertEqual(0, self.host.calls_started)

    def test_http_level_refusals(self):
        self.assert_error(411, 'length_required',
                          self.raw('GET', '/v1/host',
                                   headers={'Content-Length': None}))
        self.assert_error(400, 'bad_request',
                          self.raw('GET', '/v1/host',
                                   headers={'Content-Length': '-1'}))
        self.assert_error(404, 'unknown_route', self.raw('GET', '/v2/host'))
        answer = self.raw('GET', '/v1/replicas/' + NAME)
        self.assert_error(405, 'method_not_allowed', answer)
        self.assertEqual('DELETE, PUT', answer[2].getheader('Allow'))
        self.assert_error(405, 'method_not_allowed',
                          self.raw('PATCH', '/v1/host'))
        self.assert_error(400, 'bad_request',
                          self.raw('GET', '/v1/host?x=1'))
        self.assert_error(501, 'bad_request',
                          self.raw('BREW', '/v1/host', sign=False))
        with socket.create_connection(('127.0.0.1', self.server.port),
                                      timeout=10) as sock:
            sock.sendall(b'garbage\r\n\r\n')
            answer = sock.makefile('rb').read()
        # An unparsable request line gets an HTTP/0.9-style answer: no
        # status line, but still the JSON error.
        self.assertEqual('bad_request',
                         json.loads(answer.split(b'\r\n\r\n')[-1])[
                             'error']['code'])
        self.assertEqual(0, self.host.calls_started)

    # -- concurrency, connection failures, shutdown --------------------------

    def test_requests_served_in_parallel(self):
        entered, release = threading.Event(), threading.Event()
        self.addCleanup(release.set)
        self.host.hold = (entered, release)
        results = []
        worker = threading.Thread(
            target=lambda: results.append(self.client.status()))
        worker.start()
        self.assertTrue(entered.wait(10))
        self.host.hold = None
        self.client.ensure_replica(NAME, make_spec())   # completes
        self.assertEqual([], results)
        release.set()
        worker.join(10)
        self.assertEqual(1, len(results))

    def free_port(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            return sock.getsockname()[1]

    def test_connection_refused_retried_then_peer_error(self):
        client = self.make_client(port=self.free_port(), retries=2)
        exc = self.assertRaises(exception.PeerError, client.describe)
        self.assertIn(ME, str(exc))
        self.assertIn('cannot connect', str(exc))

    def test_retry_reaches_a_server_that_comes_up(self):
        port = self.free_port()
        client = self.make_client(port=port, retries=6, backoff_s=0.05)
        host = FakeHost()
        timer = threading.Timer(0.2, self.start_server, (host, port))
        timer.start()
        self.addCleanup(timer.join)
        self.assertEqual(ME, client.describe()['backend_id'])
        self.assertEqual(1, host.calls_started)

    def test_timeout_raises_peer_error_without_retry(self):
        entered, release = threading.Event(), threading.Event()
        self.addCleanup(release.set)
        self.host.hold = (entered, release)
        client = self.make_client(timeout=(1, 0.3), retries=3)
        exc = self.assertRaises(exception.PeerError, client.describe)
        self.assertIn('may have been applied', str(exc))
        release.set()
        self.assertEqual(1, self.host.calls_started)

    def test_stop_frees_the_port(self):
        port = self.server.port
        self.assertNotEqual(0, port)
        self.server.stop()
        self.server.stop()
        self.assertRaises(exception.PeerError,
                          self.make_client(retries=0).describe)
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', port))
        again = self.start_server(FakeHost(), port=port)
        self.assertEqual(port, again.port)
        self.assertEqual(ME, self.make_client(port=port).describe()[
            'backend_id'])

    def test_ipv6(self):
        if not socket.has_ipv6:
            self.skipTest('no IPv6')
        try:
            with socket.socket(socket.AF_INET6) as sock:
                sock.bind(('::1', 0))
        except OSError:
            self.skipTest('no ::1')
        server = peer_api.PeerServer('::1', 0, SECRET, self.host, ME, VG)
        server.start()
        self.addCleanup(server.stop)
        client = peer_api.PeerClient(ME, '::1', server.port, SECRET, PEER)
        self.addCleanup(client.close)
        self.assertEqual(ME, client.describe()['backend_id'])

    def test_no_secret_in_reprs(self):
        for obj in (self.server, self.client):
            self.assertNotIn(SECRET, repr(obj))
            self.assertIn(ME, repr(obj))


def fake_response(status, body):
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


class FakeSession(object):
    """A requests session that answers from a list and counts calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def request(self, method, url, **kwargs):
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else \
            self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def refused():
    reason = urllib3.exceptions.NewConnectionError(None, 'refused')
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, '/v1/host', reason))


class PeerClientAnswersTestCase(test.TestCase):
    """How the client reads answers it did not expect."""

    def client(self, session, **kwargs):
        return peer_api.PeerClient(ME, '127.0.0.1', 7000, SECRET, PEER,
                                   session=session, backoff_s=0, **kwargs)

    def test_non_2xx_never_success(self):
        for status, body in ((500, b'oops'), (503, b''), (302, b''),
                             (400, b'{"result": {"a": 1}}'),
                             (404, b'{"error": {"code": "unknown_route",'
                                   b' "message": "no route"}}')):
            session = FakeSession(fake_response(status, body))
            exc = self.assertRaises(exception.PeerError,
                                    self.client(session).describe)
            self.assertIn(ME, str(exc))
            self.assertIn(str(status), str(exc))
            self.assertEqual(1, session.calls)

    def test_2xx_without_result(self):
        for body in (b'{}', b'', b'null', b'{"error": null}',
                     b'{"result": [1]}', b'not json'):
            session = FakeSession(fake_response(200, body))
            self.assertRaises(exception.PeerError,
                              self.client(session).describe)

    def test_result_null_for_no_result_verbs(self):
        session = FakeSession(fake_response(200, b'{"result": null}'))
        self.assertIsNone(self.client(session).remove_replica(NAME))

    def test_read_timeout_not_retried(self):
        session = FakeSession(requests.exceptions.ReadTimeout('slow'))
        self.assertRaises(exception.PeerError,
                          self.client(session, retries=5).describe)
        self.assertEqual(1, session.calls)

    def test_reset_after_sending_not_retried(self):
        session = FakeSession(requests.exceptions.ConnectionError(
            urllib3.exceptions.ProtocolError('Connection aborted.')))
        self.assertRaises(exception.PeerError,
                          self.client(session, retries=5).describe)
        self.assertEqual(1, session.calls)

    def test_refused_retried(self):
        session = FakeSession(refused(), refused(),
                              fake_response(200, b'{"result": {"a": 1}}'))
        self.assertEqual({'a': 1}, self.client(session).describe())
        self.assertEqual(3, session.calls)
        session = FakeSession(refused())
        self.assertRaises(exception.PeerError,
                          self.client(session, retries=2).describe)
        self.assertEqual(3, session.calls)

    def test_each_attempt_signed_anew(self):
        session = FakeSession(refused(), fake_response(
            200, b'{"result": {"a": 1}}'))
        nonces = []
        with mock.patch.object(session, 'request', autospec=True,
                               side_effect=session.request) as request:
            self.client(session).describe()
            for call in request.call_args_list:
                nonces.append(call[1]['headers'][signing.HEADER_NONCE])
        self.assertEqual(2, len(set(nonces)))


class ValidateTestCase(test.TestCase):
    """The pure validators."""

    def test_spec_ok_and_copied(self):
        spec = make_spec()
        checked = validate.replica_spec(spec, ME, VG)
        self.assertEqual(spec, checked)
        self.assertIsNot(spec['nodes'][0], checked['nodes'][0])

    def test_spec_refusals(self):
        def bad(change):
            spec = make_spec()
            change(spec)
            return spec

        cases = [
            bad(lambda s: s.pop('thin')),
            bad(lambda s: s.update(nodes=s['nodes'][:1])),
            bad(lambda s: s.update(nodes=s['nodes'] * 9)),
            bad(lambda s: s.update(nodes='all')),
            bad(lambda s: s['nodes'][0].update(node_id=1)),
            bad(lambda s: s['nodes'][0].update(node_id=32)),
            bad(lambda s: s['nodes'][0].update(backend_id=ME)),
            bad(lambda s: s['nodes'][0].update(node_name='hci-0002')),
            bad(lambda s: s['nodes'][0].update(port=0)),
            bad(lambda s: s['nodes'][0].update(port=65536)),
            bad(lambda s: s['nodes'][0].update(minor=-1)),
            bad(lambda s: s['nodes'][0].update(minor=1048576)),
            bad(lambda s: s['nodes'][0].pop('minor')),
            bad(lambda s: s.update(resync_rate_mib=-5)),
            bad(lambda s: s.update(protocol=['A'])),
        ]
        for spec in cases:
            self.assertRaises(ValueError, validate.replica_spec, spec, ME, VG)
        for field, value in (('address', '10.0.0.300'),
                             ('address', 'fe80::1%eth0'),
                             ('address', 'hci-0001'),
                             ('node_name', 'a b'), ('node_name', '-x'),
                             ('node_name', 'x;rm'),
                             ('backend_id', 'hci-0001'),
                             ('backend_id', 'a/b@c'),
                             ('backend_id', 'a@b c'),
                             ('volume_group', '../vg'),
                             ('volume_group', '-vg'),
                             ('volume_group', '..'),
                             ('volume_group', 5)):
            spec = make_spec()
            spec['nodes'][0][field] = value
            self.assertRaises(exception.InvalidName, validate.replica_spec,
                              spec, ME, VG)

    def test_tokens_ok(self):
        self.assertEqual('fd00::22', validate.ip_address('fd00::22'))
        self.assertEqual('hci-0001.example.org',
                         validate.node_name('hci-0001.example.org'))
        self.assertEqual('hci_1@RBS-2', validate.backend_id('hci_1@RBS-2'))
        self.assertEqual('vg.data+1_x', validate.volume_group('vg.data+1_x'))
        self.assertEqual(NAME, validate.resource_name(NAME))
        self.assertEqual(65535, validate.port(65535))
        self.assertEqual(0, validate.minor(0))
        self.assertIsNone(validate.resource_names(None))
        self.assertRaises(ValueError, validate.resource_names, [NAME, NAME])
        self.assertRaises(exception.InvalidName, validate.resource_name,
                          'x' * 10000)

    def test_loads(self):
        self.assertEqual({}, validate.loads(b''))
        self.assertEqual({'a': [1]}, validate.loads(b'{"a": [1]}'))
        for body in (b'{"a": Infinity}', b'{"a": 1, "a": 1}', b'\xff',
                     b'[' * 50000, b'{'):
            self.assertRaises(ValueError, validate.loads, body)


_SUBPROCESS_SCRIPT = textwrap.dedent('''
    import sys
    if sys.argv[1] == 'eventlet':
        import eventlet
        eventlet.monkey_patch()
    import json
    import threading

    import eventlet.patcher

    from cinder.volume.drivers.ovt import peer_api

    PATCHED = all(eventlet.patcher.is_monkey_patched(m)
                  for m in ('socket', 'thread', 'select'))

    entered, release = threading.Event(), threading.Event()

    class Host(object):
        def describe(self):
            return {'backend_id': 'b@x', 'patched': PATCHED}

        def status(self, names=None):
            entered.set()
            release.wait(10)
            return {}

    server = peer_api.PeerServer('127.0.0.1', 0, 's3cr3t', Host(), 'b@x',
                                 'vg')
    server.start()
    client = peer_api.PeerClient('b@x', '127.0.0.1', server.port, 's3cr3t',
                                 'a@x')
    slow = threading.Thread(target=client.status)
    slow.start()
    entered.wait(10)
    result = client.describe()      # served while status() is blocked
    release.set()
    slow.join(10)
    try:
        peer_api.PeerClient('b@x', '127.0.0.1', server.port, 'wrong',
                            'a@x').describe()
    except Exception as exc:
        result['refused'] = type(exc).__name__
    server.stop()
    print(json.dumps(result))
''')


class SubprocessTestCase(test.TestCase):
    """A signed round trip with and without eventlet monkey patching."""

    def run_script(self, mode):
        env = dict(os.environ)
        if mode != 'eventlet':
            env['OS_CINDER_DISABLE_EVENTLET_PATCHING'] = '1'
        proc = subprocess.run(
            [sys.executable, '-c', _SUBPROCESS_SCRIPT, mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            timeout=120, cwd='/tmp')
        self.assertEqual(0, proc.returncode, proc.stderr.decode()[-3000:])
        return json.loads(proc.stdout.decode().strip().splitlines()[-1])

    def test_eventlet(self):
        self.assertEqual({'backend_id': 'b@x', 'patched': True,
                          'refused': 'PeerAuthError'},
                         self.run_script('eventlet'))

    def test_plain_threads(self):
        self.assertEqual({'backend_id': 'b@x', 'patched': False,
                          'refused': 'PeerAuthError'},
                         self.run_script('threads'))
