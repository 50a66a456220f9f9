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
"""DRBD resource files under /etc/drbd.d, written through the root helper.

The service user never needs write access to ``/etc/drbd.d``: files are
written by five coreutils commands run through cinder-rootwrap, each allowed
by a filter of ev3.filters that names ``/etc/drbd.d/volume-<uuid>.res`` (or
its temporary twin) and nothing else:

    install -m 0640 -g <gid> /dev/null /etc/drbd.d/.volume-<uuid>.res.tmp
    tee /etc/drbd.d/.volume-<uuid>.res.tmp          (the text on stdin)
    sync /etc/drbd.d/.volume-<uuid>.res.tmp
    mv -f /etc/drbd.d/.volume-<uuid>.res.tmp /etc/drbd.d/volume-<uuid>.res
    sync /etc/drbd.d                                 (the rename, durable)

so a file appears whole or not at all (rename in the same directory), with
mode 0640 and the group of the service: it holds the DRBD peer secret, which
the service knows anyway, and the service reads the files back without the
root helper.  ``rm -f`` removes one.

Why not privsep: a privsep entry point must live in a module the privsep
daemon can import without importing ``cinder.volume`` (that package registers
command-line options, which fails in the daemon once its own are parsed:
``ArgsAlreadyParsedError``); Cinder keeps all of its own in
``cinder.privsep``.  The commands above need only ev3.filters, which the
installation copies anyway.

``write_file``/``remove_file``/``read_files`` are the same logic on a plain
directory (tests and tools).
"""

import os
import tempfile

from oslo_concurrency import processutils

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
    """Atomically write ``<directory>/<name>.res`` with mode 0640."""
    _check(name, text)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % name,
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            os.fchmod(handle.fileno(), 0o640)
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


class RootwrapResourceFiles(object):
    """The resource files of this host, written through the root helper."""

    def __init__(self, execute, root_helper, directory=RESOURCE_DIR,
                 gid=None):
        self._execute = execute
        self._root_helper = root_helper
        self.directory = directory
        self._gid = os.getgid() if gid is None else gid

    def _run(self, *cmd, **kwargs):
        return self._execute(*cmd, run_as_root=True,
                             root_helper=self._root_helper, **kwargs)

    def _path(self, name, temporary=False):
        if temporary:
            return os.path.join(self.directory, '.%s%s.tmp' % (name, SUFFIX))
        return os.path.join(self.directory, name + SUFFIX)

    def write(self, name, text):
        """Replace ``<name>.res`` atomically with ``text``."""
        _check(name, text)
        tmp, final = self._path(name, True), self._path(name)
        try:
            self._run('install', '-m', '0640', '-g', str(self._gid),
                      '/dev/null', tmp)
            self._run('tee', tmp, process_input=text.encode('utf-8'))
            self._run('sync', tmp)
            self._run('mv', '-f', tmp, final)
            self._run('sync', self.directory)
        except processutils.ProcessExecutionError:
            self._run('rm', '-f', tmp, check_exit_code=False)
            raise

    def remove(self, name):
        """Remove ``<name>.res``; quiet when it is absent."""
        _check(name)
        self._run('rm', '-f', self._path(name))

    def read_all(self):
        """{name: text} of the ev3 resource files, read without root."""
        try:
            return read_files(self.directory)
        except PermissionError:
            # Files written 0600 by another tool: read them as root.
            result = {}
            for entry in sorted(os.listdir(self.directory)):
                name = entry[:-len(SUFFIX)]
                if entry.endswith(SUFFIX) and names.is_resource_name(name):
                    text, _err = self._run('cat', self._path(name))
                    if drbd.has_header(text):
                        result[name] = text
            return result
