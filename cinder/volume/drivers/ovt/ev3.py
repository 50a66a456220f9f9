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
"""ev3: replicated block storage for Cinder on LVM, DRBD and LIO.

Cinder's words and the storage's words:

=====================  ===================================================
Cinder                 ev3 on the storage hosts
=====================  ===================================================
backend (host@RBS)     a host: this one, and every ``replication_device``
replicated volume      a DRBD resource ``volume-<id>`` over one LV per host
volume's host          the host where the resource is Primary and exported
export / attach        LIO target on ``/dev/drbdN`` of the Primary
non-replicated volume  a plain LV, exactly as Cinder's LVM driver makes it
=====================  ===================================================

This class only speaks Cinder: it maps volumes to resource names and hands
the work to :mod:`.replication` (every host in step), :mod:`.agent` (this
host's storage) and Cinder's own target helper (the export).  Its mixins
hold failover (:mod:`.ha`) and snapshots, clones, revert, retype,
migration and manage (:mod:`.lifecycle`).
"""

import os
import socket
import threading
import time

from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from cinder.brick.local_dev import lvm as brick_lvm
from cinder import exception as cinder_exception
from cinder import interface
from cinder import utils
from cinder.volume.drivers import lvm
from cinder.volume.drivers.ovt import agent as ev3_agent
from cinder.volume.drivers.ovt import drbdadm
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import ha
from cinder.volume.drivers.ovt import lifecycle
from cinder.volume.drivers.ovt import lio
from cinder.volume.drivers.ovt import migration
from cinder.volume.drivers.ovt import names
from cinder.volume.drivers.ovt import options
from cinder.volume.drivers.ovt import peer_api
from cinder.volume.drivers.ovt import replication
from cinder.volume.drivers.ovt import resfiles
from cinder.volume.drivers.ovt import roles
from cinder.volume.drivers.ovt import state
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
LIO_HELPER = 'cinder.volume.drivers.ovt.lio.Ev3LioAdm'


