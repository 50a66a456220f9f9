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
"""DRBD configuration files as drbdadm reads them.

A generic parser for the drbd.conf syntax (``keyword args ;`` statements and
``keyword args { ... }`` blocks, ``#`` comments, quoted strings) followed by
a schema check per section that refuses unknown keywords with drbdadm's
"Parse error" (exit 10), and DRBD 9-only keywords on 8.4 hosts.  A resource
file set is parsed as drbdadm does: every ``*.res`` of the host's
``etc/drbd.d``; an error in any file fails every command.  Parsed files are
cached by file identity so 500 resources cost one parse each.
"""

import dataclasses
import ipaddress
import os
import re
import typing

from cinder.tests.unit.volume.drivers.ovt.sim import state

E_CONFIG = 10
ETC = '/etc/drbd.d'
_STMT, _BLOCK, _EITHER = 'stmt', 'block', 'either'
_DISK_OPTS = ('resync-rate', 'c-plan-ahead', 'c-max-rate', 'c-min-rate',
              'c-fill-target', 'c-delay-target', 'size', 'on-io-error',
              'fencing', 'al-extents', 'al-updates', 'disk-barrier',
              'disk-flushes', 'disk-drain', 'md-flushes', 'resync-after',
              'read-balancing', 'rs-discard-granularity',
              'discard-zeroes-if-aligned', 'disk-timeout', 'max-bio-bvecs')
_NET_OPTS = ('protocol', 'after-sb-0pri', 'after-sb-1pri', 'after-sb-2pri',
             'allow-two-primaries', 'shared-secret', 'cram-hmac-alg',
             'ping-int', 'ping-timeout', 'connect-int', 'timeout',
             'max-buffers', 'max-epoch-size', 'sndbuf-size', 'rcvbuf-size',
             'ko-count', 'verify-alg', 'csums-alg', 'rr-conflict', 'fencing',
             'data-integrity-alg', 'tcp-cork', 'on-congestion',
             'congestion-fill', 'congestion-extents', 'transport', 'use-rle',
             'always-asbp', 'discard-my-data', 'unplug-watermark')
_NINE_ONLY = {'node-id', 'connection-mesh', 'connection', 'quorum',
              'on-no-quorum', 'auto-promote', 'auto-promote-timeout',
              'transport', 'quorum-minimum-redundancy'}
