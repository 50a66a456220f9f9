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
"""Snapshots, clones, revert, retype, migration, manage and unmanage.

A mixin of :class:`~.ev3.ReplicatedVolumeDriver`: the parts of Cinder's
volume lifecycle that copy or transform a volume, each keeping every
replica in step (or handing a plain volume to Cinder's LVM driver).
"""

import uuid

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import excutils
from oslo_utils import units

from cinder import exception as cinder_exception
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import migration
from cinder.volume.drivers.ovt import names
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class Lifecycle(object):
    """Snapshots, clones, revert, retype, migration, manage (a mixin)."""

    def create_snapshot(self, snapshot):
        """Snapshot every replica at one point in time (or a plain LV)."""
        name = self._replicated_name(snapshot.volume)
        if name is None:
            return super(Lifecycle, self).create_snapshot(snapshot)
        self._refuse_if_frozen('snapshotting volume %s' % snapshot.volume_id)
        self.replicator.snapshot(name,
                                 self._escape_snapshot(snapshot['name']))

    def delete_snapshot(self, snapshot):
        """Remove the snapshot on every host that holds it."""
        lv_name = self._escape_snapshot(snapshot['name'])
        if (not self.replicated_backend or
                self._replicated_name(snapshot.volume) is None):
            return super(Lifecycle, self).delete_snapshot(snapshot)
        self._refuse_if_frozen('deleting snapshot %s' % snapshot.id)
        self.replicator.delete_snapshot(lv_name)

    def _both_or_neither(self, volume, source, source_name, what):
        wants = self._new_replicated(volume)
        if (source_name is None) != (not wants):
            raise exception.Ev3Error(
                reason='volume %s from %s %s: both must be replicated, or '
                       'neither, in this release' % (volume.id, what,
                                                     source.id))
        return wants

    def create_cloned_volume(self, volume, src_vref):
        """A clone: every host copies its own replica (no network copy).

        A temporary snapshot of every replica, taken at one point in time,
        seeds the new replicas; it is removed afterwards.
        """
        source = self._replicated_name(src_vref)
        if not self._both_or_neither(volume, src_vref, source, 'volume'):
            return super(Lifecycle, self).create_cloned_volume(
                volume, src_vref)
        self._refuse_if_frozen('cloning volume %s' % src_vref.id)
        temporary = '_snapshot-%s' % uuid.uuid4()
        self.replicator.snapshot(source, temporary)
        try:
            return self._create_seeded(volume, temporary,
                                       src_vref.size * units.Gi)
        finally:
            self.replicator.delete_snapshot(temporary)

    def create_volume_from_snapshot(self, volume, snapshot):
        """Every host builds the new replica from its own snapshot copy."""
        source = self._replicated_name(snapshot.volume)
        if not self._both_or_neither(volume, snapshot, source, 'snapshot'):
            return super(Lifecycle, self).create_volume_from_snapshot(
                volume, snapshot)
        self._refuse_if_frozen('creating volume %s' % volume.id)
        return self._create_seeded(volume,
                                   self._escape_snapshot(snapshot['name']),
                                   snapshot.volume_size * units.Gi)

    def _create_seeded(self, volume, seed_lv, seed_bytes):
        name = names.resource_name(volume)
        self.replicator.create(name, seed_bytes,
                               thin=self.configuration.lvm_type == 'thin',
                               seed=(seed_lv, seed_bytes))
        if volume.size * units.Gi > seed_bytes:
            # DRBD resynchronises the grown area from the Primary.
            try:
                self.replicator.extend(name, volume.size * units.Gi)
            except Exception:
                with excutils.save_and_reraise_exception():
                    LOG.error('Volume %s could not grow to %d GiB; removing '
                              'it from every host', volume.id, volume.size)
                    self.replicator.delete(name)
        return {'replication_status': 'enabled'}

    def revert_to_snapshot(self, context, volume, snapshot):
        """Revert every replica: the snapshot is written through DRBD.

        The Primary copies its snapshot over its DRBD device, so every
        replica ends with the snapshot's data (a peer that is away
        resynchronises it and reports ``enabling`` until done).
        """
        name = self._replicated_name(volume)
        if name is None:
            return super(Lifecycle, self).revert_to_snapshot(
                context, volume, snapshot)
        self._refuse_if_frozen('reverting volume %s' % volume.id)
        self._primary_device(volume, name)
        self.replicator.revert(name, self._escape_snapshot(snapshot['name']),
                               snapshot.volume_size * units.Gi)

    def retype(self, context, volume, new_type, diff, host):
        """Replication on/off and replication mode changes, in place.

        ``new_type`` is the VolumeType Cinder's manager passes (a dict in
        some callers).  A type this backend cannot honour (replication
        without replication_device, an unknown ``ev3:replication_mode``)
        is refused with a clear error before anything changes; another
        ``provisioning:type`` than this backend's ``lvm_type`` needs a
        migration (False).
        """
        # (Cinder's LVM driver tests pass a bare type id.)
        specs = dict((new_type.get('extra_specs') if hasattr(
            new_type, 'get') else None) or {})
        wants = volume_utils.is_replicated_spec(specs)
        if wants and not self.replicated_backend:
            raise exception.Ev3Error(
                reason='volume %s cannot be retyped to replicated type %s: '
                       'backend %s has no replication_device'
                       % (volume.id, new_type.get('name'), self.host))
        protocol = self._spec_protocol(volume, specs) if wants else None
        provisioning = specs.get('provisioning:type')
        if provisioning in ('thin', 'thick') and (provisioning == 'thin') != (
                self.configuration.lvm_type == 'thin'):
            LOG.info('Retype of volume %s to %s provisioning needs a '
                     'migration: backend %s has lvm_type %s', volume.id,
                     provisioning, self.host, self.configuration.lvm_type)
            return False
        if not self.replicated_backend:
            return super(Lifecycle, self).retype(
                context, volume, new_type, diff, host)
        name = self._replicated_name(volume)
        if wants != (name is not None):
            return self._retype_replication(volume, wants, protocol)
        if name is not None and protocol != (
                self.agent.resource(name).protocol.value):
            self._refuse_if_frozen('retyping volume %s' % volume.id)
            self.replicator.set_protocol(name, protocol)
            return True, {'replication_status': 'enabled'}
        return super(Lifecycle, self).retype(
            context, volume, new_type, diff, host)

    def _retype_replication(self, volume, wants, protocol):
        """Turn replication on or off in place (detached volumes only)."""
        if volume['status'] == 'in-use' or volume.get('volume_attachment'):
            LOG.warning('Retype of volume %s would turn replication %s '
                        'while it is attached; detach it first', volume.id,
                        'on' if wants else 'off')
            return False
        self._refuse_if_frozen('retyping volume %s' % volume.id)
        name = names.resource_name(volume)
        if wants:
            self.replicator.add_replication(
                name, volume.size * units.Gi,
                thin=self.configuration.lvm_type == 'thin',
                protocol=protocol)
            return True, {'replication_status': 'enabled'}
        self.replicator.drop_replication(name)
        return True, {'replication_status': 'disabled'}

    def update_migrated_volume(self, ctxt, volume, new_volume,
                               original_volume_status):
        """Keep a migrated replicated volume on its new backing name.

        Its LV, DRBD resource, resource files and IQN on every host carry
        the new volume's name, so nothing is renamed: ``_name_id`` points
        the volume at them (a plain LV is renamed as Cinder's LVM driver
        does).
        """
        if self._replicated_name(new_volume) is None:
            return super(Lifecycle, self).update_migrated_volume(
                ctxt, volume, new_volume, original_volume_status)
        return {'_name_id': new_volume['_name_id'] or new_volume['id'],
                'provider_location': new_volume['provider_location']}

    def migrate_volume(self, ctxt, volume, host):
        """Move a plain volume to another ev3 backend over DRBD.

        Anything else (a replicated or attached volume, a volume with
        snapshots, another kind of backend) is left to Cinder's LVM driver
        and generic migration.
        """
        target = migration.Location.parse(
            (host.get('capabilities') or {}).get('location_info'))
        name = volume['name']
        if (target is None or self.migrator is None or
                target.backend_id == self.settings.backend_id or
                self._replicated_name(volume) is not None or
                volume['status'] not in ('available', 'retyping') or
                volume.get('volume_attachment') or
                self.vg.get_volume(name) is None or
                self.vg.lv_has_snapshot(name)):
            return super(Lifecycle, self).migrate_volume(ctxt, volume, host)
        self._refuse_if_frozen('migrating volume %s' % volume.id)
        if not self.migrator.move(name, volume.size * units.Gi, target):
            return False, None
        # The copy here is out of DRBD: cleared and removed as Cinder's LVM
        # driver removes a migrated volume's source.
        self._delete_volume(volume)
        LOG.info('Volume %s moved from %s to %s', volume.id,
                 self.settings.backend_id, target.backend_id)
        return True, {'provider_location': None, 'provider_auth': None}

    # -- manage and unmanage

    def manage_existing_get_size(self, volume, existing_ref):
        """Size of the LV to manage (an ev3 resource's LV is refused)."""
        return super(Lifecycle, self).manage_existing_get_size(
            volume, self._manage_ref(existing_ref))

    def manage_existing(self, volume, existing_ref):
        """Adopt a plain LV; for a replicated type, replicate it to the peers.

        The LV is renamed as Cinder's LVM driver does, then (replicated
        type) grows by DRBD's metadata, keeps its data and is copied to new
        replicas on the peers by a full sync.  Every peer must answer and
        none may be frozen; when a peer fails part-way, the new replicas
        are removed and the LV gets its name and size back.  The backing LV
        of a DRBD resource (an unmanaged ev3 volume) is refused, changing
        nothing: see :meth:`_manage_ref`.
        """
        existing_ref = self._manage_ref(existing_ref)
        if not self._type_wants_replication(volume):
            return super(Lifecycle, self).manage_existing(
                volume, existing_ref)
        if not self.replicated_backend:
            raise exception.Ev3Error(
                reason='volume %s has a replicated volume type but backend '
                       '%s has no replication_device' % (volume.id, self.host))
        self._refuse_if_frozen('managing volume %s' % volume.id)
        protocol = self._type_protocol(volume)
        lv_name = existing_ref['source-name']
        self._require_peers('managing volume %s (LV %s)'
                            % (volume.id, lv_name))
        lv_bytes = self._plain_lv_bytes(lv_name)
        super(Lifecycle, self).manage_existing(volume, existing_ref)
        name = names.resource_name(volume)
        try:
            self.replicator.add_replication(
                name, volume.size * units.Gi,
                thin=self.configuration.lvm_type == 'thin',
                protocol=protocol)
        except Exception:
            with excutils.save_and_reraise_exception():
                self._give_back(volume, name, lv_name, lv_bytes)
        return {'replication_status': 'enabled'}

    def _manage_ref(self, existing_ref):
        """``existing_ref`` as {'source-name': LV}; refuse DRBD's LVs.

        ``source-id`` names the LV of that volume id (volume_name_template).
        An LV that backs a DRBD resource here (an ev3 resource file names
        it, or the LV is open, e.g. by DRBD) is refused with
        ManageExistingInvalidReference before anything changes: ev3 does
        not adopt an existing DRBD resource (renaming it on every host
        under I/O is not done); the operator takes it out of DRBD first.
        """
        ref = dict(existing_ref or {})
        if 'source-name' not in ref and ref.get('source-id'):
            ref = {'source-name': CONF.volume_name_template
                   % ref['source-id']}
        lv_name = ref.get('source-name')
        if not lv_name:
            raise cinder_exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason='Reference must contain source-name or source-id '
                       'element.')
        if self.agent is None:
            return ref
        where = self.settings.backend_id
        if self.agent.has_resource(lv_name):
            resource = self.agent.resource(lv_name)
            hosts = ', '.join(n.backend_id for n in resource.nodes)
            role = (self.agent.status([lv_name]).get(lv_name) or {}).get(
                'role', 'Unknown')
            LOG.warning('Refusing to manage LV %s on %s: it backs the ev3 '
                        'DRBD resource %s held on %s', lv_name, where,
                        lv_name, hosts)
            raise cinder_exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason='LV %s is the backing LV of the ev3 DRBD resource %s '
                       '(%s on %s) held on %s; ev3 does not adopt an existing '
                       'DRBD resource. Keep it unmanaged, or take it out of '
                       'DRBD on every one of those hosts first (drbdadm down '
                       '%s, remove its resource file; remove the LV on the '
                       'other hosts and cut this LV to the volume size) and '
                       'then manage the LV' % (lv_name, lv_name, role, where,
                                               hosts, lv_name))
        if self.vg.get_volume(lv_name) is not None and self._lv_open(
                lv_name):
            LOG.warning('Refusing to manage LV %s on %s: it is open',
                        lv_name, where)
            raise cinder_exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason='LV %s on %s is open (a DRBD resource, a mount or '
                       'another holder uses it); stop that use (e.g. '
                       '"drbdadm down" its DRBD resource) and manage it '
                       'again' % (lv_name, where))
        return ref

    def _lv_open(self, lv_name):
        out, _err = self._execute(
            'env', 'LC_ALL=C', 'lvs', '--noheadings', '-o', 'lv_attr',
            '%s/%s' % (self.configuration.volume_group, lv_name),
            run_as_root=True, root_helper=self._root_helper)
        attr = out.strip()
        return len(attr) > 5 and attr[5] == 'o'

    def _plain_lv_bytes(self, lv_name):
        """Size in bytes of LV ``lv_name`` here, or None if it is absent."""
        if self.vg.get_volume(lv_name) is None:
            return None
        out, _err = self._execute(
            'blockdev', '--getsize64',
            names.lv_path(self.configuration.volume_group, lv_name),
            run_as_root=True, root_helper=self._root_helper)
        return int(out.strip())

    def _require_peers(self, action):
        """Every peer answers and is not frozen; else refuse, unchanged."""
        problems = []
        for backend_id, facts in sorted(self.replicator.refresh().items()):
            if backend_id == self.settings.backend_id:
                continue
            if isinstance(facts, Exception):
                problems.append('%s does not answer (%s)' % (backend_id,
                                                             facts))
            elif facts.get('frozen'):
                problems.append('%s is frozen' % backend_id)
        if problems:
            raise exception.Ev3Error(
                reason='%s on %s refused, nothing was changed: %s'
                       % (action, self.settings.backend_id,
                          '; '.join(problems)))

    def _give_back(self, volume, name, lv_name, lv_bytes):
        """After a failed manage: the LV's size and name as they were."""
        try:
            if lv_bytes and (self._plain_lv_bytes(name) or 0) > lv_bytes:
                # Only DRBD's metadata, at the tail, goes.
                self._execute('env', 'LC_ALL=C', 'lvreduce', '-f', '-L',
                              '%dm' % (lv_bytes // units.Mi),
                              '%s/%s' % (self.configuration.volume_group,
                                         name),
                              run_as_root=True, root_helper=self._root_helper)
            if name != lv_name and self.vg.get_volume(name) is not None:
                self.vg.rename_volume(name, lv_name)
            LOG.warning('Manage of volume %s failed; LV %s is back as it was '
                        'on %s', volume.id, lv_name, self.settings.backend_id)
        except Exception as err:
            LOG.error('Manage of volume %s failed and LV %s could not be '
                      'given back its name and size on %s (it is %s now): '
                      '%s', volume.id, lv_name, self.settings.backend_id,
                      name, err)

    def unmanage(self, volume):
        """Cinder forgets the volume; every host keeps its storage as is.

        A replicated volume's LV, DRBD resource, resource file and role stay
        on every host (Cinder's manager removed the export before).  The
        driver keeps bringing the resource up at start-up and reports its
        health, but never removes it; managing its LV again is refused
        (see :meth:`_manage_ref`).
        """
        name = self._replicated_name(volume)
        if name is None:
            return super(Lifecycle, self).unmanage(volume)
        hosts = ', '.join(n.backend_id
                          for n in self.agent.resource(name).nodes)
        role = (self.agent.status([name]).get(name) or {}).get(
            'role', 'Unknown')
        LOG.warning('Volume %s is no longer managed by Cinder; its DRBD '
                    'resource %s stays as it is on %s (%s on %s): its LVs, '
                    'resource files and roles are kept, and are no longer '
                    'Cinder\'s to remove', volume.id, name, hosts, role,
                    self.settings.backend_id)
