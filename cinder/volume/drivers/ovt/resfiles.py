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
"""DRBD resource files under /etc/drbd.d, written by a privileged helper.

The service user never needs write access to ``/etc/drbd.d``: the three
privsep entrypoints below are the only way in, and each one checks again,
inside the privileged process, that it touches nothing but
``/etc/drbd.d/volume-<uuid>.res`` files that carry an ev3 header.  Files are
written atomically (temp file in the same directory, fsync, rename, fsync of
the directory) with mode 0600: they hold the DRBD peer secret.

The file logic is plain functions taking the directory, so it is tested
against a temporary directory; the entrypoints are one-line wrappers.
"""

import os
import tempfile

import cinder.privsep
from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names

RESOURCE_DIR = '/etc/drbd.d'
SUFFIX = '.res'
MAX_BYTES = 64 * 1024


def _check(name, text=None):
    names.validate_resource_name(name)
    if text is None:
        return
    if not isinstance(text, str) or len(text.encode('utf-8')) > MAX_BYTES:
        raise exception.InvalidName(what='resource file of', value=name,
                                    reason='must be text under 64 KiB')
    if not drbd.has_header(text) or drbd.parse_header(text)['name'] != name:
        raise exception.InvalidName(what='resource file of', value=name,
                                    reason='must start with its ev3 header')


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(directory, name, text):
    """Atomically write ``<directory>/<name>.res`` with mode 0600."""
    _check(name, text)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % name,
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, os.path.join(directory, name + SUFFIX))
    except Exception:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def remove_file(directory, name):
    """Remove ``<directory>/<name>.res``; quiet when it is absent."""
    _check(name)
    try:
        os.unlink(os.path.join(directory, name + SUFFIX))
    except FileNotFoundError:
        return
    _fsync_dir(directory)


def read_files(directory):
    """{name: text} of the ev3 resource files in ``directory``."""
    try:
        entries = sorted(os.listdir(directory))
    except FileNotFoundError:
        return {}
    result = {}
    for entry in entries:
        name = entry[:-len(SUFFIX)]
        if not entry.endswith(SUFFIX) or not names.is_resource_name(name):
            continue
        path = os.path.join(directory, entry)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read(MAX_BYTES + 1)
        if drbd.has_header(text):
            result[name] = text
    return result


@cinder.privsep.sys_admin_pctxt.entrypoint
def _privileged_write(name, text):
    write_file(RESOURCE_DIR, name, text)


@cinder.privsep.sys_admin_pctxt.entrypoint
def _privileged_remove(name):
    remove_file(RESOURCE_DIR, name)


@cinder.privsep.sys_admin_pctxt.entrypoint
def _privileged_read_all():
    return read_files(RESOURCE_DIR)


class PrivsepResourceFiles(object):
    """The resource files of this host, through privsep."""

    def write(self, name, text):
        _check(name, text)
        _privileged_write(name, text)

    def remove(self, name):
        _check(name)
        _privileged_remove(name)

    def read_all(self):
        return dict(_privileged_read_all())
