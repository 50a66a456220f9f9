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
"""The DRBD model: states, resources, versions, resource files, status.

Pure code: nothing here runs a command or touches a file.  Tool output is
parsed once, here, into frozen objects; resource files are rendered from a
``Resource``.  The wire form of a resource is the ``spec`` of
``ensure_replica`` in doc/source/contributor/internals.rst.
"""

import dataclasses
import enum
import ipaddress
import json
import re
import typing

from oslo_log import log as logging

from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names

LOG = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB
HEADER_PREFIX = '# ev3-resource: '
MAX_MINOR = 1048575          # drbd.conf(5): minor-count 1..1048575
MAX_NODE_ID = 31             # DRBD 9 node ids (DRBD_NODE_ID_MAX)
MAX_RESYNC_MIB = 4096        # resync-rate / c-max-rate limit, 4 GiB/s
_HOST_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
_VG_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$')
_SECRET_RE = re.compile(r'^[\x21\x23-\x5b\x5d-\x7e]{1,64}$')
_SPEC_KEYS = {'size_bytes', 'thin', 'protocol', 'resync_rate_mib', 'nodes'}
_NODE_KEYS = {'backend_id', 'node_name', 'node_id', 'address', 'port',
              'minor', 'volume_group'}


class ParseError(exception.Ev3Error, ValueError):
    """Text from DRBD (or a resource file header) could not be parsed."""


class _State(str, enum.Enum):
    """A DRBD state word; words this code does not know become UNKNOWN."""

    @classmethod
    def _missing_(cls, value):
        LOG.warning('Unrecognised DRBD %s %r', cls.__name__, value)
        return cls.UNKNOWN


def _states(name, **words):
    words['UNKNOWN'] = 'Unknown'
    return _State(name, words, module=__name__, qualname=name)


Role = _states('Role', PRIMARY='Primary', SECONDARY='Secondary')
DiskState = _states(
    'DiskState', DISKLESS='Diskless', ATTACHING='Attaching',
    DETACHING='Detaching', FAILED='Failed', NEGOTIATING='Negotiating',
    INCONSISTENT='Inconsistent', OUTDATED='Outdated', DUNKNOWN='DUnknown',
    CONSISTENT='Consistent', UPTODATE='UpToDate')
Connection = _states(
    'Connection', STANDALONE='StandAlone', DISCONNECTING='Disconnecting',
    UNCONNECTED='Unconnected', TIMEOUT='Timeout', BROKEN_PIPE='BrokenPipe',
    NETWORK_FAILURE='NetworkFailure', PROTOCOL_ERROR='ProtocolError',
    TEAR_DOWN='TearDown', CONNECTING='Connecting', CONNECTED='Connected')
Replication = _states(
    'Replication', OFF='Off', ESTABLISHED='Established',
    STARTING_SYNC_S='StartingSyncS', STARTING_SYNC_T='StartingSyncT',
    WF_BITMAP_S='WFBitMapS', WF_BITMAP_T='WFBitMapT',
    WF_SYNC_UUID='WFSyncUUID', SYNC_SOURCE='SyncSource',
    SYNC_TARGET='SyncTarget', PAUSED_SYNC_S='PausedSyncS',
    PAUSED_SYNC_T='PausedSyncT', VERIFY_S='VerifyS', VERIFY_T='VerifyT',
    AHEAD='Ahead', BEHIND='Behind')

_PROGRESS = {Replication.SYNC_SOURCE, Replication.SYNC_TARGET,
             Replication.PAUSED_SYNC_S, Replication.PAUSED_SYNC_T,
             Replication.VERIFY_S, Replication.VERIFY_T}


class Protocol(str, enum.Enum):
    """DRBD replication protocol; ``replication_mode`` names them."""

    A = 'A'
    B = 'B'
    C = 'C'

    @classmethod
    def from_mode(cls, mode):
        """async -> A, semi-sync -> B, full-sync -> C."""
        modes = {'async': cls.A, 'semi-sync': cls.B, 'full-sync': cls.C}
        if mode not in modes:
            raise exception.InvalidName(
                what='replication_mode', value=mode,
                reason='expected async, semi-sync or full-sync')
        return modes[mode]


def _invalid(what, value, reason):
    return exception.InvalidName(what=what, value=value, reason=reason)


