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
"""Pure validators for what the peer API receives.

Every field that arrives over the network is checked here before it reaches
the host agent: unknown fields are refused, names must match strict patterns
(they end up in paths and commands), numbers must be in range.  Names raise
``exception.InvalidName``; everything else raises ``ValueError``.
"""

import ipaddress
import json
import re

from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names

_LABEL = r'[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?'
NODE_NAME_RE = re.compile(r'^%s(?:\.%s)*$' % (_LABEL, _LABEL))
_BACKEND_PART = r'[A-Za-z0-9_](?:[A-Za-z0-9_.:-]*[A-Za-z0-9_])?'
BACKEND_ID_RE = re.compile(r'^%s@%s$' % (_BACKEND_PART, _BACKEND_PART))
VOLUME_GROUP_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$')

MAX_SIZE_BYTES = 1 << 60          # 1 EiB
MAX_PORT = 65535
MAX_MINOR = 1048575               # 2**20 - 1
MAX_NODE_ID = 31                  # DRBD 9 node ids are 0..31
MIN_NODES = 2
MAX_NODES = 16
PROTOCOLS = ('A', 'B', 'C')

SPEC_FIELDS = frozenset(('size_bytes', 'thin', 'protocol', 'resync_rate_mib',
                         'nodes'))
NODE_FIELDS = frozenset(('backend_id', 'node_name', 'node_id', 'address',
                         'port', 'minor', 'volume_group'))


