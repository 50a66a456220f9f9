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
"""Cinder's LIO target helper, running cinder-rtstool through our executor.

``cinder.volume.targets.lio.LioAdm`` calls ``cinder.utils.execute``
directly, so the executor a driver hands to its target helper
(``executor=``, as ``LVMVolumeDriver`` does) is ignored and a simulated host
cannot stand in for the real one.  This subclass changes only that: every
``cinder-rtstool`` call goes through the given executor, still serialised by
LioAdm's external ``lioadm`` lock.
"""

from oslo_concurrency import processutils
from oslo_log import log as logging

from cinder import utils
from cinder.volume.drivers.ovt import names
from cinder.volume.targets import lio

LOG = logging.getLogger(__name__)


class Ev3LioAdm(lio.LioAdm):
    """LioAdm whose commands run through the injected executor."""

    def __init__(self, *args, **kwargs):
        # Set before LioAdm.__init__, which runs _verify_rtstool().
        self._executor = kwargs.get('executor') or utils.execute
        super(Ev3LioAdm, self).__init__(*args, **kwargs)

    def _with_root_helper(self, kwargs):
        if kwargs.get('run_as_root') and not kwargs.get('root_helper'):
            kwargs['root_helper'] = self._root_helper
        return kwargs

    @utils.synchronized('lioadm', external=True)
    def _execute(self, *args, **kwargs):
        """Locked execution, as LioAdm's (rtslib-fb is not race free)."""
        return self._executor(*args, **self._with_root_helper(kwargs))

    def _verify_rtstool(self):
        # As in LioAdm: no lock, no root (it only imports rtslib-fb).
        try:
            self._executor('cinder-rtstool', 'verify')
        except (OSError, processutils.ProcessExecutionError):
            LOG.error('cinder-rtstool is not installed correctly')
            raise


class LioExports(object):
    """The exports of ev3 resources on this host, for failover.

    Lists the iSCSI targets whose IQN is ``target_prefix`` + a resource
    name, and removes one through the target helper (which also persists
    the LIO configuration).
    """

    def __init__(self, target_helper, target_prefix):
        self._target = target_helper
        self._prefix = target_prefix

    def exported_names(self):
        """Resource names that have an iSCSI target here."""
        found = set()
        for line in (self._target._get_targets() or '').splitlines():
            iqn = line.strip()
            if iqn.startswith(self._prefix):
                name = iqn[len(self._prefix):]
                if names.is_resource_name(name):
                    found.add(name)
        return found

    def remove(self, name):
        """Remove the iSCSI target of resource ``name``."""
        names.validate_resource_name(name)
        self._target.remove_iscsi_target(0, 0, name, name)