_SCHEMA = {
    'top': ('a top-level keyword', {
        'resource': (_BLOCK, 1, 1, 'resource'),
        'common': (_BLOCK, 0, 0, 'resource'),
        'global': (_BLOCK, 0, 0, 'global')}),
    'global': ('a global keyword', {
        k: (_STMT, 0, 1) for k in ('usage-count', 'udev-always-use-vnr',
                                   'minor-count', 'dialog-refresh',
                                   'disable-ip-verification')}),
    'resource': ('a resource keyword', {
        'protocol': (_STMT, 1, 1), 'device': (_STMT, 1, 3),
        'disk': (_EITHER, 1, 1, 'disk'), 'meta-disk': (_STMT, 1, 2),
        'address': (_STMT, 1, 2), 'on': (_BLOCK, 1, 1, 'host'),
        'net': (_BLOCK, 0, 0, 'net'), 'startup': (_BLOCK, 0, 0, 'startup'),
        'options': (_BLOCK, 0, 0, 'options'),
        'handlers': (_BLOCK, 0, 0, 'handlers'),
        'volume': (_BLOCK, 1, 1, 'volume'),
        'connection-mesh': (_BLOCK, 0, 0, 'mesh')}),
    'host': ('a host keyword', {
        'device': (_STMT, 1, 3), 'disk': (_EITHER, 1, 1, 'disk'),
        'address': (_STMT, 1, 2), 'meta-disk': (_STMT, 1, 2),
        'node-id': (_STMT, 1, 1), 'volume': (_BLOCK, 1, 1, 'volume')}),
    'volume': ('a volume keyword', {
        'device': (_STMT, 1, 3), 'disk': (_EITHER, 1, 1, 'disk'),
        'meta-disk': (_STMT, 1, 2)}),
    'mesh': ('a connection-mesh keyword', {
        'hosts': (_STMT, 1, 32), 'net': (_BLOCK, 0, 0, 'net')}),
    'disk': ('a disk option keyword', {k: (_STMT, 0, 1)
                                       for k in _DISK_OPTS}),
    'net': ('a net option keyword', {k: (_STMT, 0, 1) for k in _NET_OPTS}),
    'startup': ('a startup option keyword', {
        k: (_STMT, 0, 2) for k in ('wfc-timeout', 'degr-wfc-timeout',
                                   'outdated-wfc-timeout', 'wait-after-sb',
                                   'become-primary-on')}),
    'options': ('an option keyword', {
        k: (_STMT, 0, 1) for k in ('cpu-mask', 'on-no-data-accessible',
                                   'auto-promote', 'auto-promote-timeout',
                                   'quorum', 'on-no-quorum',
                                   'quorum-minimum-redundancy')}),
    'handlers': ('a handler keyword', {
        k: (_STMT, 1, 1) for k in ('split-brain', 'fence-peer',
                                   'unfence-peer', 'after-resync-target',
                                   'before-resync-target',
                                   'before-resync-source', 'pri-lost',
                                   'pri-lost-after-sb', 'pri-on-incon-degr',
                                   'local-io-error', 'out-of-sync',
                                   'initial-split-brain', 'quorum-lost',
                                   'emergency-shutdown')}),
}
_CHOICES = {
    'protocol': ('A', 'B', 'C'),
    'after-sb-0pri': ('disconnect', 'discard-younger-primary',
                      'discard-older-primary', 'discard-zero-changes',
                      'discard-least-changes', 'discard-local',
                      'discard-remote'),
    'after-sb-1pri': ('disconnect', 'consensus', 'violently-as0p',
                      'discard-secondary', 'call-pri-lost-after-sb'),
    'after-sb-2pri': ('disconnect', 'violently-as0p',
                      'call-pri-lost-after-sb'),
    'fencing': ('dont-care', 'resource-only', 'resource-and-stonith'),
    'rr-conflict': ('disconnect', 'call-pri-lost', 'violently',
                    'retry-connect', 'auto-discard'),
    'on-io-error': ('pass_on', 'call-local-io-error', 'detach'),
    'allow-two-primaries': ('yes', 'no'), 'auto-promote': ('yes', 'no')}
_TOKEN_RE = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"#]+')


@dataclasses.dataclass(frozen=True)
class Stmt(object):
    keyword: str
    args: tuple
    block: typing.Optional[tuple]
    line: int


@dataclasses.dataclass(frozen=True)
class NodeConf(object):
    name: str
    node_id: typing.Optional[int]
    minor: int
    disk: str
    address: str
    port: int

    @property
    def endpoint(self):
        return '%s:%d' % (self.address, self.port)


@dataclasses.dataclass(frozen=True)
class ResourceConf(object):
    name: str
    file: str
    line: int
    protocol: str
    resync_rate: int
    usize: typing.Optional[int]
    fencing: str
    after_sb: tuple
    two_primaries: bool
    auto_promote: bool
    nodes: tuple
    peers_of: tuple

    def node(self, name):
        for node in self.nodes:
            if node.name == name:
                return node
        return None

    def kernel_conf(self, local):
        """The JSON-able options the kernel keeps for host ``local``."""
        me = self.node(local)
        peers = dict(self.peers_of).get(local, ())
        return {'protocol': self.protocol, 'rate': self.resync_rate,
                'usize': self.usize, 'fencing': self.fencing,
                'sb': list(self.after_sb), 'two_pri': self.two_primaries,
                'auto_promote': self.auto_promote, 'addr': me.endpoint,
                'node_id': me.node_id, 'minor': me.minor, 'disk': me.disk,
                'peers': {p.name: {'addr': p.endpoint, 'node_id': p.node_id}
                          for p in self.nodes if p.name in peers}}


def _error(path, line, message):
    raise state.SimError(E_CONFIG, '%s:%d: %s\n' % (path, line, message))


def tokenize(text, path):
    tokens, line = [], 1
    for match in _TOKEN_RE.finditer(text):
        tok = match.group(0)
        if not tok.isspace() and not tok.startswith('#'):
            if tok.startswith('"'):
                tok = ('str', tok[1:-1].replace('\\"', '"'))
            tokens.append((tok, line))
        line += tok.count('\n') if isinstance(tok, str) else 0
    return tokens