def _int(what, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(what, value, 'must be an integer')
    if not low <= value <= high:
        raise _invalid(what, value, 'must be in %d..%d' % (low, high))
    return value


def _text(what, value, pattern):
    if not isinstance(value, str) or not pattern.match(value):
        raise _invalid(what, value, 'has characters or a length not allowed')
    return value


@dataclasses.dataclass(frozen=True)
class Node(object):
    """One host holding a replica of a resource."""

    backend_id: str
    node_name: str
    node_id: int
    address: str
    port: int
    minor: int
    volume_group: str

    def __post_init__(self):
        if (not isinstance(self.backend_id, str) or not self.backend_id or
                len(self.backend_id) > 255 or
                not self.backend_id.isprintable()):
            raise _invalid('backend_id', self.backend_id,
                           'must be 1-255 printable characters')
        _text('node_name', self.node_name, _HOST_RE)
        _int('node_id', self.node_id, 0, MAX_NODE_ID)
        try:
            ipaddress.ip_address(self.address)
        except ValueError:
            raise _invalid('address', self.address, 'must be an IP address')
        _int('port', self.port, 1, 65535)
        _int('minor', self.minor, 0, MAX_MINOR)
        _text('volume_group', self.volume_group, _VG_RE)
        if self.volume_group in ('.', '..'):
            raise _invalid('volume_group', self.volume_group, 'reserved')

    @property
    def device(self):
        """The DRBD device of this node."""
        return names.device_path(self.minor)

    def disk_path(self, resource_name):
        """The backing LV of ``resource_name`` on this node."""
        return names.lv_path(self.volume_group, resource_name)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict) or set(data) != _NODE_KEYS:
            raise _invalid('node', data,
                           'expected exactly %s' % sorted(_NODE_KEYS))
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class Resource(object):
    """A DRBD resource as ev3 configures it: one volume, 2+ nodes."""

    name: str
    nodes: typing.Tuple[Node, ...]
    protocol: Protocol
    resync_rate_mib: int
    size_bytes: int
    thin: bool
    shared_secret: typing.Optional[str] = dataclasses.field(
        default=None, repr=False)
    # A new replica seeded with the first ``seed_bytes`` of the LV
    # ``seed_lv`` of the same host (a snapshot or a volume): every replica
    # starts with the same data, so no initial sync is needed.
    seed_lv: typing.Optional[str] = None
    seed_bytes: typing.Optional[int] = None

    def __post_init__(self):
        names.validate_resource_name(self.name)
        if not isinstance(self.nodes, tuple) or len(self.nodes) < 2 or not all(
                isinstance(node, Node) for node in self.nodes):
            raise _invalid('nodes', self.nodes,
                           'need a tuple of at least two nodes')
        for field in ('backend_id', 'node_name', 'node_id'):
            values = [getattr(node, field) for node in self.nodes]
            if len(set(values)) != len(values):
                raise _invalid(field, values, 'must differ between nodes')
        if not isinstance(self.protocol, Protocol):
            raise _invalid('protocol', self.protocol, 'expected A, B or C')
        _int('resync_rate_mib', self.resync_rate_mib, 1, MAX_RESYNC_MIB)
        _int('size_bytes', self.size_bytes, 4 * KiB, 2 ** 60)
        if self.size_bytes % (4 * KiB):
            raise _invalid('size_bytes', self.size_bytes,
                           'must be a multiple of 4 KiB')
        if not isinstance(self.thin, bool):
            raise _invalid('thin', self.thin, 'must be true or false')
        if self.shared_secret is not None and (
                not isinstance(self.shared_secret, str) or
                not _SECRET_RE.match(self.shared_secret)):
            raise _invalid('shared secret', '<hidden>',
                           'need 1-64 printable characters without quotes '
                           'or backslashes')

        if (self.seed_lv is None) != (self.seed_bytes is None):
            raise _invalid('seed', (self.seed_lv, self.seed_bytes),
                           'needs both an LV and a byte count')
        if self.seed_lv is not None:
            if not (names.is_resource_name(self.seed_lv) or
                    names.SNAPSHOT_RE.match(str(self.seed_lv))):
                raise _invalid('seed lv', self.seed_lv,
                               'expected volume-<uuid> or _snapshot-<uuid>')
            _int('seed bytes', self.seed_bytes, 4 * KiB, self.size_bytes)
            if self.seed_bytes % MiB:
                raise _invalid('seed bytes', self.seed_bytes,
                               'must be a multiple of 1 MiB')

    def node(self, backend_id):
        """The node of ``backend_id``, or None."""
        for node in self.nodes:
            if node.backend_id == backend_id:
                return node
        return None

    def to_spec(self):
        """The JSON ``spec`` of ensure_replica (no name, no secret)."""
        spec = {'size_bytes': self.size_bytes,
                'thin': self.thin,
                'protocol': self.protocol.value,
                'resync_rate_mib': self.resync_rate_mib,
                'nodes': [node.to_dict() for node in self.nodes]}
        if self.seed_lv is not None:
            spec['seed'] = {'lv': self.seed_lv, 'bytes': self.seed_bytes}
        return spec

    @classmethod
    def from_spec(cls, name, spec, shared_secret):
        """Build from a spec received over the wire; refuses unknown keys."""
        if not isinstance(spec, dict) or set(spec) - {'seed'} != _SPEC_KEYS:
            raise _invalid('spec', spec if not isinstance(spec, dict)
                           else sorted(spec),
                           'expected exactly %s' % sorted(_SPEC_KEYS))
        nodes = spec['nodes']
        if not isinstance(nodes, list):
            raise _invalid('nodes', nodes, 'must be a list')
        protocol = spec['protocol']
        if protocol not in ('A', 'B', 'C'):
            raise _invalid('protocol', protocol, 'expected A, B or C')
        return cls(name=name,
                   nodes=tuple(Node.from_dict(node) for node in nodes),
                   protocol=Protocol(protocol),
                   resync_rate_mib=spec['resync_rate_mib'],
                   size_bytes=spec['size_bytes'],
                   thin=spec['thin'],
                   shared_secret=shared_secret,
                   **_seed_fields(spec.get('seed')))


