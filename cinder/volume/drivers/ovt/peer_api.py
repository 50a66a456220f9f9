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
"""The peer API: the host verbs over signed HTTP.

``PeerServer`` serves this host's agent to its peers; ``PeerClient`` calls a
peer's server and has the same methods, arguments and results as the agent,
so a local ``HostAgent`` and a remote peer are interchangeable.

Every request goes through the same steps on the server: bounded body read,
signature check (``signing``), JSON parse, strict field validation
(``validate``), the agent's verb, JSON answer ``{"result": ...}`` or
``{"error": {"code": ..., "message": ...}}``.
"""

import dataclasses
import http.server
import ipaddress
import json
import re
import socket
import socketserver
import threading
import time

from oslo_log import log as logging
import requests
import urllib3.exceptions

from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names
from cinder.volume.drivers.ovt import signing
from cinder.volume.drivers.ovt import validate

LOG = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
REQUEST_READ_TIMEOUT_S = 60
_DIGITS_RE = re.compile(r'^[0-9]{1,12}$')


@dataclasses.dataclass(frozen=True)
class Route(object):
    """One API route: the verb it carries and how its result looks."""

    verb: str
    method: str
    template: str
    returns_object: bool

    @property
    def has_name(self):
        """Return whether the path carries a resource name."""
        return '{name}' in self.template

    def path(self, name=None):
        """Return the request path for a resource name."""
        if self.has_name:
            return self.template.replace('{name}', name)
        return self.template

    def match(self, path):
        """Return (True, name) if the path is this route's, else (False, _)."""
        parts = path.split('/')
        wanted = self.template.split('/')
        if len(parts) != len(wanted):
            return False, None
        name = None
        for part, want in zip(parts, wanted):
            if want == '{name}':
                if not part:
                    return False, None
                name = part
            elif part != want:
                return False, None
        return True, name


ROUTES = (
    Route('describe', 'GET', '/v1/host', True),
    Route('used_ids', 'GET', '/v1/allocations', True),
    Route('ensure_replica', 'PUT', '/v1/replicas/{name}', True),
    Route('remove_replica', 'DELETE', '/v1/replicas/{name}', False),
    Route('grow_replica', 'POST', '/v1/replicas/{name}/grow', False),
    Route('resize_device', 'POST', '/v1/replicas/{name}/resize', False),
    Route('skip_initial_sync', 'POST', '/v1/replicas/{name}/skip-sync',
          False),
    Route('promote', 'POST', '/v1/replicas/{name}/promote', True),
    Route('demote', 'POST', '/v1/replicas/{name}/demote', True),
    Route('status', 'POST', '/v1/status', True),
    Route('failover_view', 'POST', '/v1/failover/view', True),
    Route('demote_many', 'POST', '/v1/roles/demote', True),
    Route('promote_many', 'POST', '/v1/roles/promote', True),
    Route('unexport_many', 'POST', '/v1/exports/remove', True),
    Route('snapshot_replica', 'POST', '/v1/snapshots/create', False),
    Route('remove_snapshot', 'POST', '/v1/snapshots/remove', False),
    Route('snapshot_info', 'POST', '/v1/snapshots/info', True),
    Route('set_protocol', 'POST', '/v1/replicas/{name}/protocol', True),
    Route('release_replica', 'POST', '/v1/replicas/{name}/release', False),
)
ROUTES_BY_VERB = {r.verb: r for r in ROUTES}

# Error codes in {"error": {"code": ...}} besides the signing ones.
CODE_BAD_REQUEST = 'bad_request'
CODE_LENGTH_REQUIRED = 'length_required'
CODE_TOO_LARGE = 'body_too_large'
CODE_UNKNOWN_ROUTE = 'unknown_route'
CODE_METHOD = 'method_not_allowed'
CODE_INVALID_NAME = 'invalid_name'
CODE_INVALID = 'invalid_request'
CODE_NOT_FOUND = 'not_found'
CODE_CONFLICT = 'conflict'
CODE_FROZEN = 'frozen'
CODE_REFUSED = 'refused'
CODE_DRBD = 'drbd_command_failed'
CODE_INTERNAL = 'internal_error'