def _shown(value):
    """Return a short form of a rejected value for messages."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def _invalid_name(what, value, reason):
    if isinstance(value, str) and len(value) > 80:
        value = value[:77] + '...'
    return exception.InvalidName(what=what, value=value, reason=reason)


def _token(what, value, regex, max_len, rule):
    if not isinstance(value, str):
        raise _invalid_name(what, value, 'must be a string')
    if len(value) > max_len or not regex.match(value):
        raise _invalid_name(what, value, rule)
    return value


def resource_name(value):
    """Return a valid DRBD resource name (``volume-<lowercase uuid>``)."""
    if isinstance(value, str) and len(value) > 80:
        raise _invalid_name('resource name', value, 'too long')
    return names.validate_resource_name(value)


def node_name(value):
    """Return a valid node name (a hostname-like token)."""
    return _token('node name', value, NODE_NAME_RE, 253,
                  'must be a host name (letters, digits, "-", "_", dots)')


def backend_id(value):
    """Return a valid backend id (``host@backend``)."""
    return _token('backend id', value, BACKEND_ID_RE, 255,
                  'must be host@backend without "/", "#" or whitespace')


def volume_group(value):
    """Return a valid LVM volume group name."""
    _token('volume group', value, VOLUME_GROUP_RE, 127,
           'must be an LVM volume group name')
    if value in ('.', '..'):
        raise _invalid_name('volume group', value, 'must not be . or ..')
    return value


def ip_address(value):
    """Return a valid IPv4 or IPv6 address (no zone index)."""
    if not isinstance(value, str):
        raise _invalid_name('address', value, 'must be a string')
    if '%' in value or len(value) > 45:
        raise _invalid_name('address', value, 'must be an IP address')
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise _invalid_name('address', value, 'must be an IP address')
    return value


def integer(what, value, minimum, maximum):
    """Return an int in [minimum, maximum]; bools and floats are refused."""
    if type(value) is not int:
        raise ValueError('%s must be an integer, not %s' %
                         (what, _shown(value)))
    if not minimum <= value <= maximum:
        raise ValueError('%s must be between %d and %d, not %d' %
                         (what, minimum, maximum, value))
    return value


def boolean(what, value):
    """Return a JSON boolean."""
    if type(value) is not bool:
        raise ValueError('%s must be true or false, not %s' %
                         (what, _shown(value)))
    return value


def size_bytes(value):
    """Return a positive size in bytes."""
    return integer('size_bytes', value, 1, MAX_SIZE_BYTES)


def port(value):
    """Return a TCP port 1..65535."""
    return integer('port', value, 1, MAX_PORT)


def minor(value):
    """Return a DRBD minor 0..1048575."""
    return integer('minor', value, 0, MAX_MINOR)


def protocol(value):
    """Return a DRBD protocol letter."""
    if not isinstance(value, str) or value not in PROTOCOLS:
        raise ValueError('protocol must be one of %s, not %s' %
                         ('/'.join(PROTOCOLS), _shown(value)))
    return value


def fields(what, obj, required=(), optional=()):
    """Check that a JSON object has exactly the expected keys.

    :returns: the object (a dict).
    :raises ValueError: not an object, a required field missing or an
        unexpected field present.
    """
    if not isinstance(obj, dict):
        raise ValueError('%s must be a JSON object' % what)
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise ValueError('%s: unexpected field(s) %s' %
                         (what, ', '.join(_shown(k) for k in unknown)))
    missing = sorted(set(required) - set(obj))
    if missing:
        raise ValueError('%s: missing field(s) %s' %
                         (what, ', '.join(missing)))
    return obj


def node(obj, index=0):
    """Return a validated copy of one ``nodes`` entry of a replica spec."""
    what = 'nodes[%d]' % index
    fields(what, obj, required=NODE_FIELDS)
    return {
        'backend_id': backend_id(obj['backend_id']),
        'node_name': node_name(obj['node_name']),
        'node_id': integer('%s.node_id' % what, obj['node_id'], 0,
                           MAX_NODE_ID),
        'address': ip_address(obj['address']),
        'port': port(obj['port']),
        'minor': minor(obj['minor']),
        'volume_group': volume_group(obj['volume_group']),
    }


def _unique(nodes, key):
    values = [n[key] for n in nodes]
    if len(set(values)) != len(values):
        raise ValueError('nodes: %s must be unique' % key)


def replica_spec(spec, own_backend_id, own_volume_group):
    """Return a validated copy of an ``ensure_replica`` spec.

    :param own_backend_id: the backend id of the host receiving the spec;
        the spec must name it among its nodes.
    :param own_volume_group: that host's configured volume group; the spec's
        entry for the host must use exactly it, so that no command ever runs
        on a device outside it.
    """
    fields('spec', spec, required=SPEC_FIELDS, optional=('seed',))
    nodes = spec['nodes']
    if not isinstance(nodes, list):
        raise ValueError('spec: nodes must be a list')
    if not MIN_NODES <= len(nodes) <= MAX_NODES:
        raise ValueError('spec: nodes must have %d to %d entries, not %d' %
                         (MIN_NODES, MAX_NODES, len(nodes)))
    checked = [node(n, i) for i, n in enumerate(nodes)]
    for key in ('node_id', 'backend_id', 'node_name'):
        _unique(checked, key)
    own = [n for n in checked if n['backend_id'] == own_backend_id]
    if not own:
        raise ValueError('spec: no node entry for this backend %s' %
                         own_backend_id)
    if own[0]['volume_group'] != own_volume_group:
        raise ValueError('spec: volume group %s of backend %s is not its '
                         'configured volume group %s' %
                         (own[0]['volume_group'], own_backend_id,
                          own_volume_group))
    checked_spec = {
        'size_bytes': size_bytes(spec['size_bytes']),
        'thin': boolean('thin', spec['thin']),
        'protocol': protocol(spec['protocol']),
        'resync_rate_mib': integer('resync_rate_mib',
                                   spec['resync_rate_mib'], 1, 1 << 20),
        'nodes': checked,
    }
    if 'seed' in spec:
        checked_spec['seed'] = seed(spec['seed'], checked_spec['size_bytes'])
    return checked_spec


def seed(value, limit):
    """Return a validated ``{"lv", "bytes"}`` seed of a new replica.

    The seed LV is named like a volume or a snapshot; the receiving host
    only ever looks for it in its own volume group.
    """
    fields('seed', value, required=('lv', 'bytes'))
    lv = value['lv']
    if not isinstance(lv, str) or not (names.RESOURCE_RE.match(lv) or
                                       names.SNAPSHOT_RE.match(lv)):
        raise _invalid_name('seed lv', lv,
                            'expected volume-<uuid> or _snapshot-<uuid>')
    return {'lv': lv, 'bytes': integer('seed bytes', value['bytes'], 1,
                                       limit)}


def resource_names(value):
    """Return a validated list of unique resource names, or None."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError('names must be a list or null')
    names = [resource_name(v) for v in value]
    if len(set(names)) != len(names):
        raise ValueError('names must be unique')
    return names


def printable(value, limit=100):
    """Return text safe to put in a log line (ASCII, no controls, short)."""
    text = ''.join(c if ' ' <= c <= '~' else '?' for c in str(value))
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError('duplicate field %s' % printable(key))
        obj[key] = value
    return obj


def _no_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def loads(body):
    """Parse a request or response body; an empty body is ``{}``.

    :raises ValueError: not UTF-8, not JSON, duplicate keys, NaN/Infinity or
        nested too deeply.
    """
    if not body:
        return {}
    try:
        return json.loads(body.decode('utf-8'),
                          object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ValueError('body is not UTF-8')
    except RecursionError:
        raise ValueError('JSON nested too deeply')