def _seed_fields(seed):
    if seed is None:
        return {}
    if not isinstance(seed, dict) or set(seed) != {'lv', 'bytes'}:
        raise _invalid('seed', seed, "expected {'lv': ..., 'bytes': ...}")
    return {'seed_lv': seed['lv'], 'seed_bytes': seed['bytes']}


@dataclasses.dataclass(frozen=True)
class DrbdVersion(object):
    """Versions of the DRBD kernel module (None: not loaded) and utils."""

    kernel: typing.Optional[typing.Tuple[int, int, int]]
    utils: typing.Optional[typing.Tuple[int, int, int]]

    @property
    def is_9(self):
        """True when the loaded kernel module is DRBD 9 or later."""
        return self.kernel is not None and self.kernel[0] >= 9

    @property
    def kernel_text(self):
        """'8.4.11', or '' when no module is loaded."""
        return '.'.join(str(n) for n in self.kernel) if self.kernel else ''

    @property
    def utils_text(self):
        return '.'.join(str(n) for n in self.utils) if self.utils else ''

    @classmethod
    def parse(cls, text):
        """Parse the KEY=value lines of ``drbdadm --version``."""
        values = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition('=')
            if sep:
                values[key] = value.strip()
        kernel = _version_code(values.get('DRBD_KERNEL_VERSION_CODE'))
        utils = (_version_text(values.get('DRBDADM_VERSION')) or
                 _version_code(values.get('DRBDADM_VERSION_CODE')))
        if utils is None:
            raise ParseError(reason='no DRBDADM_VERSION in drbdadm --version '
                                    'output %r' % text[:200])
        return cls(kernel=kernel, utils=utils)


def _version_code(code):
    """0x08040b -> (8, 4, 11); 0 or absent -> None."""
    try:
        number = int(code, 16)
    except (TypeError, ValueError):
        return None
    if not number:
        return None
    return (number >> 16, (number >> 8) & 0xff, number & 0xff)


def _version_text(text):
    match = re.match(r'^(\d+)\.(\d+)\.(\d+)', text or '')
    return tuple(int(part) for part in match.groups()) if match else None


# -- sizes -------------------------------------------------------------------
#
# Internal meta data (DRBD User's Guide, "Estimating meta data size"; drbd.conf
# (5) "meta-disk"): it sits at the end of the backing device and takes a 4 KiB
# superblock, a 32 KiB activity log and a bitmap of one bit per 4 KiB of the
# backing device for each peer slot ("36 KiB + size / 32K * (nodes - 1)",
# rounded up to 4 KiB).  We size the bitmap on the whole LV (as DRBD does),
# keep each peer's bitmap in whole 64-bit words (DRBD 9 interleaves words),
# and leave the usable part 4 KiB aligned.  The resource file then pins the
# exposed size with the disk option ``size``, so a guest sees exactly the
# volume size and any LV slack from extent rounding stays unused.