# Handler exceptions → (HTTP status, code); the first match wins.
_ERRORS = (
    (exception.InvalidName, 400, CODE_INVALID_NAME),
    (exception.ResourceNotFound, 404, CODE_NOT_FOUND),
    (exception.HostFrozen, 409, CODE_FROZEN),
    (exception.ReplicaConflict, 409, CODE_CONFLICT),
    (exception.RoleChangeRefused, 409, CODE_REFUSED),
    (exception.DrbdCommandError, 500, CODE_DRBD),
)


def _dumps(obj):
    return json.dumps(obj, separators=(',', ':'), sort_keys=True,
                      allow_nan=False).encode('utf-8')


class _Reply(Exception):
    """An error answer decided before or instead of calling the handler."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = tuple(headers)


def _error(status, code, message, headers=()):
    payload = {'error': {'code': code, 'message': str(message)}}
    return status, payload, tuple(headers)


class Dispatcher(object):
    """Verify, parse, validate and call the handler for one request.

    Socket-free, so that the whole decision is testable on its own.
    """

    def __init__(self, verifier, handler, backend_id, volume_group):
        self._verifier = verifier
        self._handler = handler
        self._backend_id = backend_id
        self._volume_group = volume_group

    def dispatch(self, method, target, headers, body, client='?'):
        """Return (status, payload, extra headers) for a request."""
        try:
            sender = self._verifier.verify(method, target, headers, body)
        except signing.SignatureError as exc:
            hint = ''
            if isinstance(exc, signing.BadSignature):
                hint = ' (different replication_internal_secret?)'
            LOG.warning('Rejected peer request %(method)s %(target)s from '
                        '%(sender)s at %(client)s: %(code)s: %(reason)s'
                        '%(hint)s',
                        {'method': validate.printable(method),
                         'target': validate.printable(target),
                         'sender': validate.printable(
                             headers.get(signing.HEADER_BACKEND) or
                             'an unnamed sender'),
                         'client': client, 'code': exc.code,
                         'reason': exc.reason, 'hint': hint})
            return _error(401, exc.code, exc.reason)
        try:
            route, name = self._route(method, target)
            args, kwargs = self._arguments(route, name, body)
        except _Reply as reply:
            LOG.warning('Refused peer request %(method)s %(target)s from '
                        '%(sender)s: %(message)s',
                        {'method': method,
                         'target': validate.printable(target),
                         'sender': sender, 'message': reply.message})
            return _error(reply.status, reply.code, reply.message,
                          reply.headers)
        return self._call(route, sender, args, kwargs)

    def _route(self, method, target):
        if '?' in target or '#' in target:
            raise _Reply(400, CODE_BAD_REQUEST, 'no query string expected')
        allowed = []
        for route in ROUTES:
            matched, name = route.match(target)
            if not matched:
                continue
            if route.method == method:
                return route, name
            allowed.append(route.method)
        if allowed:
            raise _Reply(405, CODE_METHOD,
                         'method %s not allowed on %s' %
                         (validate.printable(method),
                          validate.printable(target)),
                         [('Allow', ', '.join(sorted(allowed)))])
        raise _Reply(404, CODE_UNKNOWN_ROUTE,
                     'no route %s' % validate.printable(target))

    def _arguments(self, route, name, body):
        try:
            obj = validate.loads(body)
            args = (validate.resource_name(name),) if route.has_name else ()
            if route.verb == 'ensure_replica':
                spec = validate.replica_spec(obj, self._backend_id,
                                             self._volume_group)
                return args + (spec,), {}
            if route.verb in ('grow_replica', 'release_replica'):
                validate.fields('request', obj, required=('size_bytes',))
                return args + (validate.size_bytes(obj['size_bytes']),), {}
            if route.verb == 'promote':
                validate.fields('request', obj, optional=('force',))
                force = validate.boolean('force', obj.get('force', False))
                return args, {'force': force}
            if route.verb in ('status', 'failover_view'):
                validate.fields('request', obj, optional=('names',))
                return args, {'names': validate.resource_names(
                    obj.get('names'))}
            if route.verb in ('demote_many', 'unexport_many'):
                validate.fields('request', obj, required=('names',))
                return (validate.resource_names(obj['names']),), {}
            if route.verb == 'snapshot_replica':
                validate.fields('request', obj,
                                required=('volume', 'snapshot'))
                return ((validate.resource_name(obj['volume']),
                         names.validate_snapshot_name(obj['snapshot'])), {})
            if route.verb == 'set_protocol':
                validate.fields('request', obj, required=('protocol',))
                return args + (validate.protocol(obj['protocol']),), {}
            if route.verb in ('remove_snapshot', 'snapshot_info'):
                validate.fields('request', obj, required=('snapshot',))
                return ((names.validate_snapshot_name(obj['snapshot']),),
                        {})
            if route.verb == 'promote_many':
                validate.fields('request', obj, required=('names',),
                                optional=('force',))
                force = validate.boolean('force', obj.get('force', False))
                return ((validate.resource_names(obj['names']),),
                        {'force': force})
            validate.fields('request', obj)
            return args, {}
        except exception.InvalidName as exc:
            raise _Reply(400, CODE_INVALID_NAME, str(exc))
        except ValueError as exc:
            raise _Reply(400, CODE_INVALID, str(exc))

    def _call(self, route, sender, args, kwargs):
        what = {'verb': route.verb, 'sender': sender,
                'name': ' %s' % args[0] if route.has_name else ''}
        try:
            result = getattr(self._handler, route.verb)(*args, **kwargs)
            return 200, {'result': result}, ()
        except Exception as exc:
            for cls, status, code in _ERRORS:
                if isinstance(exc, cls):
                    break
            else:
                status, code = 500, CODE_INTERNAL
            what.update(code=code, error=str(exc))
            if status == 500 and code == CODE_INTERNAL:
                LOG.exception('Peer request %(verb)s%(name)s from '
                              '%(sender)s failed: %(error)s', what)
            elif status == 500:
                LOG.error('Peer request %(verb)s%(name)s from %(sender)s '
                          'failed: %(error)s', what)
            else:
                LOG.info('Peer request %(verb)s%(name)s from %(sender)s: '
                         '%(code)s: %(error)s', what)
            return _error(status, code, str(exc) or type(exc).__name__)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    """Reads one request, hands it to the dispatcher, writes JSON."""

    server_version = 'ev3-peer'
    sys_version = ''
    timeout = REQUEST_READ_TIMEOUT_S

    def log_message(self, format, *args):
        LOG.debug('Peer API %(client)s: %(line)s',
                  {'client': self.client_address[0],
                   'line': validate.printable(format % args, 300)})

    def send_error(self, code, message=None, explain=None):
        """Answer a malformed HTTP request in JSON, like every answer."""
        self.close_connection = True
        self._send(*_error(code, CODE_BAD_REQUEST,
                           message or http.HTTPStatus(code).phrase))

    def _send(self, status, payload, headers=()):
        try:
            body = _dumps(payload)
        except (TypeError, ValueError) as exc:
            LOG.error('Peer API: result is not JSON: %s', exc)
            status, payload, headers = _error(
                500, CODE_INTERNAL, 'result is not JSON-serialisable')
            body = _dumps(payload)
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _read_body(self, limit):
        if self.headers.get('Transfer-Encoding') is not None:
            raise _Reply(411, CODE_LENGTH_REQUIRED,
                         'Transfer-Encoding is not accepted; send '
                         'Content-Length')
        lengths = self.headers.get_all('Content-Length') or []
        if not lengths:
            raise _Reply(411, CODE_LENGTH_REQUIRED, 'Content-Length required')
        if len(lengths) > 1 or not _DIGITS_RE.match(lengths[0].strip()):
            raise _Reply(400, CODE_BAD_REQUEST, 'invalid Content-Length')
        length = int(lengths[0])
        if length > limit:
            raise _Reply(413, CODE_TOO_LARGE,
                         'body of %d bytes exceeds the limit of %d bytes' %
                         (length, limit))
        body = self.rfile.read(length)
        if len(body) != length:
            raise _Reply(400, CODE_BAD_REQUEST, 'incomplete body')
        return body

    def _serve(self):
        server = self.server
        client = '%s:%s' % self.client_address[:2]
        try:
            body = self._read_body(server.ev3_max_body)
        except _Reply as reply:
            self.close_connection = True
            LOG.warning('Refused peer request %(method)s %(target)s from '
                        '%(client)s: %(message)s',
                        {'method': self.command,
                         'target': validate.printable(self.path),
                         'client': client, 'message': reply.message})
            self._send(*_error(reply.status, reply.code, reply.message))
            return
        try:
            reply = server.ev3_dispatcher.dispatch(
                self.command, self.path, self.headers, body, client)
        except Exception:
            LOG.exception('Peer API: request from %s failed', client)
            reply = _error(500, CODE_INTERNAL, 'internal error')
        self._send(*reply)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve


class _HTTPServer(http.server.ThreadingHTTPServer):
    """Threaded HTTP server that does no DNS lookups and logs its errors."""

    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        LOG.warning('Peer API: connection from %s failed', client_address,
                    exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class PeerServer(object):
    """Serves the host verbs of ``handler`` over signed HTTP."""

    def __init__(self, address, port, secret, handler, backend_id,
                 volume_group, clock=time.time,
                 window_s=signing.DEFAULT_WINDOW_S,
                 max_body_bytes=MAX_BODY_BYTES):
        self._ip = ipaddress.ip_address(address)
        self._requested_port = port
        self._backend_id = backend_id
        self._max_body = max_body_bytes
        self._dispatcher = Dispatcher(
            signing.Verifier(secret, clock=clock, window_s=window_s),
            handler, backend_id, volume_group)
        self._server = None
        self._thread = None
        self._bound_port = None

    def __repr__(self):
        return '<PeerServer %s on %s:%s>' % (self._backend_id, self._ip,
                                             self.port)

    @property
    def port(self):
        """Return the port bound (kept after stop), else the one asked."""
        return self._bound_port or self._requested_port

    def start(self):
        """Bind and serve in a daemon thread; return once listening."""
        if self._server is not None:
            raise RuntimeError('%r is already started' % self)
        cls = _HTTPServer6 if self._ip.version == 6 else _HTTPServer
        server = cls((str(self._ip), self._requested_port), _RequestHandler)
        server.ev3_dispatcher = self._dispatcher
        server.ev3_max_body = self._max_body
        self._server = server
        self._bound_port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, name='ev3-peer-api', daemon=True)
        self._thread.start()
        LOG.info('ev3 peer API of %(backend)s listening on %(ip)s:%(port)s',
                 {'backend': self._backend_id, 'ip': self._ip,
                  'port': self.port})

    def stop(self):
        """Stop serving and close the listening socket; idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(10)
        self._server = self._thread = None
        LOG.info('ev3 peer API of %s stopped', self._backend_id)


