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
"""DRBD commands over an injected executor, returning model objects.

Every command goes through ``_run``, the one place where a failure becomes
``DrbdCommandError``.  The argv of each command is a contract with the
simulated host used by the tests and the demo: change both together.
"""

import re

from oslo_concurrency import processutils
from oslo_log import log as logging

from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names

LOG = logging.getLogger(__name__)

# What DRBD says when a resource is already up / not up.  drbdadm up runs
# "drbdsetup new-resource" (quiet when the resource exists) and then
# "new-minor", which the kernel refuses with ERR_MINOR_OR_VOLUME_EXISTS:
# "Failure: (161) Minor or volume exists already (delete it first)".
_ALREADY_UP = ('(161)', 'Minor or volume exists already')
# drbdsetup down of an unknown resource: "Resource unknown" (exit 0 with
# drbd-utils 9), ERR_RES_NOT_KNOWN "(158) Unknown resource", or a minor that
# is not there: ERR_MINOR_INVALID "(127) Device minor not allocated".
_NOT_UP = ('(158)', 'Unknown resource', 'Resource unknown',
           'No such resource', '(127)', 'Device minor not allocated')
# drbdadm itself, before any kernel call, when no resource file names it.
_NOT_CONFIGURED = ('not defined in your config',)


# drbdadm echoes failed drbdsetup command lines, which carry the peer secret.
_SECRET_RE = re.compile(r'(shared-secret[=\s]+"?)[^\s"]+')


def _mask(text):
    """``text`` with DRBD shared secrets replaced by ***."""
    return _SECRET_RE.sub(r'\1***', text)


def _says(err, markers):
    text = '%s\n%s' % (err.stdout or '', err.stderr or '')
    return any(marker in text for marker in markers)


class DrbdAdm(object):
    """drbdadm (and the status readers) of one host."""

    def __init__(self, execute, root_helper=None, host=None):
        self._execute = execute
        self._root_helper = root_helper
        self.host = host or 'this host'
        self._version = None

    def _run(self, *cmd, **kwargs):
        """Run ``cmd``; a failure becomes DrbdCommandError.

        The executor's error is not chained: its output may hold the peer
        secret, which the new error masks.
        """
        run_as_root = kwargs.pop('run_as_root', True)
        try:
            return self._execute(*cmd, run_as_root=run_as_root,
                                 root_helper=self._root_helper)
        except processutils.ProcessExecutionError as err:
            raise _CommandFailed(cmd=' '.join(cmd), host=self.host,
                                 code=err.exit_code,
                                 stderr=_mask((err.stderr or err.stdout or
                                               '').strip()),
                                 original=err) from None

    def _adm(self, name, *args):
        names.validate_resource_name(name)
        try:
            return self._run('drbdadm', *args)
        except _CommandFailed as err:
            if _says(err.original, _NOT_CONFIGURED):
                raise exception.ResourceNotFound(name=name, host=self.host)
            raise

    # -- facts ---------------------------------------------------------------

    def version(self):
        """The DRBD kernel module and drbd-utils versions."""
        out, _err = self._run('drbdadm', '--version')
        version = drbd.DrbdVersion.parse(out)
        if version.kernel is not None:
            self._version = version
        return version

    def status_all(self, minor_to_name):
        """{name: ResourceStatus} for every name of ``minor_to_name``.

        One status call for all resources.  A configured resource that is
        not up reports role Unknown, disk Diskless and no peers.
        """
        version = self._version or self.version()
        if version.kernel is None:
            states = {}
        elif version.is_9:
            out, _err = self._run('drbdsetup', 'status', '--json')
            states = drbd.parse_status_json(out)
        else:
            out, _err = self._run('cat', '/proc/drbd', run_as_root=False)
            return drbd.parse_proc_drbd(out, minor_to_name)
        result = {}
        for minor, name in minor_to_name.items():
            result[name] = states.get(name) or drbd.ResourceStatus.not_up(
                name, minor)
        return result

    # -- lifecycle -----------------------------------------------------------

    def create_md(self, name):
        """Write fresh internal meta data (overwrites without asking)."""
        self._adm(name, '--', '--force', 'create-md', name)

    def wipe_md(self, name):
        """Erase the internal meta data of ``name`` (which must be down).

        Without this, the DRBD signature stays on the freed extents when
        the LV goes, and LVM refuses a later thick ``lvcreate`` over them
        ("drbd signature detected ... Aborted wiping").  Quiet when there
        is no meta data.
        """
        self._adm(name, '--', '--force', 'wipe-md', name)

    def up(self, name):
        """Bring ``name`` up; quiet when it is already up."""
        try:
            self._adm(name, 'up', name)
        except _CommandFailed as err:
            if not _says(err.original, _ALREADY_UP):
                raise
            LOG.debug('DRBD resource %s is already up on %s', name, self.host)

    def down(self, name):
        """Take ``name`` down; quiet when it is not up."""
        try:
            self._adm(name, 'down', name)
        except _CommandFailed as err:
            if not _says(err.original, _NOT_UP):
                raise
            LOG.debug('DRBD resource %s was not up on %s', name, self.host)

    def adjust(self, name):
        """Make the kernel state match the resource file."""
        self._adm(name, 'adjust', name)

    def resize(self, name):
        """Let the device take the grown size of its backing LVs."""
        self._adm(name, 'resize', name)

    def clear_bitmap(self, name):
        """New current UUID with a clear bitmap: skip the initial sync."""
        self._adm(name, '--', '--clear-bitmap', 'new-current-uuid', name)

    # -- roles and connections ----------------------------------------------

    def primary(self, name, force=False):
        """Promote ``name``; ``force`` promotes a disk not UpToDate."""
        if force:
            self._adm(name, 'primary', '--force', name)
        else:
            self._adm(name, 'primary', name)

    def secondary(self, name):
        """Demote ``name``."""
        self._adm(name, 'secondary', name)

    def primary_many(self, resource_names, force=False):
        """Promote several resources in one drbdadm call.

        drbdadm takes several resources ("{command} {context...}"); when
        one fails the call fails, and the caller reads the roles back to
        learn which changed.
        """
        for name in resource_names:
            names.validate_resource_name(name)
        args = ['primary'] + (['--force'] if force else [])
        self._run('drbdadm', *(args + sorted(resource_names)))

    def secondary_many(self, resource_names):
        """Demote several resources in one drbdadm call (see primary_many)."""
        for name in resource_names:
            names.validate_resource_name(name)
        self._run('drbdadm', 'secondary', *sorted(resource_names))

    def suspend_io(self, name):
        """Freeze application I/O on ``name`` (until resume_io)."""
        self._adm(name, 'suspend-io', name)

    def resume_io(self, name):
        """Let application I/O on ``name`` flow again."""
        self._adm(name, 'resume-io', name)

    def connect(self, name):
        self._adm(name, 'connect', name)

    def disconnect(self, name):
        self._adm(name, 'disconnect', name)


class _CommandFailed(exception.DrbdCommandError):
    """DrbdCommandError that keeps the executor's error for inspection."""

    def __init__(self, original=None, **kwargs):
        self.original = original
        super(_CommandFailed, self).__init__(**kwargs)