_SUPERBLOCK = 4 * KiB
_ACTIVITY_LOG = 32 * KiB
_BLOCK = 4 * KiB


def _round_up(value, unit):
    return -(-value // unit) * unit


def _md_bytes(lv_bytes, peers):
    bits = -(-lv_bytes // _BLOCK)
    bitmap = _round_up(_round_up(bits, 64) // 8 * peers, _BLOCK)
    return _SUPERBLOCK + _ACTIVITY_LOG + bitmap


def usable_bytes(lv_bytes, peers):
    """What DRBD exposes from an LV of ``lv_bytes`` with internal md."""
    return max(0, (lv_bytes - _md_bytes(lv_bytes, peers)) // _BLOCK * _BLOCK)


def md_overhead_bytes(usable, peers):
    """Bytes of internal meta data for a device of ``usable`` bytes.

    The result is computed on the LV size: the smallest 4 KiB-aligned LV
    whose usable part is at least ``usable`` is ``usable + result``.
    """
    _int('usable size', usable, 1, 2 ** 60)
    _int('peers', peers, 1, MAX_NODE_ID)
    lv_bytes = _round_up(usable, _BLOCK)
    while True:   # least fixpoint of lv = usable + md(lv); converges in ~3
        wanted = _round_up(usable, _BLOCK) + _md_bytes(lv_bytes, peers)
        if wanted <= lv_bytes:
            break
        lv_bytes = wanted
    return lv_bytes - usable


def lv_bytes_for(usable, peers, extent=4 * MiB):
    """LV size for ``usable`` bytes of DRBD device, in whole extents."""
    return _round_up(usable + md_overhead_bytes(usable, peers), extent)


# -- resource files ----------------------------------------------------------

def header_dict(resource):
    """The JSON carried in the first line of a resource file."""
    spec = resource.to_spec()
    spec['name'] = resource.name
    return spec


def render(resource, version):
    """Resource file text for ``resource`` on DRBD ``version``.

    Checked against drbd.conf(5) of DRBD 8.4 and 9 (drbd-utils
    documentation/v84/drbd.conf.xml and v9/drbd.conf.xml.in):

    * ``device /dev/drbdN minor N`` is the documented full form (the parser
      insists that name and minor agree); ``meta-disk internal``;
      ``address ipv6 [addr]:port`` for IPv6 (the brackets are required).
    * ``protocol``, ``cram-hmac-alg``, ``shared-secret`` (at most 64
      characters), ``after-sb-{0,1,2}pri disconnect`` and ``rr-conflict
      disconnect`` are ``net`` options in both versions.
    * ``size`` and ``resync-rate`` are ``disk`` options (in DRBD 9
      ``resync-rate`` and ``c-max-rate`` are peer-device options that "can be
      specified in any disk options section as well").  Since 8.4 the
      dynamic resync controller is on by default and ``resync-rate`` is only
      its starting rate; ``c-max-rate`` is the bound, so both are set to
      ``replication_resync_rate``.
    * DRBD 9: ``node-id`` is required in each ``on`` section;
      ``connection-mesh { hosts ...; }`` defines every connection.
    * DRBD 8.4 allows exactly two hosts per resource.
    """
    if not resource.shared_secret:
        raise exception.Ev3Error(
            reason='resource %s has no shared secret to render'
                   % resource.name)
    drbd9 = version.is_9
    if not drbd9 and len(resource.nodes) != 2:
        raise exception.Ev3Error(
            reason='resource %s has %d nodes but DRBD %s replicates between '
                   'two nodes only; install DRBD 9 for more copies'
                   % (resource.name, len(resource.nodes),
                      version.kernel_text or '8.4 (module not loaded)'))
    rate = '%dM' % resource.resync_rate_mib
    lines = [HEADER_PREFIX + json.dumps(header_dict(resource),
                                        sort_keys=True,
                                        separators=(',', ':')),
             'resource %s {' % resource.name,
             '    net {',
             '        protocol %s;' % resource.protocol.value,
             '        cram-hmac-alg sha256;',
             '        shared-secret "%s";' % resource.shared_secret,
             '        after-sb-0pri disconnect;',
             '        after-sb-1pri disconnect;',
             '        after-sb-2pri disconnect;',
             '        rr-conflict disconnect;',
             '    }',
             '    disk {',
             '        resync-rate %s;' % rate,
             '        c-max-rate %s;' % rate,
             '        size %dK;' % (resource.size_bytes // KiB),
             '    }']
    for node in resource.nodes:
        lines.append('    on %s {' % node.node_name)
        if drbd9:
            lines.append('        node-id %d;' % node.node_id)
        lines += ['        device %s minor %d;' % (node.device, node.minor),
                  '        disk %s;' % node.disk_path(resource.name),
                  '        address %s;' % _address(node),
                  '        meta-disk internal;',
                  '    }']
    if drbd9:
        lines += ['    connection-mesh {',
                  '        hosts %s;' % ' '.join(n.node_name
                                                 for n in resource.nodes),
                  '    }']
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _address(node):
    if ipaddress.ip_address(node.address).version == 6:
        return 'ipv6 [%s]:%d' % (node.address, node.port)
    return '%s:%d' % (node.address, node.port)


def has_header(text):
    """True when ``text`` starts with an ev3 resource header line."""
    return isinstance(text, str) and text.startswith(HEADER_PREFIX)


def parse_header(text):
    """The header dict (``to_spec()`` plus ``name``) of a resource file."""
    first = text.split('\n', 1)[0] if isinstance(text, str) else ''
    if not first.startswith(HEADER_PREFIX):
        raise ParseError(reason='no ev3 header in resource file line 1')
    try:
        header = json.loads(first[len(HEADER_PREFIX):])
    except ValueError as err:
        raise ParseError(reason='bad ev3 header JSON: %s' % err)
    if not isinstance(header, dict) or not names.is_resource_name(
            header.get('name')):
        raise ParseError(reason='ev3 header has no valid resource name')
    return header


# -- status ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PeerStatus(object):
    """What this host knows of one peer of a resource."""

    node_name: typing.Optional[str]
    connection: Connection
    role: Role
    disk: DiskState
    replication: Replication
    sync_percent: typing.Optional[float] = None

    def to_dict(self):
        return {'node_name': self.node_name,
                'connection': self.connection.value,
                'role': self.role.value,
                'disk': self.disk.value,
                'replication': self.replication.value,
                'sync_percent': self.sync_percent}

    @classmethod
    def from_dict(cls, data):
        return cls(node_name=data['node_name'],
                   connection=Connection(data['connection']),
                   role=Role(data['role']),
                   disk=DiskState(data['disk']),
                   replication=Replication(data['replication']),
                   sync_percent=data.get('sync_percent'))


@dataclasses.dataclass(frozen=True)
class ResourceStatus(object):
    """Kernel state of one resource on this host."""

    name: str
    minor: typing.Optional[int]
    role: Role
    disk: DiskState
    peers: typing.Tuple[PeerStatus, ...] = ()
    suspended: bool = False
    size_bytes: typing.Optional[int] = None

    @classmethod
    def not_up(cls, name, minor):
        """A configured resource with no kernel state."""
        return cls(name=name, minor=minor, role=Role.UNKNOWN,
                   disk=DiskState.DISKLESS)

    @property
    def is_up(self):
        return not (self.role == Role.UNKNOWN and
                    self.disk == DiskState.DISKLESS and not self.peers)

    def to_dict(self):
        """The status dict of internals.rst (``suspended`` is not in it)."""
        return {'name': self.name, 'minor': self.minor,
                'role': self.role.value, 'disk': self.disk.value,
                'size_bytes': self.size_bytes,
                'peers': [peer.to_dict() for peer in self.peers]}

    @classmethod
    def from_dict(cls, data):
        return cls(name=data['name'], minor=data['minor'],
                   role=Role(data['role']), disk=DiskState(data['disk']),
                   peers=tuple(PeerStatus.from_dict(p)
                               for p in data.get('peers', [])),
                   suspended=bool(data.get('suspended', False)),
                   size_bytes=data.get('size_bytes'))


# /proc/drbd (8.4): connection states that are not DRBD 9 connection states
# are replication states of a Connected peer (DRBD 9 split them in two).
_CS_84 = {'WFConnection': Connection.CONNECTING,
          'WFReportParams': Connection.CONNECTING}
_MINOR_RE = re.compile(r'^\s*(\d+):\s+cs:(\S+)(.*)$')
_PROGRESS_RE = re.compile(r"(?:sync'ed|verified):\s*([0-9.]+)%")
_HEAD_RE = re.compile(r'^[A-Za-z][\w -]*:')
_NUMBERED_RE = re.compile(r'^\s*\d+:')


def _values(enum_class):
    return {member.value for member in enum_class}


def _connection_84(cstate):
    if cstate in _CS_84:
        return _CS_84[cstate], Replication.OFF
    if cstate in _values(Connection):
        connection = Connection(cstate)
        if connection == Connection.CONNECTED:
            return connection, Replication.ESTABLISHED
        return connection, Replication.OFF
    if cstate in _values(Replication):
        return Connection.CONNECTED, Replication(cstate)
    return Connection(cstate), Replication.UNKNOWN


def parse_proc_drbd(text, minor_to_name):
    """Parse DRBD 8.4 ``/proc/drbd`` into {name: ResourceStatus}.

    Only minors named in ``minor_to_name`` are reported; an Unconfigured
    minor reports as not up.  Unknown header or detail lines are ignored;
    any other line raises ParseError naming it.
    """
    found = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        match = _MINOR_RE.match(line)
        if match:
            current = _minor_84(number, line, match)
            found[current['minor']] = current
        elif not line.strip() or _HEAD_RE.match(line):
            continue
        elif (line[0].isspace() and current is not None and
              not _NUMBERED_RE.match(line)):
            progress = _PROGRESS_RE.search(line)
            if progress:
                current['sync_percent'] = float(progress.group(1))
        else:
            raise ParseError(reason='cannot parse /proc/drbd line %d: %r'
                                    % (number, line))
    result = {}
    for minor, name in minor_to_name.items():
        state = found.get(minor)
        if state is None or state['cs'] == 'Unconfigured':
            result[name] = ResourceStatus.not_up(name, minor)
            continue
        connection, replication = _connection_84(state['cs'])
        peer = PeerStatus(
            node_name=None, connection=connection, role=state['peer_role'],
            disk=state['peer_disk'], replication=replication,
            sync_percent=(state.get('sync_percent')
                          if replication in _PROGRESS else None))
        result[name] = ResourceStatus(
            name=name, minor=minor, role=state['role'], disk=state['disk'],
            peers=(peer,), suspended=state['suspended'])
    return result


def _minor_84(number, line, match):
    state = {'minor': int(match.group(1)), 'cs': match.group(2)}
    if state['cs'] == 'Unconfigured':
        return state
    fields = dict(token.split(':', 1) for token in match.group(3).split()
                  if ':' in token)
    try:
        role, peer_role = fields['ro'].split('/')
        disk, peer_disk = fields['ds'].split('/')
    except (KeyError, ValueError):
        raise ParseError(reason='cannot parse /proc/drbd line %d: %r'
                                % (number, line))
    flags = [token for token in match.group(3).split() if ':' not in token]
    state.update(role=Role(role), peer_role=Role(peer_role),
                 disk=DiskState(disk), peer_disk=DiskState(peer_disk),
                 suspended=bool(flags) and flags[-1].startswith('s'))
    return state


def parse_status_json(text):
    """Parse ``drbdsetup status --json`` (DRBD 9) into {name: status}."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ParseError(reason='drbdsetup status --json is not JSON: %s'
                                % err)
    if not isinstance(data, list):
        raise ParseError(reason='drbdsetup status --json is not a list')
    result = {}
    for item in data:
        try:
            status = _resource_9(item)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ParseError(reason='cannot parse drbdsetup status entry '
                                    '%.200r: %s' % (item, err))
        result[status.name] = status
    return result


def _resource_9(item):
    name = item['name']
    if not isinstance(name, str):
        raise TypeError('resource name is not a string')
    devices = item.get('devices') or [{}]
    device = min(devices, key=lambda dev: dev.get('volume', 0))
    size = device.get('size')
    peers = []
    for conn in item.get('connections') or []:
        peer_dev = min(conn.get('peer_devices') or [{}],
                       key=lambda dev: dev.get('volume', 0))
        replication = Replication(peer_dev.get('replication-state', 'Off'))
        percent = peer_dev.get('done', peer_dev.get('percent-in-sync'))
        peers.append(PeerStatus(
            node_name=conn.get('name'),
            connection=Connection(conn['connection-state']),
            role=Role(conn.get('peer-role', 'Unknown')),
            disk=DiskState(peer_dev.get('peer-disk-state', 'DUnknown')),
            replication=replication,
            sync_percent=(float(percent) if replication in _PROGRESS and
                          percent is not None else None)))
    return ResourceStatus(
        name=name, minor=device.get('minor'), role=Role(item['role']),
        disk=DiskState(device.get('disk-state', 'Diskless')),
        peers=tuple(peers), suspended=bool(item.get('suspended', False)),
        size_bytes=int(size) * KiB if size is not None else None)
