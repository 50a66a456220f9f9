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
"""Request signing for the ev3 peer API: pure HMAC-SHA256, no I/O.

A request is signed over a canonical string made of the method, the request
target (path with query, exactly as sent), a timestamp, a nonce, the sender's
backend id and the hex SHA-256 of the body bytes.  The verifier hashes the
body it actually received, so a captured signature cannot be reused with
another body; it accepts timestamps within a window on both sides of its own
clock and remembers every nonce for that window, so a captured request cannot
be replayed either.
"""

import hashlib
import heapq
import hmac
import re
import secrets
import threading
import time

HEADER_TIMESTAMP = 'X-Ev3-Timestamp'
HEADER_NONCE = 'X-Ev3-Nonce'
HEADER_DIGEST = 'X-Ev3-Content-SHA256'
HEADER_SIGNATURE = 'X-Ev3-Signature'
HEADER_BACKEND = 'X-Ev3-Backend'

SIGNED_HEADERS = (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_DIGEST,
                  HEADER_SIGNATURE)

_SCHEME = 'ev3-hmac-sha256-v1'
_METHOD_RE = re.compile(r'^[A-Z]{1,16}$')
# Printable ASCII without spaces: what an HTTP request target may contain.
_TARGET_RE = re.compile(r'^/[\x21-\x7e]{0,4095}$')
_TIMESTAMP_RE = re.compile(r'^[0-9]{1,12}$')
_NONCE_RE = re.compile(r'^[A-Za-z0-9_-]{16,128}$')
_HEX64_RE = re.compile(r'^[0-9a-f]{64}$')
_BACKEND_RE = re.compile(r'^[\x21-\x7e]{0,255}$')

DEFAULT_WINDOW_S = 60
DEFAULT_NONCE_CACHE_SIZE = 100000


class SignatureError(Exception):
    """A request failed signature verification."""

    code = 'signature_error'

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class MissingSignature(SignatureError):
    """A signing header is absent, repeated or malformed."""

    code = 'missing_signature'


class StaleRequest(SignatureError):
    """The request's timestamp is outside the accepted window."""

    code = 'stale_request'


class ReplayedRequest(SignatureError):
    """The request's nonce was already used within the window."""

    code = 'replayed_request'


class BadDigest(SignatureError):
    """The body received does not hash to the declared digest."""

    code = 'bad_digest'


class BadSignature(SignatureError):
    """The HMAC does not match: the secrets differ or the request changed."""

    code = 'bad_signature'


