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
"""Tests of the request signer and verifier."""

import email.message
import itertools
import threading

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import signing

SECRET = 'correct horse battery staple'
NOW = 1700000000


class FakeClock(object):
    """A clock the test moves by hand."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


def nonces(prefix='nonce'):
    counter = itertools.count()
    return lambda: '%s-%016d' % (prefix, next(counter))


class SignerVerifierTestCase(test.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.signer = signing.Signer(SECRET, clock=self.clock,
                                     nonce_factory=nonces(),
                                     backend_id='hci-0001@RBS')
        self.verifier = signing.Verifier(SECRET, clock=self.clock,
                                         window_s=60, nonce_cache_size=100)

    def sign(self, method='PUT', path='/v1/replicas/x', body=b'{"a":1}'):
        return self.signer.sign(method, path, body)

    def test_round_trip_returns_sender(self):
        headers = self.sign()
        self.assertEqual('hci-0001@RBS', self.verifier.verify(
            'PUT', '/v1/replicas/x', headers, b'{"a":1}'))
        self.assertEqual(1, self.verifier.remembered_nonces)

    def test_headers(self):
        headers = self.sign(body=b'')
        self.assertEqual(
            {'X-Ev3-Timestamp', 'X-Ev3-Nonce', 'X-Ev3-Content-SHA256',
             'X-Ev3-Signature', 'X-Ev3-Backend'}, set(headers))
        self.assertEqual(str(NOW), headers['X-Ev3-Timestamp'])
        self.assertEqual('e3b0c44298fc1c149afbf4c8996fb924'
                         '27ae41e4649b934ca495991b7852b855',
                         headers['X-Ev3-Content-SHA256'])
        self.assertNotIn(SECRET, repr(headers))

    def test_header_names_are_case_insensitive(self):
        headers = {k.lower(): v for k, v in self.sign().items()}
        self.verifier.verify('put', '/v1/replicas/x', headers, b'{"a":1}')

    def test_http_message_headers(self):
        message = email.message.Message()
        for key, value in self.sign().items():
            message[key] = value
        self.verifier.verify('PUT', '/v1/replicas/x', message, b'{"a":1}')

    def test_repeated_header_refused(self):
        message = email.message.Message()
        for key, value in self.sign().items():
            message[key] = value
        message['X-Ev3-Nonce'] = 'another-nonce-0000000'
        self.assertRaises(signing.MissingSignature, self.verifier.verify,
                          'PUT', '/v1/replicas/x', message, b'{"a":1}')

    def test_tampered_body_bad_digest(self):
        headers = self.sign()
        self.assertRaises(signing.BadDigest, self.verifier.verify,
                          'PUT', '/v1/replicas/x', headers, b'{"a":2}')
        self.assertEqual(0, self.verifier.remembered_nonces)

    def test_tampered_body_with_its_digest_bad_signature(self):
        headers = self.sign()
        headers['X-Ev3-Content-SHA256'] = signing.body_digest(b'{"a":2}')
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'PUT', '/v1/replicas/x', headers, b'{"a":2}')

    def test_tampered_path_method_sender(self):
        headers = self.sign()
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'PUT', '/v1/replicas/y', headers, b'{"a":1}')
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'POST', '/v1/replicas/x', headers, b'{"a":1}')
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'PUT', '/v1/replicas/x?force=1', headers,
                          b'{"a":1}')
        forged = dict(headers, **{'X-Ev3-Backend': 'evil@RBS'})
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'PUT', '/v1/replicas/x', forged, b'{"a":1}')
        self.assertEqual(0, self.verifier.remembered_nonces)

    def test_wrong_secret(self):
        other = signing.Signer('another secret', clock=self.clock)
        headers = other.sign('GET', '/v1/host', b'')
        self.assertRaises(signing.BadSignature, self.verifier.verify,
                          'GET', '/v1/host', headers, b'')

    def test_bytes_and_str_secret_agree(self):
        signer = signing.Signer(SECRET.encode('utf-8'), clock=self.clock)
        self.assertEqual('', self.verifier.verify(
            'GET', '/v1/host', signer.sign('GET', '/v1/host', b''), b''))

    def test_window_both_ways(self):
        headers = self.sign()
        self.clock.now = NOW + 61
        self.assertRaises(signing.StaleRequest, self.verifier.verify,
                          'PUT', '/v1/replicas/x', headers, b'{"a":1}')
        self.clock.now = NOW - 61
        self.assertRaises(signing.StaleRequest, self.verifier.verify,
                          'PUT', '/v1/replicas/x', headers, b'{"a":1}')
        self.clock.now = NOW + 60
        self.verifier.verify('PUT', '/v1/replicas/x', headers, b'{"a":1}')
        self.clock.now = NOW - 60
        self.verifier.verify('PUT', '/v1/replicas/x', self.sign(),
                             b'{"a":1}')

    def test_replayed_nonce(self):
        headers = self.sign()
        self.verifier.verify('PUT', '/v1/replicas/x', headers, b'{"a":1}')
        exc = self.assertRaises(signing.ReplayedRequest,
                                self.verifier.verify, 'PUT',
                                '/v1/replicas/x', headers, b'{"a":1}')
        self.assertEqual('replayed_request', exc.code)

    def test_replay_after_window_still_refused(self):
        headers = self.sign()
        self.verifier.verify('PUT', '/v1/replicas/x', headers, b'{"a":1}')
        self.clock.now = NOW + 1000
        self.verifier.verify('GET', '/v1/host',
                             self.signer.sign('GET', '/v1/host', b''), b'')
        # The old nonce was forgotten; if the clock steps back the floor
        # still refuses it.
        self.assertEqual(1, self.verifier.remembered_nonces)
        self.clock.now = NOW
        self.assertRaises(signing.ReplayedRequest, self.verifier.verify,
                          'PUT', '/v1/replicas/x', headers, b'{"a":1}')

    def test_nonce_cache_bounded_and_evicted_never_replayable(self):
        verifier = signing.Verifier(SECRET, clock=self.clock, window_s=60,
                                    nonce_cache_size=3)
        sent = []
        for i in range(6):
            self.clock.now = NOW + i
            headers = self.sign(method='GET', path='/v1/host', body=b'')
            verifier.verify('GET', '/v1/host', headers, b'')
            sent.append(headers)
            self.assertLessEqual(verifier.remembered_nonces, 3)
        for headers in sent:
            self.assertRaises(signing.ReplayedRequest, verifier.verify,
                              'GET', '/v1/host', headers, b'')

    def test_concurrent_replay_accepted_once(self):
        headers = self.sign()
        outcomes = []
        barrier = threading.Barrier(8)

        def verify():
            barrier.wait()
            try:
                self.verifier.verify('PUT', '/v1/replicas/x', headers,
                                     b'{"a":1}')
                outcomes.append('ok')
            except signing.ReplayedRequest:
                outcomes.append('replayed')

        threads = [threading.Thread(target=verify) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(['ok'] + ['replayed'] * 7, sorted(outcomes))

    def test_missing_headers(self):
        for name in signing.SIGNED_HEADERS:
            headers = self.sign()
            del headers[name]
            exc = self.assertRaises(signing.MissingSignature,
                                    self.verifier.verify, 'PUT',
                                    '/v1/replicas/x', headers, b'{"a":1}')
            self.assertIn(name, str(exc))
            self.assertEqual('missing_signature', exc.code)

    def test_malformed_headers(self):
        cases = {'X-Ev3-Timestamp': ['-5', '1.5', '', '99999999999999'],
                 'X-Ev3-Nonce': ['short', 'has space in it 123', 'x' * 200],
                 'X-Ev3-Signature': ['00', 'g' * 64, 'A' * 64],
                 'X-Ev3-Backend': ['a b']}
        for name, values in cases.items():
            for value in values:
                headers = dict(self.sign(), **{name: value})
                self.assertRaises(signing.MissingSignature,
                                  self.verifier.verify, 'PUT',
                                  '/v1/replicas/x', headers, b'{"a":1}')
        self.assertRaises(signing.MissingSignature, self.verifier.verify,
                          'PUT', 'http://x/v1/host', self.sign(), b'{"a":1}')

    def test_secret_not_in_repr(self):
        self.assertNotIn(SECRET, repr(self.signer))
        self.assertNotIn(SECRET, repr(self.verifier))
        self.assertNotIn(SECRET, repr(vars(self.signer).keys()))

    def test_bad_arguments(self):
        self.assertRaises(ValueError, signing.Signer, '')
        self.assertRaises(ValueError, signing.Verifier, b'')
        self.assertRaises(TypeError, signing.Signer, None)
        self.assertRaises(ValueError, signing.Verifier, SECRET, window_s=0)
        self.assertRaises(ValueError, self.signer.sign, 'GET',
                          '/v1/host\nX: y', b'')
        self.assertRaises(ValueError, self.signer.sign, 'GET', 'v1/host',
                          b'')
        self.assertRaises(ValueError, self.signer.sign, 'G ET', '/v1/host',
                          b'')
        self.assertRaises(TypeError, self.signer.sign, 'PUT', '/v1/host',
                          '{"a":1}')
        bad_nonce = signing.Signer(SECRET, nonce_factory=lambda: 'x')
        self.assertRaises(ValueError, bad_nonce.sign, 'GET', '/v1/host', b'')

    def test_default_nonces_unique(self):
        signer = signing.Signer(SECRET)
        seen = {signer.sign('GET', '/v1/host', b'')['X-Ev3-Nonce']
                for _ in range(100)}
        self.assertEqual(100, len(seen))