def _never_sent(exc):
    """Return whether a requests error happened before the request left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, 'reason', reason)
    # NewConnectionError (refused, unreachable) subclasses this one.
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)


class PeerClient(object):
    """Calls a peer's host verbs over signed HTTP.

    Same methods, arguments and results as ``HostAgent``.  Failures raise
    ``PeerError`` (``PeerAuthError`` when the peer refuses our signature), or
    the agent's own exceptions when the peer raised them: ``HostFrozen``,
    ``ReplicaConflict``, ``RoleChangeRefused``, ``ResourceNotFound``.
    """

    def __init__(self, backend_id, address, port, secret, own_backend_id,
                 timeout=(3.05, 60), retries=3, session=None,
                 clock=time.time, backoff_s=0.25):
        self.backend_id = backend_id
        ip = ipaddress.ip_address(address)
        host = '[%s]' % ip if ip.version == 6 else str(ip)
        self._base_url = 'http://%s:%d' % (host, validate.port(port))
        self._signer = signing.Signer(secret, clock=clock,
                                      backend_id=own_backend_id)
        self._timeout = timeout
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        if session is None:
            session = requests.Session()
            session.trust_env = False     # never go through an HTTP proxy
        self._session = session

    def __repr__(self):
        return '<PeerClient %s at %s>' % (self.backend_id, self._base_url)

    def describe(self):
        """Return the peer's description (backend, node, VG, frozen...)."""
        return self._call('describe')

    def used_ids(self):
        """Return the minors and ports used on the peer."""
        return self._call('used_ids')

    def ensure_replica(self, name, spec):
        """Create what is missing for the replica; return its status."""
        return self._call('ensure_replica', name, spec)

    def remove_replica(self, name):
        """Remove the replica; quiet if already gone."""
        return self._call('remove_replica', name)

    def grow_replica(self, name, size_bytes):
        """Grow the replica's LV for a new usable size."""
        return self._call('grow_replica', name, {'size_bytes': size_bytes})

    def resize_device(self, name):
        """Run the DRBD resize on the peer (its Primary)."""
        return self._call('resize_device', name)

    def skip_initial_sync(self, name):
        """Skip the initial sync of a new thin replica."""
        return self._call('skip_initial_sync', name)

    def promote(self, name, force=False):
        """Make the peer's replica Primary; return its status."""
        return self._call('promote', name, {'force': force})

    def demote(self, name):
        """Make the peer's replica Secondary; return its status."""
        return self._call('demote', name)

    def status(self, names=None):
        """Return {name: status} for the given resources (all if None)."""
        if names is not None:
            names = list(names)
        return self._call('status', None, {'names': names})

    def failover_view(self, names=None):
        """Return the peer's {name: role, disk, exported, links}."""
        if names is not None:
            names = list(names)
        return self._call('failover_view', None, {'names': names})

    def demote_many(self, names):
        """Demote resources on the peer in one call; per-name results."""
        return self._call('demote_many', None, {'names': sorted(names)})

    def promote_many(self, names, force=False):
        """Promote resources on the peer in one call; per-name results."""
        return self._call('promote_many', None,
                          {'names': sorted(names), 'force': force})

    def unexport_many(self, names):
        """Remove the peer's exports of resources; per-name results."""
        return self._call('unexport_many', None, {'names': sorted(names)})

    def snapshot_replica(self, name, snapshot):
        """Take LV snapshot ``snapshot`` of the peer's replica of ``name``."""
        return self._call('snapshot_replica', None,
                          {'volume': name, 'snapshot': snapshot})

    def remove_snapshot(self, snapshot):
        """Remove the peer's LV snapshot ``snapshot``."""
        return self._call('remove_snapshot', None, {'snapshot': snapshot})

    def snapshot_info(self, snapshot):
        """Return whether the peer holds ``snapshot``, and its origin."""
        return self._call('snapshot_info', None, {'snapshot': snapshot})

    def set_protocol(self, name, protocol):
        """Change the peer's replication protocol of ``name``."""
        return self._call('set_protocol', name, {'protocol': protocol})

    def release_replica(self, name, size_bytes):
        """Take the peer's replica out of DRBD; keep ``size_bytes`` of it."""
        return self._call('release_replica', name,
                          {'size_bytes': size_bytes})

    def close(self):
        """Close the HTTP session's connections."""
        self._session.close()

    def _call(self, verb, name=None, body_obj=None):
        route = ROUTES_BY_VERB[verb]
        if route.has_name:
            validate.resource_name(name)
        path = route.path(name)
        body = b'' if body_obj is None else _dumps(body_obj)
        attempt = 0
        while True:
            attempt += 1
            headers = self._signer.sign(route.method, path, body)
            headers['Content-Type'] = 'application/json'
            headers['Content-Length'] = str(len(body))
            try:
                response = self._session.request(
                    route.method, self._base_url + path, data=body,
                    headers=headers, timeout=self._timeout,
                    allow_redirects=False)
                break
            except requests.exceptions.RequestException as exc:
                if _never_sent(exc) and attempt <= self._retries:
                    delay = self._backoff_s * (2 ** (attempt - 1))
                    LOG.warning('Peer %(peer)s unreachable for %(verb)s '
                                '(attempt %(attempt)d), retrying in '
                                '%(delay).2f s: %(error)s',
                                {'peer': self.backend_id, 'verb': verb,
                                 'attempt': attempt, 'delay': delay,
                                 'error': exc})
                    time.sleep(delay)
                    continue
                raise exception.PeerError(
                    peer=self.backend_id,
                    reason=self._connection_problem(verb, exc))
        return self._result(route, name, response)

    def _connection_problem(self, verb, exc):
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return '%s: cannot connect to %s (timed out)' % (
                verb, self._base_url)
        if isinstance(exc, requests.exceptions.Timeout):
            return ('%s: no answer from %s within %s s; the request may '
                    'have been applied' % (verb, self._base_url,
                                           self._timeout))
        if _never_sent(exc):
            return '%s: cannot connect to %s: %s' % (verb, self._base_url,
                                                     exc)
        return '%s: connection to %s failed: %s' % (verb, self._base_url,
                                                    exc)

    def _result(self, route, name, response):
        status = response.status_code
        try:
            payload = validate.loads(response.content)
        except ValueError:
            payload = None
        if 200 <= status < 300:
            if not isinstance(payload, dict) or 'result' not in payload:
                raise exception.PeerError(
                    peer=self.backend_id,
                    reason='%s: HTTP %d answer without a result' %
                    (route.verb, status))
            result = payload['result']
            if not route.returns_object:
                return None
            if not isinstance(result, dict):
                raise exception.PeerError(
                    peer=self.backend_id,
                    reason='%s: result is not an object' % route.verb)
            return result
        error = payload.get('error') if isinstance(payload, dict) else None
        if isinstance(error, dict):
            code = validate.printable(error.get('code'), 40)
            message = validate.printable(error.get('message'), 500)
        else:
            code = 'http_%d' % status
            message = validate.printable(response.text, 200)
        raise self._remote_error(route, name, status, code, message)

    def _remote_error(self, route, name, status, code, message):
        peer = self.backend_id
        if status == 401 and code == signing.BadSignature.code:
            return exception.PeerAuthError(peer=peer, reason=code)
        if status == 404 and code == CODE_NOT_FOUND and name:
            return exception.ResourceNotFound(name=name, host=peer)
        if status == 409 and code == CODE_FROZEN:
            return exception.HostFrozen(host=peer, action=route.verb)
        if status == 409 and code == CODE_CONFLICT:
            return exception.ReplicaConflict(name=name, host=peer,
                                             reason=message)
        if status == 409 and code == CODE_REFUSED:
            role = 'Primary' if route.verb == 'promote' else 'Secondary'
            return exception.RoleChangeRefused(name=name, role=role,
                                               host=peer, reason=message)
        hint = ''
        if code == signing.StaleRequest.code:
            hint = ' (are the clocks of both hosts in sync?)'
        return exception.PeerError(
            peer=peer, reason='%s: HTTP %d %s: %s%s' %
            (route.verb, status, code, message, hint))