def body_digest(body):
    """Return the hex SHA-256 of the body bytes."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError('body must be bytes, not %s' % type(body).__name__)
    return hashlib.sha256(body).hexdigest()


def canonical_request(method, target, timestamp, nonce, sender, digest):
    """Return the canonical string (bytes) that is signed.

    Every part is free of newlines (checked by the callers), so the joined
    string is unambiguous.
    """
    parts = (_SCHEME, method, target, str(timestamp), nonce, sender, digest)
    return '\n'.join(parts).encode('ascii')


def _key(secret):
    if isinstance(secret, str):
        secret = secret.encode('utf-8')
    if not isinstance(secret, bytes):
        raise TypeError('secret must be str or bytes')
    if not secret:
        raise ValueError('the signing secret must not be empty')
    return secret


def _mac(key, canonical):
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def _default_nonce():
    return secrets.token_hex(16)


class Signer(object):
    """Signs outgoing requests with the shared secret."""

    def __init__(self, secret, clock=time.time, nonce_factory=None,
                 backend_id=None):
        self._key = _key(secret)
        self._clock = clock
        self._nonce_factory = nonce_factory or _default_nonce
        backend_id = backend_id or ''
        if not _BACKEND_RE.match(backend_id):
            raise ValueError('invalid sender backend id %r' % backend_id)
        self._backend_id = backend_id

    def __repr__(self):
        return '<Signer backend_id=%r>' % self._backend_id

    def sign(self, method, path, body_bytes):
        """Return the signing headers for a request.

        :param method: HTTP method, e.g. ``'PUT'``.
        :param path: the request target exactly as sent (path and query).
        :param body_bytes: the body bytes exactly as sent (``b''`` if none).
        """
        method = method.upper()
        if not _METHOD_RE.match(method):
            raise ValueError('invalid HTTP method %r' % method)
        if not _TARGET_RE.match(path):
            raise ValueError('invalid request target %r' % path)
        timestamp = int(self._clock())
        nonce = self._nonce_factory()
        if not _NONCE_RE.match(nonce):
            raise ValueError('the nonce factory made an invalid nonce')
        digest = body_digest(body_bytes)
        canonical = canonical_request(method, path, timestamp, nonce,
                                      self._backend_id, digest)
        headers = {
            HEADER_TIMESTAMP: str(timestamp),
            HEADER_NONCE: nonce,
            HEADER_DIGEST: digest,
            HEADER_SIGNATURE: _mac(self._key, canonical),
        }
        if self._backend_id:
            headers[HEADER_BACKEND] = self._backend_id
        return headers


class _NonceCache(object):
    """Nonces seen within the window, bounded in memory, thread-safe.

    Entries are kept in a heap ordered by their request timestamp.  An entry
    leaves the cache either because it expired (its timestamp is older than
    the window) or because the cache is full (the oldest entry is evicted).
    Either way the "floor" rises to the timestamp of the entry that left, and
    any request whose timestamp is not above the floor is refused: a nonce
    that is no longer remembered can therefore never be replayed, even if the
    clock steps back.  Under a flood that fills the cache, requests older
    than the evicted ones are refused rather than risk a replay.
    """

    def __init__(self, size):
        if size < 1:
            raise ValueError('nonce cache size must be at least 1')
        self._size = size
        self._heap = []
        self._seen = set()
        self._floor = None
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return len(self._seen)

    def _drop_oldest(self):
        timestamp, nonce = heapq.heappop(self._heap)
        self._seen.discard(nonce)
        if self._floor is None or timestamp > self._floor:
            self._floor = timestamp

    def check_and_add(self, nonce, timestamp, oldest_valid):
        """Record a nonce or raise ReplayedRequest if it cannot be new."""
        with self._lock:
            while self._heap and self._heap[0][0] < oldest_valid:
                self._drop_oldest()
            if nonce in self._seen:
                raise ReplayedRequest('nonce already used')
            if self._floor is not None and timestamp <= self._floor:
                raise ReplayedRequest('request older than the oldest '
                                      'remembered nonce')
            if len(self._seen) >= self._size:
                self._drop_oldest()
                if timestamp <= self._floor:
                    raise ReplayedRequest('nonce cache full; request older '
                                          'than the oldest remembered nonce')
            heapq.heappush(self._heap, (timestamp, nonce))
            self._seen.add(nonce)


def _header(headers, name):
    """Return the single value of a header, or None if absent.

    ``headers`` is a mapping whose ``items()`` may repeat names (as
    ``http.client.HTTPMessage`` does); a repeated signing header is refused.
    """
    wanted = name.lower()
    values = [v for k, v in headers.items() if k.lower() == wanted]
    if len(values) > 1:
        raise MissingSignature('header %s given more than once' % name)
    return values[0] if values else None


class Verifier(object):
    """Verifies incoming requests: digest, HMAC, clock window, nonce."""

    def __init__(self, secret, clock=time.time, window_s=DEFAULT_WINDOW_S,
                 nonce_cache_size=DEFAULT_NONCE_CACHE_SIZE):
        self._key = _key(secret)
        self._clock = clock
        if window_s <= 0:
            raise ValueError('window_s must be positive')
        self._window_s = window_s
        self._nonces = _NonceCache(nonce_cache_size)

    def __repr__(self):
        return '<Verifier window_s=%r>' % self._window_s

    @property
    def remembered_nonces(self):
        """Return how many nonces are currently remembered."""
        return len(self._nonces)

    def verify(self, method, path, headers, body_bytes):
        """Verify a request; return the sender's backend id ('' if none).

        :param method: the HTTP method received.
        :param path: the request target received (path and query).
        :param headers: the received headers (case-insensitive names).
        :param body_bytes: the body bytes received.
        :raises SignatureError: one of its subclasses, naming the reason.
        """
        values = {}
        for name in SIGNED_HEADERS:
            value = _header(headers, name)
            if value is None:
                raise MissingSignature('header %s is missing' % name)
            values[name] = value.strip()
        sender = _header(headers, HEADER_BACKEND)
        sender = (sender or '').strip()
        method = (method or '').upper()
        checks = ((method, _METHOD_RE, 'method'),
                  (path or '', _TARGET_RE, 'request target'),
                  (values[HEADER_TIMESTAMP], _TIMESTAMP_RE, HEADER_TIMESTAMP),
                  (values[HEADER_NONCE], _NONCE_RE, HEADER_NONCE),
                  (values[HEADER_DIGEST], _HEX64_RE, HEADER_DIGEST),
                  (values[HEADER_SIGNATURE], _HEX64_RE, HEADER_SIGNATURE),
                  (sender, _BACKEND_RE, HEADER_BACKEND))
        for value, regex, what in checks:
            if not regex.match(value):
                raise MissingSignature('malformed %s' % what)

        digest = body_digest(body_bytes)
        if not hmac.compare_digest(digest, values[HEADER_DIGEST]):
            raise BadDigest('the body received does not match its digest')

        timestamp = int(values[HEADER_TIMESTAMP])
        nonce = values[HEADER_NONCE]
        canonical = canonical_request(method, path, timestamp, nonce, sender,
                                      digest)
        expected = _mac(self._key, canonical)
        if not hmac.compare_digest(expected, values[HEADER_SIGNATURE]):
            raise BadSignature('signature mismatch')

        now = self._clock()
        if timestamp < now - self._window_s:
            raise StaleRequest('timestamp %d is %.0f s in the past (window '
                               '%s s): check the clocks' %
                               (timestamp, now - timestamp, self._window_s))
        if timestamp > now + self._window_s:
            raise StaleRequest('timestamp %d is %.0f s in the future (window '
                               '%s s): check the clocks' %
                               (timestamp, timestamp - now, self._window_s))
        self._nonces.check_and_add(nonce, timestamp, now - self._window_s)
        return sender
