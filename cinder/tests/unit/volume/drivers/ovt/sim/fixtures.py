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
"""Test fixtures routing Cinder's brick LVM calls to simulated hosts.

Brick LVM runs a few commands through ``putils.execute`` directly instead of
the injected executor (``lvm version``, ``get_lv_info``,
``get_all_volume_groups``, ``get_all_physical_volumes``) and others through
``cinder.privsep.lvm``.  ``BrickRouting`` patches both: a call whose
``root_helper`` is a ``SimHost.root_helper`` marker goes to that host;
``lvm version`` without a root helper gets the simulated LVM version;
anything else fails loudly with ``UnroutedCommand``.
"""

import types

import fixtures
from oslo_concurrency import processutils

from cinder.brick.local_dev import lvm as brick_lvm
import cinder.privsep.lvm
from cinder.tests.unit.volume.drivers.ovt.sim import cluster as sim_cluster
from cinder.tests.unit.volume.drivers.ovt.sim import lvm as sim_lvm


class UnroutedCommand(AssertionError):
    """A brick LVM command that no simulated host can run."""


class BrickRouting(fixtures.Fixture):
    """Route brick LVM's direct ``putils.execute`` calls to a SimCluster."""

    def __init__(self, cluster):
        super(BrickRouting, self).__init__()
        self.cluster = cluster

    def _setUp(self):
        proxy = types.SimpleNamespace(**{
            name: getattr(processutils, name) for name in dir(processutils)
            if not name.startswith('__')})
        proxy.execute = self.execute
        self.useFixture(fixtures.MockPatchObject(brick_lvm, 'putils', proxy))
        for name, replacement in (('udevadm_settle', lambda: None),
                                  ('lvrename', self.lvrename),
                                  ('lvconvert', self.lvconvert),
                                  ('create_vg', self.create_vg)):
            self.useFixture(fixtures.MockPatchObject(
                cinder.privsep.lvm, name, replacement))

    def execute(self, *cmd, **kwargs):
        """Brick's ``putils.execute`` routed by its ``root_helper``."""
        helper = kwargs.get('root_helper') or ''
        tool, args = sim_cluster.strip_prefixes([str(c) for c in cmd])
        if not helper:
            if (tool, args) == ('lvm', ['version']):
                return sim_lvm.VERSION_TEXT, ''
            raise UnroutedCommand('BrickRouting: refusing %r: no root_helper '
                                  'marker names a simulated host' % (cmd,))
        if not helper.startswith(sim_cluster.ROOT_HELPER_PREFIX):
            raise UnroutedCommand('BrickRouting: refusing %r: root_helper %r '
                                  'is not a simulated host marker'
                                  % (cmd, helper))
        name = helper[len(sim_cluster.ROOT_HELPER_PREFIX):]
        if name not in self.cluster.hosts():
            raise UnroutedCommand('BrickRouting: refusing %r: no simulated '
                                  'host %r' % (cmd, name))
        return self.cluster.host(name).execute(*cmd, **kwargs)

    def _only_host_with(self, what, vg, lv):
        found = [name for name in self.cluster.hosts()
                 if lv in self.cluster.host(name).lvs()]
        if len(found) != 1:
            raise NotImplementedError(
                'BrickRouting cannot route privsep %s(%s/%s): privsep calls '
                'carry no host and %d simulated hosts have that LV; run the '
                'command through SimHost.execute instead'
                % (what, vg, lv, len(found)))
        return self.cluster.host(found[0])

    def lvrename(self, vg_name, lv_name, new_name):
        host = self._only_host_with('lvrename', vg_name, lv_name)
        host.execute('lvrename', vg_name, lv_name, new_name,
                     run_as_root=True)

    def lvconvert(self, vg_name, snapshot_name):
        host = self._only_host_with('lvconvert', vg_name, snapshot_name)
        host.execute('lvconvert', '--merge',
                     '%s/%s' % (vg_name, snapshot_name), run_as_root=True)

    def create_vg(self, vg_name, pv_list):
        raise NotImplementedError('BrickRouting: simulated hosts get their '
                                  'VG from SimCluster.add_host, not vgcreate')