def parse(text, path, drbd9):
    """The checked statement tree of one file, or SimError(10)."""
    tokens = tokenize(text, path)
    pos, tree = _parse_block(tokens, 0, path, 'top', drbd9, top=True)
    return tree


def _word(tok):
    return tok[1] if isinstance(tok, tuple) else tok


def _parse_block(tokens, pos, path, context, drbd9, top=False):
    expected, keywords = _SCHEMA[context]
    out = []
    while pos < len(tokens):
        tok, line = tokens[pos]
        if tok == '}' and not top:
            return pos + 1, tuple(out)
        keyword = _word(tok)
        rule = keywords.get(keyword)
        if tok in ('{', '}', ';') or rule is None or (
                keyword in _NINE_ONLY and not drbd9):
            _error(path, line, "Parse error: '%s' expected,\n\tbut got '%s'"
                   % (expected, keyword))
        args = []
        pos += 1
        while pos < len(tokens) and tokens[pos][0] not in ('{', '}', ';'):
            args.append(_word(tokens[pos][0]))
            pos += 1
        if pos >= len(tokens):
            _error(path, line, "Parse error: ';' expected,\n\tbut got "
                               "end of file")
        kind, low, high = rule[0], rule[1], rule[2]
        if tokens[pos][0] == '{':
            if kind == _STMT or (kind == _EITHER and args):
                _error(path, line, "Parse error: ';' expected,\n\tbut got "
                                   "'{'")
            if kind == _BLOCK and not low <= len(args) <= high:
                _error(path, line, "Parse error: '{' expected,\n\tbut got "
                                   "'%s'" % (args[-1] if args else keyword))
            pos, block = _parse_block(tokens, pos + 1, path, rule[3], drbd9)
            out.append(Stmt(keyword, tuple(args), block, line))
        elif tokens[pos][0] == ';':
            if kind == _BLOCK or not low <= len(args) <= high:
                _error(path, line, "Parse error: '%s' expected,\n\tbut got "
                                   "';'" % ('{' if kind == _BLOCK else
                                            'a value'))
            _check_value(path, line, keyword, args)
            out.append(Stmt(keyword, tuple(args), None, line))
            pos += 1
        else:
            _error(path, line, "Parse error: ';' expected,\n\tbut got '}'")
    if not top:
        _error(path, tokens[-1][1] if tokens else 1,
               "Parse error: '}' expected,\n\tbut got end of file")
    return pos, tuple(out)


def _check_value(path, line, keyword, args):
    choices = _CHOICES.get(keyword)
    if choices and args and args[0] not in choices:
        _error(path, line, "Parse error: unknown value '%s' for %s"
               % (args[0], keyword))


def _size(path, line, text, default, what):
    match = re.match(r'^(\d+)([sSkKmMgGtT]?)$', text)
    if not match:
        _error(path, line, '%s: invalid value %r' % (what, text))
    unit = (match.group(2) or default).lower()
    return int(match.group(1)) * {'s': 512, 'k': 1024, 'm': 1024 ** 2,
                                  'g': 1024 ** 3, 't': 1024 ** 4}[unit]


def _address(path, line, args):
    text = args[-1]
    if len(args) == 2 and args[0] not in ('ipv4', 'ipv6'):
        _error(path, line, "Parse error: address family expected, got '%s'"
               % args[0])
    match = re.match(r'^\[?([0-9A-Fa-f.:]+?)\]?:(\d+)$', text)
    try:
        ip = ipaddress.ip_address(match.group(1))
        port = int(match.group(2))
    except (AttributeError, ValueError):
        ip, port = None, 0
    if ip is None or not 0 < port < 65536:
        _error(path, line, "invalid address '%s'" % text)
    return str(ip), port


def _minor(path, line, args):
    if args[0] == 'minor' and len(args) == 2:
        return int(args[1]) if args[1].isdigit() else _error(
            path, line, "invalid minor '%s'" % args[1])
    match = re.match(r'^/dev/drbd(\d+)$', args[0])
    named = int(match.group(1)) if match else None
    if len(args) == 3 and args[1] == 'minor' and args[2].isdigit():
        if named is not None and named != int(args[2]):
            _error(path, line, "device name %s and minor %s do not agree"
                   % (args[0], args[2]))
        return int(args[2])
    if named is None or len(args) != 1:
        _error(path, line, "Parse error: device minor expected")
    return named


