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
"""What one host does to its own storage: the host verbs.

``HostAgent`` is "this host"; ``peer_api.PeerClient`` is "a peer"; both
offer the same verbs (see doc/source/contributor/internals.rst), so the
orchestration in ``replication.py`` treats every host alike.  Every verb is
idempotent: ``ensure_*`` does nothing that is already done, ``remove_*``
returns quietly when the thing is gone.
"""

import dataclasses
import threading

from oslo_concurrency import lockutils
from oslo_concurrency import processutils
from oslo_log import log as logging

from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import names

LOG = logging.getLogger(__name__)
MiB = 1024 ** 2


class HostAgent(object):
    """The host verbs, applied to this host's LVM, DRBD and files."""

    def __init__(self, backend_id, node_name, volume_group, vg, drbdadm,
                 resource_files, secret, execute, root_helper=None,
                 lvm_type='default', frozen=None, exports=None):
        self.backend_id = backend_id
        self.node_name = node_name
        self.volume_group = volume_group
        self.vg = vg
        self.drbdadm = drbdadm
        self.resource_files = resource_files
        self._secret = secret
        self._execute = execute
        self._root_helper = root_helper
        self.lvm_type = lvm_type
        self._frozen = frozen or (lambda: False)
        self.exports = exports
        self._version = None
        self._headers = None
        self._files_lock = threading.RLock()

    def __repr__(self):
        return 'HostAgent(%s)' % self.backend_id

    def _refuse_if_frozen(self, action):
        if self._frozen():
            raise exception.HostFrozen(host=self.backend_id, action=action)

    @property
    def frozen(self):
        """True while this host refuses lifecycle changes."""
        return bool(self._frozen())

    def _lock(self, name):
        return lockutils.lock('ev3-%s-%s' % (self.backend_id, name))

    # -- facts --------------------------------------------------------------

    @property
    def version(self):
        """The installed DRBD version (asked again until a module loads)."""
        if self._version is None or self._version.kernel is None:
            self._version = self.drbdadm.version()
        return self._version

    def _specs(self):
        """{name: header dict} of every ev3 resource file on this host."""
        with self._files_lock:
            return dict(self._specs_locked())

    def _forget_files(self):
        with self._files_lock:
            self._headers = None

    def resources(self):
        """{name: drbd.Resource} configured on this host."""
        return {name: self._resource(name, header)
                for name, header in self._specs().items()}

    def _resource(self, name, header):
        spec = dict(header)
        spec.pop('name', None)
        return drbd.Resource.from_spec(
            name, spec, names.drbd_secret(self._secret, name))

    def resource(self, name):
        """The configured resource ``name``; ResourceNotFound if absent."""
        header = self._specs().get(name)
        if header is None:
            raise exception.ResourceNotFound(name=name, host=self.backend_id)
        return self._resource(name, header)

    def has_resource(self, name):
        """True when a resource file for ``name`` exists here."""
        with self._files_lock:
            return name in self._specs_locked()

    def device_path(self, name):
        """The DRBD device of resource ``name`` on this host."""
        return names.device_path(
            self.resource(name).node(self.backend_id).minor)

    def describe(self):
        """Who this host is and what it can hold."""
        free = 0
        try:
            self.vg.update_volume_group_info()
            free = int(float(self.vg.vg_free_space) * names.GiB)
            if self.lvm_type == 'thin':
                free = int(float(self.vg.vg_thin_pool_free_space) *
                           names.GiB)
        except processutils.ProcessExecutionError as err:
            LOG.warning('Cannot read free space of %s on %s: %s',
                        self.volume_group, self.backend_id, err.stderr)
        return {'backend_id': self.backend_id,
                'node_name': self.node_name,
                'drbd_version': self.version.kernel_text,
                'volume_group': self.volume_group,
                'frozen': bool(self._frozen()),
                'free_bytes': free}

    def used_ids(self):
        """Minors and ports named by this host's resource files."""
        minors, ports = set(), set()
        for name, header in self._specs().items():
            for node in header.get('nodes', []):
                if node.get('backend_id') == self.backend_id:
                    minors.add(int(node['minor']))
                ports.add(int(node['port']))
        return {'minors': sorted(minors), 'ports': sorted(ports)}

    # -- LVs -----------------------------------------------------------------

    def _lv_bytes(self, name):
        """Size of LV ``name`` in bytes, or None when it does not exist."""
        if self.vg.get_volume(name) is None:
            return None
        out, _err = self._execute(
            'blockdev', '--getsize64', names.lv_path(self.volume_group, name),
            run_as_root=True, root_helper=self._root_helper)
        return int(out.strip())

    def _is_thin_lv(self, name):
        """True when LV ``name`` here is a thin volume."""
        if self.lvm_type != 'thin':
            return False
        out, _err = self._execute(
            'env', 'LC_ALL=C', 'lvdisplay', '--noheading', '-C', '-o', 'Attr',
            '%s/%s' % (self.volume_group, name), run_as_root=True,
            root_helper=self._root_helper)
        return out.strip().startswith('V')

    def _lv_size_str(self, resource):
        peers = len(resource.nodes) - 1
        lv_bytes = drbd.lv_bytes_for(resource.size_bytes, peers)
        return '%dm' % (lv_bytes // MiB), lv_bytes

    # -- verbs ---------------------------------------------------------------

    def ensure_replica(self, name, spec, adopt=False):
        """Create what is missing of resource ``name`` here and bring it up.

        ``adopt`` (this host only, never over the peer API): the LV exists
        and holds a plain volume's data; it grows by DRBD's metadata and
        becomes the replica, its data kept.
        """
        names.validate_resource_name(name)
        self._refuse_if_frozen('creating a replica of %s' % name)
        resource = drbd.Resource.from_spec(
            name, spec, names.drbd_secret(self._secret, name))
        node = resource.node(self.backend_id)
        if node is None or node.volume_group != self.volume_group:
            raise exception.InvalidName(
                what='replica spec', value=name,
                reason='it has no node for %s in volume group %s'
                       % (self.backend_id, self.volume_group))
        with self._lock(name):
            created_lv = created_file = False
            try:
                created_file = self._claim(resource, node)
                size_str, lv_bytes = self._lv_size_str(resource)
                have = self._lv_bytes(name)
                if have is None:
                    lv_type = 'thin' if resource.thin else 'default'
                    self.vg.create_volume(name, size_str, lv_type)
                    created_lv = True
                    LOG.info('Created LV %s (%s) for volume %s on %s',
                             name, size_str, name, self.backend_id)
                elif have < lv_bytes and adopt:
                    self.vg.extend_volume(name, size_str)
                elif have < lv_bytes:
                    raise exception.ReplicaConflict(
                        name=name, host=self.backend_id,
                        reason='its LV holds %d bytes, %d needed'
                               % (have, lv_bytes))
                if created_lv and resource.seed_lv is not None:
                    self._seed(resource)
                if created_lv or (adopt and created_file):
                    self.drbdadm.create_md(name)
                self.drbdadm.up(name)
            except Exception:
                LOG.warning('Rolling back replica of volume %s on %s',
                            name, self.backend_id)
                self._undo_ensure(name, created_lv, created_file)
                raise
        LOG.info('Replica of volume %s is up on %s (minor %d, port %d)',
                 name, self.backend_id, node.minor, node.port)
        return self.status([name]).get(name)

    def _seed(self, resource):
        """Copy this host's seed LV into the new LV (before create-md)."""
        if self.vg.get_volume(resource.seed_lv) is None:
            raise exception.ResourceNotFound(name=resource.seed_lv,
                                             host=self.backend_id)
        if not names.is_resource_name(resource.seed_lv):
            # Thin snapshots carry LVM's activation skip flag.
            self.vg.activate_lv(resource.seed_lv, is_snapshot=True)
        self._execute(
            'dd', 'if=%s' % names.lv_path(self.volume_group,
                                          resource.seed_lv),
            'of=%s' % names.lv_path(self.volume_group, resource.name),
            'bs=1M', 'count=%d' % (resource.seed_bytes // MiB),
            'iflag=direct', 'oflag=direct', run_as_root=True,
            root_helper=self._root_helper)
        LOG.info('Seeded volume %s on %s from %s (%d bytes)', resource.name,
                 self.backend_id, resource.seed_lv, resource.seed_bytes)

    def _claim(self, resource, node):
        """Write the resource file unless a conflicting one exists.

        Returns True when this call created the file.
        """
        with self._files_lock:
            headers = self._specs_locked()
            for other, header in headers.items():
                if other == resource.name:
                    continue
                for peer in header.get('nodes', []):
                    if (peer.get('backend_id') == self.backend_id and
                            int(peer['minor']) == node.minor):
                        raise exception.ReplicaConflict(
                            name=resource.name, host=self.backend_id,
                            reason='minor %d is used by %s'
                                   % (node.minor, other))
                    if int(peer['port']) in {n.port for n in resource.nodes}:
                        raise exception.ReplicaConflict(
                            name=resource.name, host=self.backend_id,
                            reason='port %d is used by %s'
                                   % (int(peer['port']), other))
            existed = resource.name in headers
            self.resource_files.write(
                resource.name, drbd.render(resource, self.version))
            self._headers = None
            return not existed

    def _specs_locked(self):
        if self._headers is None:
            headers = {}
            for name, text in self.resource_files.read_all().items():
                try:
                    headers[name] = drbd.parse_header(text)
                except ValueError:
                    LOG.warning('Ignoring unreadable resource file of %s '
                                'on %s', name, self.backend_id)
            self._headers = headers
        return self._headers

    def _undo_ensure(self, name, created_lv, created_file):
        steps = []
        if created_file:
            steps.append(('down', lambda: self.drbdadm.down(name)))
            if created_lv:
                steps.append(('wipe DRBD meta data',
                              lambda: self.drbdadm.wipe_md(name)))
            steps.append(('remove resource file',
                          lambda: self.resource_files.remove(name)))
        if created_lv:
            steps.append(('remove LV', lambda: self.vg.delete(name)))
        for what, step in steps:
            try:
                step()
            except Exception as err:
                LOG.error('Rollback of volume %s on %s: %s failed: %s',
                          name, self.backend_id, what, err)
        self._forget_files()

    def remove_replica(self, name):
        """Take resource ``name`` down and remove its file and LV."""
        names.validate_resource_name(name)
        self._refuse_if_frozen('removing the replica of %s' % name)
        with self._lock(name):
            if self.has_resource(name):
                self.drbdadm.down(name)
                if self.vg.get_volume(name) is not None:
                    self._wipe_md(name)
                self.resource_files.remove(name)
                self._forget_files()
            if self.vg.get_volume(name) is not None:
                self.vg.delete(name)
        LOG.info('Removed replica of volume %s on %s', name, self.backend_id)

    def _wipe_md(self, name):
        """Erase DRBD's meta data before its LV goes or turns plain.

        A failure does not stop the removal; it is logged with the fix.
        """
        try:
            self.drbdadm.wipe_md(name)
        except exception.Ev3Error as err:
            LOG.error('DRBD meta data of volume %s on %s not wiped (%s): a '
                      'new LV on the same extents would be refused by LVM '
                      'until "wipefs -a" clears it', name, self.backend_id,
                      err)

    def release_replica(self, name, size_bytes=None):
        """Stop replicating ``name`` here but keep its LV and data.

        DRBD goes down and the resource file goes; the LV is a plain volume
        again.  With ``size_bytes`` (a migration), the LV is then cut to
        exactly that size: the data is its first ``size_bytes``, DRBD's
        metadata (of a two-node resource) the tail that goes.  An LV
        larger than that is refused: only metadata is ever cut off.
        """
        names.validate_resource_name(name)
        with self._lock(name):
            have = self._lv_bytes(name) if size_bytes else None
            if have is not None and have > drbd.lv_bytes_for(size_bytes, 1):
                raise exception.InvalidName(
                    what='size', value=size_bytes,
                    reason='the LV of volume %s on %s holds %d bytes: more '
                           'than that size and its DRBD metadata'
                           % (name, self.backend_id, have))
            if self.has_resource(name):
                self.drbdadm.down(name)
                self._wipe_md(name)
                self.resource_files.remove(name)
                self._forget_files()
            if have is not None and have > size_bytes:
                self._execute('env', 'LC_ALL=C', 'lvreduce', '-f', '-L',
                              '%dm' % (size_bytes // MiB),
                              '%s/%s' % (self.volume_group, name),
                              run_as_root=True, root_helper=self._root_helper)
        LOG.info('Volume %s on %s is a plain LV again', name,
                 self.backend_id)

    def grow_replica(self, name, size_bytes):
        """Grow the LV of ``name`` for a usable size and record it."""
        self._refuse_if_frozen('growing the replica of %s' % name)
        resource = self.resource(name)
        if size_bytes < resource.size_bytes:
            raise exception.InvalidName(
                what='size', value=size_bytes,
                reason='volume %s cannot shrink from %d bytes'
                       % (name, resource.size_bytes))
        grown = dataclasses.replace(resource, size_bytes=size_bytes)
        with self._lock(name):
            size_str, lv_bytes = self._lv_size_str(grown)
            if self._lv_bytes(name) < lv_bytes:
                self.vg.extend_volume(name, size_str)
            with self._files_lock:
                self.resource_files.write(name,
                                          drbd.render(grown, self.version))
                self._headers = None
        LOG.info('Grew replica of volume %s on %s to %d bytes',
                 name, self.backend_id, size_bytes)

    def set_protocol(self, name, protocol):
        """Rewrite the replication protocol of ``name`` and adjust DRBD.

        DRBD changes the protocol of a connected resource in place
        (``net-options``); the resource file is rewritten first so that a
        later ``up`` or reconnect uses the same protocol.  Idempotent: a
        retry rewrites nothing and adjusts again.
        """
        names.validate_resource_name(name)
        self._refuse_if_frozen('changing the protocol of %s' % name)
        protocol = drbd.Protocol(protocol)
        with self._lock(name):
            resource = self.resource(name)
            if resource.protocol != protocol:
                with self._files_lock:
                    self.resource_files.write(name, drbd.render(
                        dataclasses.replace(resource, protocol=protocol),
                        self.version))
                    self._headers = None
            self.drbdadm.adjust(name)
        LOG.info('Volume %s replicates with protocol %s on %s', name,
                 protocol.value, self.backend_id)
        return self.status([name]).get(name)

    def resize_device(self, name):
        """Let DRBD take the grown size (run on the Primary).

        DRBD moves its internal meta data to the new end of the LV but
        leaves the old superblock where it was, now inside the grown area
        of every replica; after a delete, LVM would refuse a thick LV of
        the old size on those extents ("drbd signature detected").  That
        4 KiB block (beyond the old size, so never data written before the
        extend) is zeroed through DRBD, on every replica at once.
        """
        resource = self.resource(name)
        before = self.device_size(name)
        self.drbdadm.resize(name)
        if resource.thin or self.device_size(name) <= before:
            return
        _size, old_lv_bytes = self._lv_size_str(
            dataclasses.replace(resource, size_bytes=before))
        self._execute('dd', 'if=/dev/zero', 'of=%s' % self.device_path(name),
                      'bs=4096', 'seek=%d' % (old_lv_bytes // 4096 - 1),
                      'count=1', 'oflag=direct', run_as_root=True,
                      root_helper=self._root_helper)
        LOG.info('Volume %s on %s: old DRBD superblock at byte %d zeroed '
                 'after the grow', name, self.backend_id, old_lv_bytes - 4096)

    def skip_initial_sync(self, name):
        """Mark both sides UpToDate without a sync (thin volumes only)."""
        resource = self.resource(name)
        if not resource.thin and resource.seed_lv is None:
            raise exception.RoleChangeRefused(
                name=name, role='UpToDate without sync', host=self.backend_id,
                reason='a thick LV holds old data; it must be synchronised')
        self.drbdadm.clear_bitmap(name)

    def promote(self, name, force=False):
        """Make ``name`` Primary here."""
        self.resource(name)
        self.drbdadm.primary(name, force=force)
        LOG.info('Volume %s is Primary on %s%s', name, self.backend_id,
                 ' (forced)' if force else '')
        return self.status([name]).get(name)

    def demote(self, name):
        """Make ``name`` Secondary here."""
        self.resource(name)
        self.drbdadm.secondary(name)
        LOG.info('Volume %s is Secondary on %s', name, self.backend_id)
        return self.status([name]).get(name)

    def status(self, names=None):
        """{name: status dict} for ``names`` (all when None), one call."""
        specs = self._specs()
        wanted = set(specs) if names is None else set(names)
        minor_to_name = {}
        for name in wanted:
            header = specs.get(name)
            if header is None:
                continue
            for node in header.get('nodes', []):
                if node.get('backend_id') == self.backend_id:
                    minor_to_name[int(node['minor'])] = name
        states = self.drbdadm.status_all(minor_to_name)
        return {name: state.to_dict() for name, state in states.items()
                if name in wanted}

    def device_size(self, name):
        """Size in bytes of the DRBD device of ``name`` here."""
        out, _err = self._execute('blockdev', '--getsize64',
                                  self.device_path(name), run_as_root=True,
                                  root_helper=self._root_helper)
        return int(out.strip())

    def clear_device(self, name, size_bytes):
        """Write zeros over the DRBD device (replicates to the peers)."""
        self._execute('dd', 'if=/dev/zero', 'of=%s' % self.device_path(name),
                      'bs=1M', 'count=%d' % (size_bytes // MiB),
                      'oflag=direct', run_as_root=True,
                      root_helper=self._root_helper)

    # -- snapshots

    def snapshot_replica(self, name, snapshot):
        """Take LV snapshot ``snapshot`` of this host's replica of ``name``."""
        names.validate_resource_name(name)
        names.validate_snapshot_name(snapshot)
        self._refuse_if_frozen('snapshotting %s' % name)
        self.resource(name)
        with self._lock(name):
            if self.vg.get_volume(snapshot) is None:
                # A managed thick LV on a thin backend needs a sized
                # (copy-on-write) snapshot: the kind follows the origin.
                kind = 'thin' if self._is_thin_lv(name) else 'default'
                self.vg.create_lv_snapshot(snapshot, name, kind)
                LOG.info('Snapshot %s of volume %s taken on %s', snapshot,
                         name, self.backend_id)
            elif self.vg.lv_get_origin(snapshot) != name:
                raise exception.ReplicaConflict(
                    name=snapshot, host=self.backend_id,
                    reason='an LV of that name exists and is not a snapshot '
                           'of %s' % name)

    def snapshot_info(self, snapshot):
        """Whether LV snapshot ``snapshot`` exists here, and its origin."""
        names.validate_snapshot_name(snapshot)
        if self.vg.get_volume(snapshot) is None:
            return {'snapshot': snapshot, 'exists': False, 'origin': None}
        return {'snapshot': snapshot, 'exists': True,
                'origin': self.vg.lv_get_origin(snapshot)}

    def remove_snapshot(self, snapshot):
        """Remove LV snapshot ``snapshot`` here; quiet if already gone."""
        names.validate_snapshot_name(snapshot)
        self._refuse_if_frozen('removing snapshot %s' % snapshot)
        if self.vg.get_volume(snapshot) is not None:
            self.vg.delete(snapshot)
            LOG.info('Snapshot %s removed on %s', snapshot, self.backend_id)

    def restore_from(self, name, snapshot, size_bytes):
        """Write snapshot ``snapshot`` over the DRBD device of ``name``.

        Runs on the Primary: the writes go through DRBD, so every connected
        replica receives them at once and a disconnected one resyncs them.
        """
        names.validate_snapshot_name(snapshot)
        self._refuse_if_frozen('reverting %s' % name)
        if self.vg.get_volume(snapshot) is None:
            raise exception.ResourceNotFound(name=snapshot,
                                             host=self.backend_id)
        self.vg.activate_lv(snapshot, is_snapshot=True)
        self._execute(
            'dd', 'if=%s' % names.lv_path(self.volume_group, snapshot),
            'of=%s' % self.device_path(name), 'bs=1M',
            'count=%d' % (size_bytes // MiB), 'iflag=direct', 'oflag=direct',
            run_as_root=True, root_helper=self._root_helper)
        LOG.info('Volume %s reverted to snapshot %s on %s (through DRBD)',
                 name, snapshot, self.backend_id)

    def suspend_io(self, name):
        """Freeze I/O on this host's device of ``name`` (the Primary)."""
        self.drbdadm.suspend_io(name)

    def resume_io(self, name):
        """Let I/O on this host's device of ``name`` flow again."""
        self.drbdadm.resume_io(name)

    def bring_up_all(self):
        """Start every configured resource that is not up, as Secondary.

        After a reboot nothing is up; bringing the replicas up lets them
        reconnect and resynchronise from whichever host is Primary.  Never
        promotes.  Returns {name: error} of those that would not start.
        """
        errors = {}
        for name, state in sorted(self.status().items()):
            if state['role'] != 'Unknown':
                continue
            try:
                self.drbdadm.up(name)
                LOG.info('Brought up the replica of volume %s on %s as '
                         'Secondary', name, self.backend_id)
            except exception.Ev3Error as err:
                errors[name] = str(err)
                LOG.error('Replica of volume %s on %s did not come up: %s',
                          name, self.backend_id, err)
        return errors

    # -- failover verbs (batched: one call per host and action) -------------

    def failover_view(self, names=None):
        """{name: role, disk, exported, links by peer backend_id}."""
        specs = self._specs()
        exported = self.exports.exported_names() if self.exports else set()
        view = {}
        for name, state in self.status(names).items():
            others = [n for n in specs[name].get('nodes', [])
                      if n.get('backend_id') != self.backend_id]
            by_node = {n['node_name']: n['backend_id'] for n in others}
            links = {}
            for peer in state.get('peers', []):
                backend_id = by_node.get(peer.get('node_name'))
                if backend_id is None and len(others) == 1:
                    # /proc/drbd (DRBD 8.4) does not name its single peer.
                    backend_id = others[0]['backend_id']
                if backend_id is not None:
                    links[backend_id] = {'connection': peer['connection'],
                                         'role': peer['role'],
                                         'disk': peer['disk']}
            view[name] = {'role': state['role'], 'disk': state['disk'],
                          'exported': name in exported, 'links': links}
        return view

    def _role_change(self, resource_names, wanted, change):
        resource_names = sorted(set(resource_names))
        for name in resource_names:
            names.validate_resource_name(name)
            self.resource(name)
        error = None
        if resource_names:
            try:
                change(resource_names)
            except exception.DrbdCommandError as err:
                error = str(err)
        after = self.status(resource_names)
        results = {}
        for name in resource_names:
            role = (after.get(name) or {}).get('role', 'Unknown')
            ok = role == wanted
            results[name] = {'ok': ok, 'role': role,
                             'error': None if ok else (error or 'role is %s'
                                                       % role)}
            if ok:
                LOG.info('Volume %s is %s on %s', name, wanted,
                         self.backend_id)
            else:
                LOG.error('Volume %s could not be made %s on %s: %s', name,
                          wanted, self.backend_id, results[name]['error'])
        return results

    def demote_many(self, names):
        """Make resources Secondary here in one DRBD call; per-name result."""
        return self._role_change(names, 'Secondary',
                                 self.drbdadm.secondary_many)

    def promote_many(self, names, force=False):
        """Make resources Primary here in one DRBD call; per-name result."""
        return self._role_change(
            names, 'Primary',
            lambda batch: self.drbdadm.primary_many(batch, force=force))

    def unexport_many(self, names):
        """Remove the iSCSI export of resources here; per-name result."""
        results = {}
        exported = self.exports.exported_names() if self.exports else set()
        for name in sorted(set(names)):
            names_ok = True
            try:
                if name in exported:
                    self.exports.remove(name)
                    LOG.info('Removed the export of volume %s on %s', name,
                             self.backend_id)
            except Exception as err:
                names_ok = False
                results[name] = {'ok': False, 'error': str(err)}
            if names_ok:
                results[name] = {'ok': True, 'error': None}
        return results