@interface.volumedriver
class ReplicatedVolumeDriver(ha.HighAvailability, lifecycle.Lifecycle,
                             lvm.LVMVolumeDriver):
    """Cinder volumes as DRBD resources mirrored to peer hosts."""

    VERSION = '0.1.0'
    CI_WIKI_NAME = 'ev3_CI'

    def __init__(self, *args, **kwargs):
        # Injection points for simulated hosts; cinder-volume passes none.
        self._root_helper = kwargs.pop('root_helper', None)
        self._resource_files = kwargs.pop('resource_files', None)
        self._node_name = kwargs.pop('node_name', None)
        self._state_path = kwargs.pop('state_path', None)
        self._active_backend_id = kwargs.get('active_backend_id')
        super(ReplicatedVolumeDriver, self).__init__(*args, **kwargs)
        self.configuration.append_config_values(options.ev3_opts)
        self.settings = None
        self.agent = None
        self.replicator = None
        self.migrator = None
        self.roles = None
        self.server = None
        self._state = None
        self._frozen = False
        self._failover_lock = threading.Lock()
        self._links_settle_by = 0.0
        self._start_errors = {}
        self._health = {}
        self._health_reported = False

    @property
    def target_mapping(self):
        """Cinder's target helpers, with LIO running through our executor."""
        return self._target_mapping

    @target_mapping.setter
    def target_mapping(self, mapping):
        mapping = dict(mapping)
        mapping['lioadm'] = LIO_HELPER
        self._target_mapping = mapping

    @classmethod
    def get_driver_options(cls):
        """Options of the LVM driver plus ev3's own."""
        return (super(ReplicatedVolumeDriver, cls).get_driver_options() +
                options.ev3_opts)

    # -- start-up

    @property
    def replicated_backend(self):
        """True when replication_device names at least one peer."""
        return self.settings is not None and self.settings.replicated

    def do_setup(self, context):
        """Validate options; on a replicated backend, start the peer API."""
        super(ReplicatedVolumeDriver, self).do_setup(context)
        self.settings = options.load_settings(self.configuration, self.host)
        if not self.settings.replicated:
            LOG.info('Backend %s has no replication_device: plain LVM '
                     'volumes only', self.settings.backend_id)
            return
        if self._root_helper is None:
            self._root_helper = utils.get_root_helper()
        if self.vg is None:
            self.vg = self._build_vg()
        self._state = state.HostState(self._state_file())
        self._frozen = self._state.frozen()
        exports = None
        if isinstance(self.target_driver, lio.Ev3LioAdm):
            exports = lio.LioExports(self.target_driver,
                                     self.configuration.target_prefix)
        self.agent = ev3_agent.HostAgent(
            backend_id=self.settings.backend_id,
            node_name=self._node_name or socket.gethostname(),
            volume_group=self.settings.volume_group, vg=self.vg,
            drbdadm=drbdadm.DrbdAdm(self._execute,
                                    root_helper=self._root_helper,
                                    host=self.settings.backend_id),
            resource_files=(self._resource_files or
                            resfiles.RootwrapResourceFiles(
                                self._execute, self._root_helper)),
            secret=self.settings.secret, execute=self._execute,
            root_helper=self._root_helper,
            lvm_type=self.configuration.lvm_type,
            frozen=lambda: self._frozen, exports=exports)
        version = self.agent.version
        if version.kernel is None:
            LOG.warning('The DRBD kernel module is not loaded on %s; '
                        'replicated volumes need it (modprobe drbd)',
                        self.settings.backend_id)
        elif not version.is_9 and len(self.settings.peers) > 1:
            raise exception.ConfigError(
                section=self.settings.section, option='replication_device',
                problem='names %d peers but DRBD %s mirrors to one peer only'
                        % (len(self.settings.peers), version.kernel_text),
                fix='install DRBD 9 or keep a single replication_device')
        peers = {p.backend_id: peer_api.PeerClient(
            p.backend_id, p.ip, p.port, self.settings.secret,
            own_backend_id=self.settings.backend_id,
            timeout=(3.05, self.settings.api_timeout))
            for p in self.settings.peers}
        self.replicator = replication.Replicator(
            self.settings, self.agent, peers, self._state)
        self.roles = roles.RoleManager(self.agent, peers)
        self.migrator = migration.Migrator(
            self.settings, self.agent, self.replicator.allocation_lock,
            lambda target: peer_api.PeerClient(
                target.backend_id, target.ip, target.port,
                self.settings.secret,
                own_backend_id=self.settings.backend_id,
                timeout=(3.05, self.settings.api_timeout)))
        self._reconcile()
        # Replicas brought up at start-up need a moment to reconnect: an
        # export asked for within ev3_connect_timeout waits for their links.
        self._links_settle_by = (time.monotonic() +
                                 self.settings.connect_timeout)
        self.server = peer_api.PeerServer(
            self.settings.backend_ip, self.settings.backend_port,
            self.settings.secret, handler=self.agent,
            backend_id=self.settings.backend_id,
            volume_group=self.settings.volume_group)
        self.server.start()
        LOG.info('Backend %s serves the ev3 peer API on %s:%s (DRBD %s, '
                 'peers %s)', self.settings.backend_id,
                 self.settings.backend_ip, self.server.port,
                 version.kernel_text,
                 ', '.join(p.backend_id for p in self.settings.peers))
        probe = threading.Thread(target=self._probe_peers,
                                 name='ev3-probe-%s' % self.host, daemon=True)
        probe.start()

    def _probe_peers(self):
        """Say at start-up which peers answer; never blocks the service."""
        for backend_id, facts in self.replicator.refresh().items():
            if backend_id == self.settings.backend_id:
                continue
            if isinstance(facts, Exception):
                LOG.warning('Peer %s is unreachable at start-up of %s: %s. '
                            'Replicated volumes cannot be created until it '
                            'answers.', backend_id, self.settings.backend_id,
                            facts)
            else:
                LOG.info('Peer %s of %s answers (node %s, DRBD %s)',
                         backend_id, self.settings.backend_id,
                         facts['node_name'], facts['drbd_version'])

    def _reconcile(self):
        """Compare Cinder's view with DRBD's at start-up; never promote."""
        self._start_errors = self.agent.bring_up_all()
        primaries = sorted(n for n, s in self.agent.status().items()
                           if s['role'] == 'Primary')
        if self._is_primary_role():
            LOG.info('Backend %s starts as the primary; %d volumes are '
                     'Primary here', self.settings.backend_id,
                     len(primaries))
        elif primaries:
            LOG.error('Backend %s starts as the standby of %s but volumes '
                      '%s are Primary here; run "cinder failover-host %s '
                      '--backend_id %s" again to demote them',
                      self.settings.backend_id, self._active_backend_id,
                      ', '.join(primaries), self.host,
                      self._active_backend_id)
        if self._frozen:
            LOG.warning('Backend %s starts frozen (cinder thaw-host %s '
                        'lifts it)', self.settings.backend_id, self.host)

    def _state_file(self):
        if self._state_path:
            return self._state_path
        safe = ''.join(c if c.isalnum() or c in '-_.' else '_'
                       for c in self.settings.backend_id)
        return os.path.join(CONF.state_path, 'ev3', '%s.json' % safe)

    def _build_vg(self):
        lvm_conf = self.configuration.lvm_conf_file
        if lvm_conf.lower() == 'none':
            lvm_conf = None
        lvm_type = self.configuration.lvm_type
        if lvm_type == 'auto':
            lvm_type = ('thin' if volume_utils.supports_thin_provisioning()
                        else 'default')
            self.configuration.lvm_type = lvm_type
        try:
            return brick_lvm.LVM(
                self.configuration.volume_group, self._root_helper,
                lvm_type=lvm_type, executor=self._execute, lvm_conf=lvm_conf,
                suppress_fd_warn=self.configuration.lvm_suppress_fd_warnings)
        except (cinder_exception.VolumeGroupNotFound,
                processutils.ProcessExecutionError) as err:
            # Real LVM answers "vgs <missing VG>" with exit code 5, which
            # brick passes on as a command error.
            if (isinstance(err, processutils.ProcessExecutionError) and
                    'not found' not in (err.stderr or '')):
                raise
            raise exception.ConfigError(
                section=self.settings.section, option='volume_group',
                problem='names %s, which does not exist on this host'
                        % self.configuration.volume_group,
                fix='create the volume group (is its disk attached?) or '
                    'correct the option')

    def check_for_setup_error(self):
        """Plain LVM checks; replicated backends built their VG in setup."""
        if not self.replicated_backend:
            return super(ReplicatedVolumeDriver, self).check_for_setup_error()
        if self.configuration.lvm_type == 'thin':
            self._sparse_copy_volume = True

    def stop_peer_api(self):
        """Stop serving the peer API (service stop, tests)."""
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _clear_volume(self, volume, is_snapshot=False):
        """Zero or shred a plain LV through this host's executor."""
        if not self.replicated_backend:
            return super(ReplicatedVolumeDriver, self)._clear_volume(
                volume, is_snapshot)
        path = self.local_path(volume)
        if is_snapshot:
            path += '-cow'
        size_mib = (volume.get('volume_size') if is_snapshot
                    else volume.get('size')) * units.Ki
        if self.configuration.volume_clear_size:
            size_mib = min(size_mib, self.configuration.volume_clear_size)
        if self.configuration.volume_clear == 'shred':
            self._execute('shred', '-n3', '-s%dMiB' % size_mib, path,
                          run_as_root=True, root_helper=self._root_helper)
        else:
            self._execute('dd', 'if=/dev/zero', 'of=%s' % path, 'bs=1M',
                          'count=%d' % size_mib, 'oflag=direct',
                          run_as_root=True, root_helper=self._root_helper)

    def _refuse_if_frozen(self, action):
        if self._frozen:
            raise exception.HostFrozen(host=self.settings.backend_id,
                                       action=action)

    # -- which volumes are replicated

    def _type_specs(self, volume):
        if not volume.get('volume_type_id'):
            return {}
        try:
            vtype = volume.volume_type
            return dict(vtype.extra_specs or {}) if vtype else {}
        except cinder_exception.NotFound:
            LOG.warning('Volume type %s of volume %s not found; treating '
                        'it as not replicated', volume['volume_type_id'],
                        volume['id'])
            return {}

    def _type_protocol(self, volume):
        """DRBD protocol of the type's ev3:replication_mode, or the default."""
        return self._spec_protocol(volume, self._type_specs(volume))

    def _spec_protocol(self, volume, specs):
        mode = specs.get('ev3:replication_mode')
        if mode is None:
            return self.settings.protocol
        if mode not in options.MODES:
            raise exception.Ev3Error(
                reason='volume type of volume %s has ev3:replication_mode=%r; '
                       'use one of %s' % (volume.id, mode,
                                          ', '.join(sorted(options.MODES))))
        return options.MODES[mode]

    def _type_wants_replication(self, volume):
        return volume_utils.is_replicated_spec(self._type_specs(volume))

    def _new_replicated(self, volume):
        """True when a new volume must be replicated on this backend."""
        return self.replicated_backend and self._type_wants_replication(
            volume)

    def _replicated_name(self, volume):
        """The resource name when this volume is replicated here, else None."""
        if self.agent is None:
            return None
        name = volume['name']
        if names.is_resource_name(name) and self.agent.has_resource(name):
            return name
        return None

    # -- lifecycle

    def create_volume(self, volume):
        """Create a plain LV, or a replicated resource on every host."""
        if not self._type_wants_replication(volume):
            return super(ReplicatedVolumeDriver, self).create_volume(volume)
        if not self.replicated_backend:
            raise exception.Ev3Error(
                reason='volume %s has a replicated volume type but backend '
                       '%s has no replication_device' % (volume.id, self.host))
        name = names.resource_name(volume)
        self._refuse_if_frozen('creating volume %s' % volume.id)
        self.replicator.create(name, volume.size * units.Gi,
                               thin=self.configuration.lvm_type == 'thin',
                               protocol=self._type_protocol(volume))
        return {'replication_status': 'enabled'}

    def delete_volume(self, volume):
        """Remove the volume here and its replicas on every peer."""
        name = self._replicated_name(volume)
        if name is None and not (self.replicated_backend and
                                 self._type_wants_replication(volume)):
            return super(ReplicatedVolumeDriver, self).delete_volume(volume)
        name = name or names.resource_name(volume)
        self._refuse_if_frozen('deleting volume %s' % volume.id)
        if self.vg.get_volume(name) and self.vg.lv_has_snapshot(name):
            raise cinder_exception.VolumeIsBusy(volume_name=name)
        clear = 0
        if (self.configuration.volume_clear != 'none' and
                self.configuration.lvm_type != 'thin'):
            clear = volume.size * units.Gi
            if self.configuration.volume_clear_size:
                clear = min(clear,
                            self.configuration.volume_clear_size * units.Mi)
        self.replicator.delete(name, clear_bytes=clear)
        LOG.info('Deleted volume %s (%s) on every host', volume.id, name)

    def extend_volume(self, volume, new_size):
        """Grow every replica, then DRBD, then the export."""
        name = self._replicated_name(volume)
        if name is None:
            return super(ReplicatedVolumeDriver, self).extend_volume(
                volume, new_size)
        self._refuse_if_frozen('extending volume %s' % volume.id)
        self.replicator.extend(name, new_size * units.Gi)
        try:
            self.target_driver.extend_target(volume)
        except Exception:
            LOG.exception('Volume %s grew on every host but its export on %s '
                          'was not updated', volume.id, self.host)
            raise cinder_exception.TargetUpdateFailed(volume_id=volume.id)

    def local_path(self, volume, vg=None):
        """The DRBD device of a replicated volume; else the LV."""
        name = self._replicated_name(volume)
        if name is not None:
            return self.agent.device_path(name)
        return super(ReplicatedVolumeDriver, self).local_path(volume, vg=vg)

    # -- export

    def _primary_device(self, volume, name):
        status = self.agent.status([name]).get(name) or {}
        blocked = None
        if status.get('role') == 'Secondary' and self._is_primary_role():
            status, blocked = self._resume_home_role(volume, name, status)
        if status.get('role') != 'Primary':
            raise exception.Ev3Error(
                reason='volume %s is %s on %s, not Primary: it is not '
                       'exported here (%s)'
                       % (volume.id, status.get('role', 'not up'),
                          self.settings.backend_id,
                          blocked or 'fail over to this host first'))
        return self.agent.device_path(name)

    def create_export(self, context, volume, connector, vg=None):
        """Export the DRBD device of the Primary through the target helper."""
        name = self._replicated_name(volume)
        if name is None:
            return super(ReplicatedVolumeDriver, self).create_export(
                context, volume, connector, vg=vg)
        path = self._primary_device(volume, name)
        export = self.target_driver.create_export(context, volume, path)
        LOG.info('Exported volume %s (%s) on %s', volume.id, path,
                 self.settings.backend_id)
        return {'provider_location': export['location'],
                'provider_auth': export['auth']}

    def ensure_export(self, context, volume):
        """Recreate a missing export of a volume that is Primary here.

        Called by cinder-volume at start-up for in-use volumes; one found
        Secondary on the primary host is promoted first when that is safe
        (see ``_resume_home_role``).
        """
        name = self._replicated_name(volume)
        if name is None:
            return super(ReplicatedVolumeDriver, self).ensure_export(
                context, volume)
        status = self.agent.status([name]).get(name) or {}
        if status.get('role') == 'Secondary' and self._is_primary_role():
            status, _blocked = self._resume_home_role(volume, name, status)
        if status.get('role') != 'Primary':
            LOG.warning('Volume %s is %s on %s; its export is not restored '
                        'here', volume.id, status.get('role', 'not up'),
                        self.settings.backend_id)
            return None
        iqn = '%s%s' % (self.configuration.target_prefix, volume['name'])
        if self.target_driver._get_target(iqn) is None:
            self.target_driver.create_export(context, volume,
                                             self.agent.device_path(name))
            LOG.info('Restored the export of volume %s on %s', volume.id,
                     self.settings.backend_id)
            self._restore_initiators(volume)
        return None

    def _restore_initiators(self, volume):
        """Let the initiators of the volume's attachments log in again.

        A recreated LIO target has no ACL; the hosts attached to the volume
        (Cinder keeps each attachment's connector) are allowed again with
        the volume's CHAP credentials, so their iSCSI sessions recover by
        themselves.
        """
        for attachment in volume.volume_attachment or []:
            connector = attachment.connector or {}
            if (attachment.attach_status != 'attached' or
                    not connector.get('initiator')):
                continue
            try:
                self.target_driver.initialize_connection(volume, connector)
            except cinder_exception.CinderException as err:
                LOG.error('Volume %s on %s: initiator %s of attachment %s '
                          'not allowed again (%s); detach and attach it',
                          volume.id, self.settings.backend_id,
                          connector['initiator'], attachment.id, err)
                continue
            LOG.info('Volume %s on %s: initiator %s allowed again',
                     volume.id, self.settings.backend_id,
                     connector['initiator'])

    # -- stats

    def _update_volume_stats(self):
        previous = self._stats
        super(ReplicatedVolumeDriver, self)._update_volume_stats()
        if not self.replicated_backend or not self._stats:
            return
        data = self._stats
        # Until the replication facts below are in (peer requests take a
        # while), a concurrent get_volume_stats() keeps reading the last
        # complete stats, never the LVM half without replication_enabled
        # (the scheduler's CapabilitiesFilter would drop this backend).
        self._stats = previous
        pool = data['pools'][0]
        facts = self.replicator.refresh()
        pending = self.replicator.retry_pending_removals()
        replication = {
            'replication_enabled': True,
            'replication_targets': [p.backend_id
                                    for p in self.settings.peers],
            'replication_count': len(self.settings.peers),
            'replication_type': ['sync' if self.settings.protocol == 'C'
                                 else 'async'],
        }
        data.update(replication)
        pool.update(replication)
        free = [f['free_bytes'] for f in facts.values()
                if not isinstance(f, Exception)]
        unreachable = sorted(b for b, f in facts.items()
                             if isinstance(f, Exception))
        if free:
            pool['free_capacity_gb'] = round(
                min(min(free) / float(units.Gi), pool['free_capacity_gb']), 2)
        pool['location_info'] = migration.Location(
            self.settings.backend_id, self.configuration.volume_group,
            self.configuration.lvm_type, self.settings.backend_ip,
            self.settings.backend_port).render()
        pool['ev3_unreachable_peers'] = unreachable
        pool['ev3_pending_removals'] = sum(len(v) for v in pending.values())
        self._report_health(data, pool)
        self._stats = data
        for backend_id in unreachable:
            LOG.warning('Peer %s of %s is unreachable: %s', backend_id,
                        self.settings.backend_id, facts[backend_id])