def _options(stmts, section):
    found = {}
    for stmt in stmts:
        if stmt.keyword == section and stmt.block is not None:
            for opt in stmt.block:
                found[opt.keyword] = (opt.args[0] if opt.args else 'yes',
                                      opt.line)
    return found


def _host(path, res, stmt, defaults, drbd9):
    values = dict(defaults)
    for item in stmt.block:
        if item.keyword == 'volume':
            for sub in item.block:
                values[sub.keyword] = sub
        else:
            values[item.keyword] = item
    name = stmt.args[0]
    for needed in ('device', 'disk', 'address', 'meta-disk'):
        if needed not in values or values[needed].block is not None:
            _error(path, stmt.line, "in resource %s, on %s { ... }: '%s' "
                                    "keyword missing." % (res, name, needed))
    if values['meta-disk'].args != ('internal',):
        _error(path, stmt.line, 'sim: only meta-disk internal is simulated')
    if values['disk'].args == ('none',):
        _error(path, stmt.line, 'sim: diskless nodes are not simulated')
    node_id = None
    if drbd9:
        if 'node-id' not in values or not values['node-id'].args[0].isdigit():
            _error(path, stmt.line, "in resource %s, on %s { ... }: "
                                    "'node-id' keyword missing." % (res, name))
        node_id = int(values['node-id'].args[0])
    ip, port = _address(path, values['address'].line, values['address'].args)
    return NodeConf(name, node_id, _minor(path, values['device'].line,
                                          values['device'].args),
                    values['disk'].args[0], ip, port)


def resource(path, stmt, common, drbd9):
    """A ResourceConf from a ``resource`` statement."""
    name = stmt.args[0]
    body = tuple(common) + stmt.block
    defaults = {s.keyword: s for s in stmt.block
                if s.keyword in ('device', 'disk', 'meta-disk') and
                s.block is None}
    nodes = tuple(_host(path, name, s, defaults, drbd9)
                  for s in stmt.block if s.keyword == 'on')
    if len(nodes) < 1:
        _error(path, stmt.line, 'in resource %s: no host (on) sections'
               % name)
    if not drbd9 and len(nodes) > 2:
        _error(path, stmt.line, 'in resource %s: DRBD 8.4 supports two '
                                'hosts per resource, found %d'
               % (name, len(nodes)))
    names = [n.name for n in nodes]
    mesh = [s for s in stmt.block if s.keyword == 'connection-mesh']
    if mesh:
        hosts = [h for s in mesh[0].block if s.keyword == 'hosts'
                 for h in s.args]
        unknown = set(hosts) - set(names)
        if unknown:
            _error(path, mesh[0].line, 'in resource %s: connection-mesh '
                                       'names unknown host %s'
                   % (name, sorted(unknown)[0]))
        connected = hosts
    elif len(nodes) > 2:
        _error(path, stmt.line, 'resource %s: cannot figure out the '
                                'connections; use connection-mesh' % name)
    else:
        connected = names
    peers_of = tuple((n, tuple(h for h in connected if h != n))
                     for n in connected)
    net = _options(body, 'net')
    net.update(_options(mesh[0].block if mesh else (), 'net'))
    disk = _options(body, 'disk')
    opts = _options(body, 'options')
    protocol = net.get('protocol', ('C', 0))[0]
    for item in body:
        if item.keyword == 'protocol':
            protocol = item.args[0]
    rate = disk.get('resync-rate')
    size = disk.get('size')
    fencing = net.get('fencing', disk.get('fencing', ('dont-care', 0)))[0]
    return ResourceConf(
        name=name, file=path, line=stmt.line, protocol=protocol,
        resync_rate=(_size(path, rate[1], rate[0], 'k', 'resync-rate')
                     if rate else 250 * 1024),
        usize=_size(path, size[1], size[0], 's', 'size') if size else None,
        fencing=fencing,
        after_sb=tuple(net.get(k, ('disconnect', 0))[0] for k in (
            'after-sb-0pri', 'after-sb-1pri', 'after-sb-2pri')),
        two_primaries=net.get('allow-two-primaries', ('no', 0))[0] == 'yes',
        auto_promote=opts.get('auto-promote', ('yes', 0))[0] == 'yes',
        nodes=nodes, peers_of=peers_of)


