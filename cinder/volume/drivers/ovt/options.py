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
"""Configuration options of the ev3 driver and their validation.

Every option lives in the backend's own section (``[RBS]`` in the examples).
``load_settings`` turns one section into a frozen :class:`Settings`, or stops
the backend with one :class:`~.exception.ConfigError` that names the option
and the fix.
"""

import dataclasses
import ipaddress
import re
import typing

from oslo_config import cfg

from cinder.volume import configuration
from cinder.volume.drivers.ovt import exception

MODES = {'async': 'A', 'semi-sync': 'B', 'full-sync': 'C'}
MIN_SECRET_LENGTH = 16
DEVICE_KEYS = ('backend_id', 'ip', 'port', 'volume_group')

ev3_opts = [
    cfg.StrOpt('backend_id',
               help='Identifier of this storage backend, as its peers name '
                    'it in their replication_device entries and as '
                    '`cinder failover-host --backend_id` takes it: the '
                    'cinder-volume service host, host@backend (for example '
                    'hci-0001@RBS). Defaults to the service host.'),
    cfg.StrOpt('backend_ip',
               help='IP address of this host on the storage network: the '
                    'peer API listens on it and DRBD replicates over it. '
                    'Required when replication_device is set.'),
    cfg.PortOpt('backend_port', default=7000,
                help='TCP port of this host\'s peer API.'),
    cfg.StrOpt('replication_internal_secret', secret=True,
               help='Secret shared by every replicated host of this '
                    'backend; signs every peer API request (HMAC-SHA256) '
                    'and derives the DRBD peer authentication secrets. At '
                    'least %d characters; required when replication_device '
                    'is set. Never logged.' % MIN_SECRET_LENGTH),
    cfg.StrOpt('replication_mode', default='full-sync',
               choices=[('async', 'DRBD protocol A: a write completes once '
                                  'it is on the local disk and in the local '
                                  'TCP send buffer'),
                        ('semi-sync', 'DRBD protocol B: a write completes '
                                      'once it is on the local disk and has '
                                      'reached the peer\'s memory'),
                        ('full-sync', 'DRBD protocol C: a write completes '
                                      'once it is on the local and on every '
                                      'peer\'s disk')],
               help='Replication mode of new replicated volumes; a volume '
                    'type may override it with the extra spec '
                    'ev3:replication_mode.'),
    cfg.IntOpt('replication_resync_rate', default=100, min=1,
               help='Bandwidth bound of DRBD (re)synchronisation per '
                    'volume, in MiB/s.'),
    cfg.PortOpt('replication_starting_port', default=7001,
                help='First TCP port used by DRBD resources; each volume '
                     'takes the lowest free port from here, the same on '
                     'every host of the volume.'),
    cfg.IntOpt('ev3_connect_timeout', default=60, min=1,
               help='How long, in seconds, a new replicated volume may '
                    'take until its replicas are connected before the '
                    'create is rolled back; also how long after the '
                    'service starts an export request waits for the '
                    'replication links before deciding whether a volume '
                    'found Secondary on its primary host may be promoted.'),
    cfg.BoolOpt('ev3_force_failover', default=False,
                help='Let `cinder failover-host --backend_id default` '
                     'promote replicas whose disk is not UpToDate (or '
                     'Consistent under async/semi-sync), accepting the loss '
                     'of the writes they miss. Set it only for that one '
                     'command, restart cinder-volume, and unset it again.'),
    cfg.IntOpt('ev3_api_timeout', default=120, min=1,
               help='Timeout, in seconds, of one peer API request.'),
]

CONF = cfg.CONF
CONF.register_opts(ev3_opts, group=configuration.SHARED_CONF_GROUP)


def list_opts():
    """Options for oslo-config-generator (namespace ``ev3``)."""
    return [(configuration.SHARED_CONF_GROUP, ev3_opts)]


@dataclasses.dataclass(frozen=True)
class Peer(object):
    """One replication_device entry: a peer host of this backend."""

    backend_id: str
    ip: str
    port: int
    volume_group: str


@dataclasses.dataclass(frozen=True)
class Settings(object):
    """The validated ev3 settings of one backend section."""

    section: str
    backend_id: str
    backend_ip: typing.Optional[str]
    backend_port: int
    secret: typing.Optional[str] = dataclasses.field(repr=False)
    replication_mode: str
    resync_rate_mib: int
    starting_port: int
    connect_timeout: int
    api_timeout: int
    volume_group: str
    peers: typing.Tuple[Peer, ...]

    @property
    def replicated(self):
        """True when at least one replication_device is configured."""
        return bool(self.peers)

    @property
    def protocol(self):
        """DRBD protocol letter of the configured replication_mode."""
        return MODES[self.replication_mode]

    def peer(self, backend_id):
        """The configured peer with this backend_id, or None."""
        for peer in self.peers:
            if peer.backend_id == backend_id:
                return peer
        return None


