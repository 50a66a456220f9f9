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
"""Pure naming rules: volume to resource, LV, device; validators."""

import hashlib
import hmac
import re

from cinder.volume.drivers.ovt import exception

_UUID = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
RESOURCE_RE = re.compile(r'^volume-%s$' % _UUID)
SNAPSHOT_RE = re.compile(r'^_snapshot-%s$' % _UUID)
GiB = 1024 ** 3


def resource_name(volume):
    """DRBD resource (and LV) name of a volume: its backing name.

    ``volume.name`` follows ``_name_id`` after a migration, so every piece
    of state keyed on it stays attached to the data.
    """
    return validate_resource_name(volume['name'])


def validate_resource_name(name):
    """Return ``name`` if it is a resource name, else raise InvalidName."""
    if not isinstance(name, str) or not RESOURCE_RE.match(name):
        raise exception.InvalidName(
            what='resource name', value=name,
            reason='expected volume-<uuid> in lower case')
    return name


def validate_snapshot_name(name):
    """Return ``name`` if it is a snapshot LV name, else raise InvalidName."""
    if not isinstance(name, str) or not SNAPSHOT_RE.match(name):
        raise exception.InvalidName(
            what='snapshot name', value=name,
            reason='expected _snapshot-<uuid> in lower case')
    return name


def is_resource_name(name):
    """True when ``name`` has the form of a resource name."""
    return isinstance(name, str) and bool(RESOURCE_RE.match(name))


def device_path(minor):
    """Block device of a DRBD minor."""
    return '/dev/drbd%d' % int(minor)


def lv_path(volume_group, name):
    """Block device of an LV."""
    return '/dev/%s/%s' % (volume_group, name)


def drbd_secret(shared_secret, name):
    """DRBD peer authentication secret of one resource.

    Derived from replication_internal_secret so that every host computes
    the same value without sending it; DRBD limits it to 64 characters.
    """
    digest = hmac.new(shared_secret.encode('utf-8'),
                      ('drbd-peer-auth:%s' % name).encode('utf-8'),
                      hashlib.sha256)
    return digest.hexdigest()[:48]