@dataclasses.dataclass(frozen=True)
class ConfigSet(object):
    """Every resource of a host's drbd.d, or the first error in it."""

    resources: dict
    texts: dict
    error: typing.Optional[state.SimError]

    def get(self, name, host):
        """The ResourceConf of ``name`` for ``host``, or drbdadm's error."""
        if self.error is not None:
            raise self.error
        conf = self.resources.get(name)
        if conf is None or conf.node(host) is None:
            raise state.SimError(
                E_CONFIG, "'%s' not defined in your config (for this host)."
                          "\n" % name)
        return conf


def _check_conflicts(resources, host):
    minors, ports = {}, {}
    for conf in resources.values():
        node = conf.node(host)
        if node is None:
            continue
        for table, key, what in ((minors, node.minor, "device-minor 'minor "
                                  "%d'" % node.minor),
                                 (ports, node.endpoint, "IP '%s'"
                                  % node.endpoint)):
            if key in table:
                first = table[key]
                _error(conf.file, conf.line, 'conflicting use of %s ...\n'
                       '%s:%d: %s first used here.'
                       % (what, first.file, first.line, what))
            table[key] = conf


def load(cache, directory, host, drbd9, focus=None):
    """The ConfigSet of ``directory`` (cached by file identity)."""
    try:
        st = os.stat(directory)
        dirkey = (st.st_ino, st.st_mtime_ns, drbd9)
    except FileNotFoundError:
        return ConfigSet({}, {}, None)
    entry = cache.get(directory)
    # Directory mtimes are coarse (a clock tick): only a focused lookup,
    # which re-reads its own file, may trust the directory's cache.
    if entry is not None and entry[0] == dirkey and focus is not None and \
            _same(entry[2], focus):
        return entry[1]
    files = cache.setdefault('files', {})
    resources, texts, error = {}, {}, None
    entries = sorted((e.name, e.inode()) for e in os.scandir(directory)
                     if e.name.endswith('.res') and
                     not e.name.startswith('.'))
    for fname, inode in entries:
        path = os.path.join(directory, fname)
        cached = files.get(path)
        try:
            fst = os.stat(path)
            # Inode numbers are reused by atomic replaces and mtimes can
            # repeat within a clock tick: only the text tells a rewrite.
            with open(path) as handle:
                text = handle.read()
        except FileNotFoundError:
            continue
        if cached is None or cached[2] != text:
            key = (fst.st_ino, fst.st_mtime_ns, fst.st_size, drbd9)
            cached = (key, _parse_file(text, os.path.join(ETC, fname),
                                       drbd9), text)
            files[path] = cached
        elif cached[0][3] != drbd9:
            files.pop(path)
            return load(cache, directory, host, drbd9, focus)
        texts[fname[:-4]] = cached[2]
        if isinstance(cached[1], state.SimError):
            error = error or cached[1]
            continue
        for conf in cached[1]:
            if conf.name in resources:
                error = error or state.SimError(E_CONFIG, '%s:%d: conflicting'
                                                ' use of resource name %s\n'
                                                % (conf.file, conf.line,
                                                   conf.name))
            resources[conf.name] = conf
    if error is None:
        try:
            _check_conflicts(resources, host)
        except state.SimError as err:
            error = err
    result = ConfigSet(resources, texts, error)
    stamps = {fname: os.path.join(directory, fname + '.res')
              for fname in texts}
    cache[directory] = (dirkey, result, (stamps, files))
    return result


def _same(stamps_files, focus):
    stamps, files = stamps_files
    path = stamps.get(focus)
    if path is None:
        return False
    try:
        fst = os.stat(path)
    except FileNotFoundError:
        return False
    cached = files.get(path)
    if cached is None or cached[0][:3] != (
            fst.st_ino, fst.st_mtime_ns, fst.st_size):
        return False
    try:
        with open(path) as handle:
            return handle.read() == cached[2]
    except FileNotFoundError:
        return False


def _parse_file(text, path, drbd9):
    try:
        tree = parse(text, path, drbd9)
        common = [b for s in tree if s.keyword == 'common' for b in s.block]
        return [resource(path, s, common, drbd9) for s in tree
                if s.keyword == 'resource']
    except state.SimError as err:
        return err