_BACKEND_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._:-]*(@[A-Za-z0-9._:-]+)?'
                            r'(#[A-Za-z0-9._:-]+)?$')
_VG_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$')


def valid_backend_id(value):
    """True for a backend id such as ``hci-0001@RBS``."""
    return bool(value) and len(value) <= 255 and bool(
        _BACKEND_ID_RE.match(value))


def valid_volume_group(value):
    """True for an LVM volume group name."""
    return (bool(value) and bool(_VG_RE.match(value))
            and value not in ('.', '..') and not value.startswith('-'))


def _fail(section, option, problem, fix):
    raise exception.ConfigError(section=section, option=option,
                                problem=problem, fix=fix)


def _parse_device(section, index, entry, default_port, default_vg):
    option = 'replication_device (entry %d)' % (index + 1)
    example = ('write it as replication_device = backend_id:hci-0002@RBS,'
               'ip:10.0.10.22,port:7000,volume_group:volumes')
    if not isinstance(entry, dict):
        _fail(section, option, 'is not a key:value list', example)
    unknown = sorted(set(entry) - set(DEVICE_KEYS))
    if unknown:
        _fail(section, option, 'has unknown key(s) %s' % ', '.join(unknown),
              'use only %s; %s' % (', '.join(DEVICE_KEYS), example))
    backend_id = (entry.get('backend_id') or '').strip()
    if not valid_backend_id(backend_id):
        _fail(section, option, 'has no valid backend_id (%r)' % backend_id,
              example)
    ip = (entry.get('ip') or '').strip()
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        _fail(section, option,
              'of %s has no valid ip (%r)' % (backend_id, ip),
              'give the peer\'s backend_ip as an IP address; %s' % example)
    port_text = str(entry.get('port', default_port)).strip()
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        _fail(section, option,
              'of %s has an invalid port (%r)' % (backend_id, port_text),
              'give the peer\'s backend_port, 1-65535')
    vg = (entry.get('volume_group') or default_vg).strip()
    if not valid_volume_group(vg):
        _fail(section, option,
              'of %s has an invalid volume_group (%r)' % (backend_id, vg),
              'give the LVM volume group of the peer')
    return Peer(backend_id=backend_id, ip=ip, port=int(port_text),
                volume_group=vg)


def load_settings(configuration, default_backend_id):
    """Validate one backend section; raise ConfigError on the first fault."""
    section = configuration.config_group or 'DEFAULT'
    get = configuration.safe_get
    backend_id = (get('backend_id') or default_backend_id or '').strip()
    devices = get('replication_device') or []
    vg = get('volume_group') or 'cinder-volumes'
    backend_port = get('backend_port') or 7000
    peers = tuple(_parse_device(section, i, entry, backend_port, vg)
                  for i, entry in enumerate(devices))
    secret = get('replication_internal_secret')
    backend_ip = get('backend_ip')
    if peers:
        if not valid_backend_id(backend_id):
            _fail(section, 'backend_id', 'is missing or invalid (%r)'
                  % backend_id, 'set backend_id = <host>@<backend>, the '
                  'name the peers use for this host')
        if not backend_ip:
            _fail(section, 'backend_ip', 'is required with '
                  'replication_device', 'set backend_ip to this host\'s '
                  'address on the storage network')
        if not secret:
            _fail(section, 'replication_internal_secret', 'is required '
                  'with replication_device', 'set the same random value '
                  '(at least %d characters) on every replicated host'
                  % MIN_SECRET_LENGTH)
        if len(secret) < MIN_SECRET_LENGTH:
            _fail(section, 'replication_internal_secret', 'is shorter '
                  'than %d characters' % MIN_SECRET_LENGTH,
                  'use a long random value, e.g. a UUID')
        ids = [p.backend_id for p in peers]
        if backend_id in ids:
            _fail(section, 'replication_device', 'names this host\'s own '
                  'backend_id %s' % backend_id, 'list only the peers')
        if len(set(ids)) != len(ids):
            _fail(section, 'replication_device', 'names a peer twice',
                  'give each peer once')
        addresses = [(p.ip, p.port) for p in peers]
        if (backend_ip, backend_port) in addresses or \
                len(set(addresses)) != len(addresses):
            _fail(section, 'replication_device', 'repeats an address:port',
                  'give each host its own backend_ip/backend_port')
    if backend_ip:
        try:
            ipaddress.ip_address(backend_ip)
        except ValueError:
            _fail(section, 'backend_ip', 'is not an IP address (%r)'
                  % backend_ip, 'use an IP address, not a host name')
    return Settings(
        section=section, backend_id=backend_id, backend_ip=backend_ip,
        backend_port=backend_port, secret=secret,
        replication_mode=get('replication_mode') or 'full-sync',
        resync_rate_mib=get('replication_resync_rate') or 100,
        starting_port=get('replication_starting_port') or 7001,
        connect_timeout=get('ev3_connect_timeout') or 60,
        api_timeout=get('ev3_api_timeout') or 120,
        volume_group=vg, peers=peers)
