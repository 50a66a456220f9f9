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
"""Multi-host steps: every replica in step, or rolled back everywhere.

``Replicator`` drives this host's :class:`~.agent.HostAgent` and the peers'
:class:`~.peer_api.PeerClient` through the same verbs.  Each public method
is one multi-host step; when a host fails part-way, what the step created
is removed again on every host it reached, and whatever cannot be removed
is remembered and retried (never silently left behind).
"""

import threading
import time

from oslo_log import log as logging
from oslo_utils import excutils

from cinder.volume.drivers.ovt import exception

LOG = logging.getLogger(__name__)
MAX_MINOR = 1048575
ALLOCATION_ATTEMPTS = 5


class Replicator(object):
    """Create, grow and remove replicated resources on all hosts."""

    def __init__(self, settings, local, peers, state, clock=time.monotonic,
                 sleep=time.sleep, poll_interval=0.2):
        self.settings = settings
        self.local = local
        self.peers = peers
        self.state = state
        self._clock = clock
        self._sleep = sleep
        self._poll = poll_interval
        self._allocation_lock = threading.Lock()
        self._facts = {}

    @property
    def allocation_lock(self):
        """Held while minors and ports are chosen and claimed here."""
        return self._allocation_lock

    # -- hosts ---------------------------------------------------------------

    def hosts(self):
        """This host first, then the peers in configuration order."""
        return [self.local] + [self.peers[p.backend_id]
                               for p in self.settings.peers]

    def _address(self, host):
        if host is self.local:
            return self.settings.backend_ip
        return self.settings.peer(host.backend_id).ip

    def facts(self, host, refresh=False):
        """``describe()`` of a host, cached until ``refresh``."""
        if refresh or host.backend_id not in self._facts:
            self._facts[host.backend_id] = host.describe()
        return self._facts[host.backend_id]

    def refresh(self):
        """Ask every host for its facts; {backend_id: facts or error}."""
        result = {}
        for host in self.hosts():
            try:
                result[host.backend_id] = self.facts(host, refresh=True)
            except exception.PeerError as err:
                self._facts.pop(host.backend_id, None)
                result[host.backend_id] = err
        return result

    # -- create --------------------------------------------------------------

    def _allocate(self):
        """The lowest minor and port free on every host."""
        minors, ports = set(), set()
        for host in self.hosts():
            used = host.used_ids()
            minors.update(used['minors'])
            ports.update(used['ports'])
        ports.add(self.settings.backend_port)
        ports.update(p.port for p in self.settings.peers)
        minor = next(m for m in range(MAX_MINOR + 1) if m not in minors)
        port = next((p for p in range(self.settings.starting_port, 65536)
                     if p not in ports), None)
        if port is None:
            raise exception.Ev3Error(
                reason='no free DRBD port from replication_starting_port %d'
                       % self.settings.starting_port)
        return minor, port

    def build_spec(self, size_bytes, thin, protocol, resync_rate_mib, minor,
                   port, seed=None):
        """The replica spec of a new resource on every host."""
        nodes = []
        for node_id, host in enumerate(self.hosts()):
            facts = self.facts(host)
            nodes.append({'backend_id': host.backend_id,
                          'node_name': facts['node_name'],
                          'node_id': node_id,
                          'address': self._address(host),
                          'port': port,
                          'minor': minor,
                          'volume_group': facts['volume_group']})
        spec = {'size_bytes': int(size_bytes), 'thin': bool(thin),
                'protocol': protocol, 'resync_rate_mib': int(resync_rate_mib),
                'nodes': nodes}
        if seed is not None:
            spec['seed'] = {'lv': seed[0], 'bytes': int(seed[1])}
        return spec

    def create(self, name, size_bytes, thin, protocol=None,
               resync_rate_mib=None, seed=None):
        """Create resource ``name`` on every host and make it Primary here.

        Thin replicas read zeros and seeded replicas (``seed`` = (LV name,
        bytes), copied on every host from its own LV) hold the same data,
        so their initial sync is skipped; other thick replicas hold old
        data, so this host becomes the sync source and DRBD copies
        everything at the configured rate.
        """
        protocol = protocol or self.settings.protocol
        rate = resync_rate_mib or self.settings.resync_rate_mib
        done = []
        try:
            with self._allocation_lock:
                # A new create of this name cancels removals still due
                # from an earlier failed attempt.
                for host in self.hosts():
                    self.state.drop_pending_removal(host.backend_id, name)
                for host in self.hosts():
                    self.facts(host, refresh=True)
                spec = self._place(name, size_bytes, thin, protocol, rate,
                                   done, seed)
            self._wait_connected(name)
            if thin or seed is not None:
                self.local.skip_initial_sync(name)
                self.local.promote(name)
            else:
                self.local.promote(name, force=True)
        except Exception as err:
            with excutils.save_and_reraise_exception():
                LOG.error('Creating volume %s failed (%s); removing its '
                          'replicas from %s', name, err,
                          ', '.join(h.backend_id for h in done) or 'no host')
                self._rollback(name, done)
        LOG.info('Volume %s is replicated on %s (minor %d, port %d, '
                 'protocol %s)', name,
                 ', '.join(h.backend_id for h in done),
                 spec['nodes'][0]['minor'], spec['nodes'][0]['port'],
                 protocol)
        return spec

    def _place(self, name, size_bytes, thin, protocol, rate, done,
               seed=None):
        last = None
        for _attempt in range(ALLOCATION_ATTEMPTS):
            minor, port = self._allocate()
            spec = self.build_spec(size_bytes, thin, protocol, rate, minor,
                                   port, seed)
            try:
                for host in self.hosts():
                    try:
                        host.ensure_replica(name, spec)
                    except exception.PeerAuthError:
                        raise
                    except exception.PeerError:
                        # No answer (timeout, lost connection): the peer
                        # may still create the replica later, so it is
                        # removed there now and once more at the next
                        # stats refresh.
                        done.append(host)
                        self.state.add_pending_removal(host.backend_id, name)
                        raise
                    done.append(host)
                return spec
            except exception.ReplicaConflict as err:
                LOG.warning('Minor %d / port %d for volume %s collided: %s; '
                            'choosing again', minor, port, name, err)
                last = err
                self._rollback(name, done)
                del done[:]
        raise last

    def wait_connected(self, name, timeout_s):
        """Wait up to ``timeout_s`` for every peer link of ``name``.

        Returns this host's status of ``name``; raises ``Ev3Error`` naming
        the links that did not connect.
        """
        return self._wait_connected(name, timeout_s)

    def _wait_connected(self, name, timeout_s=None):
        if timeout_s is None:
            timeout_s = self.settings.connect_timeout
        deadline = self._clock() + timeout_s
        while True:
            status = self.local.status([name]).get(name) or {}
            peers = status.get('peers', [])
            if len(peers) == len(self.peers) and all(
                    p['connection'] == 'Connected' for p in peers):
                return status
            if self._clock() >= deadline:
                raise exception.Ev3Error(
                    reason='replicas of volume %s did not connect within %d '
                           's (ev3_connect_timeout): %s'
                           % (name, timeout_s, _describe_peers(peers)))
            self._sleep(self._poll)

    def _rollback(self, name, hosts):
        for host in reversed(hosts):
            try:
                host.remove_replica(name)
            except Exception as err:
                LOG.error('Could not remove the replica of volume %s on %s '
                          'during rollback: %s; it will be retried',
                          name, host.backend_id, err)
                self.state.add_pending_removal(host.backend_id, name)

    # -- retype: replication on and off

    def add_replication(self, name, size_bytes, thin, protocol=None):
        """Make the plain volume ``name`` here a replicated one.

        Its LV grows by DRBD's metadata and keeps its data; new replicas
        on the peers are filled by a full sync from this host.
        """
        done = []
        try:
            with self._allocation_lock:
                for host in self.hosts():
                    self.facts(host, refresh=True)
                minor, port = self._allocate()
                spec = self.build_spec(
                    size_bytes, thin, protocol or self.settings.protocol,
                    self.settings.resync_rate_mib, minor, port)
                self.local.ensure_replica(name, spec, adopt=True)
                done.append(self.local)
                for peer in self.hosts()[1:]:
                    try:
                        peer.ensure_replica(name, spec)
                    except exception.PeerError:
                        done.append(peer)
                        raise
                    done.append(peer)
            self._wait_connected(name)
            self.local.promote(name, force=True)
        except Exception as err:
            with excutils.save_and_reraise_exception():
                LOG.error('Turning replication on for volume %s failed (%s); '
                          'it stays a plain volume', name, err)
                for host in reversed(done):
                    if host is self.local:
                        self._quietly(self.local.release_replica, name)
                    else:
                        self._rollback(name, [host])
        LOG.info('Volume %s is now replicated to %s; the peers receive a '
                 'full sync', name,
                 ', '.join(h.backend_id for h in self.hosts()[1:]))

    def drop_replication(self, name):
        """Make replicated ``name`` a plain volume here; peers drop theirs."""
        self.local.release_replica(name)
        for peer in self.hosts()[1:]:
            self._remove_on_peer(peer, name)
        LOG.info('Volume %s is no longer replicated', name)

    # -- retype: replication mode

    def set_protocol(self, name, protocol):
        """Change the DRBD protocol of ``name`` in place on every host.

        Refused, with nothing changed, unless every peer replica is
        connected (a replica away would come back with the old protocol
        and DRBD would refuse the connection).  When a host fails
        part-way, every host is set back to the old protocol.
        """
        old = self.local.resource(name).protocol.value
        if old == protocol:
            return
        status = self.local.status([name]).get(name) or {}
        peers = status.get('peers', [])
        if len(peers) < len(self.peers) or any(
                p.get('connection') != 'Connected' for p in peers):
            raise exception.Ev3Error(
                reason='replication mode of volume %s cannot change from '
                       'protocol %s to %s while a replica is not connected '
                       '(%s); nothing was changed' % (
                           name, old, protocol, _describe_peers(peers)))
        for host in self.hosts():
            if self.facts(host, refresh=True)['frozen']:
                raise exception.HostFrozen(
                    host=host.backend_id,
                    action='changing the replication mode of volume %s'
                           % name)
        done = []
        try:
            for host in self.hosts():
                done.append(host)
                host.set_protocol(name, protocol)
        except Exception as err:
            LOG.error('Changing the protocol of volume %s to %s failed on %s '
                      '(%s); setting protocol %s again on %s', name,
                      protocol, done[-1].backend_id, err, old,
                      ', '.join(h.backend_id for h in done))
            stuck = [h.backend_id for h in reversed(done)
                     if not self._quietly(h.set_protocol, name, old)]
            raise exception.Ev3Error(
                reason='replication mode of volume %s could not change to '
                       'protocol %s: %s failed (%s); %s' % (
                           name, protocol, done[-1].backend_id, err,
                           'protocol %s could not be restored on %s, retry '
                           'the retype' % (old, ', '.join(stuck)) if stuck
                           else 'every host is back on protocol %s' % old))
        LOG.info('Volume %s replicates with protocol %s (was %s) on %s',
                 name, protocol, old,
                 ', '.join(h.backend_id for h in done))

    def _quietly(self, step, *args):
        """Run a rollback step; log a failure.  True when it worked."""
        try:
            step(*args)
        except Exception as err:
            LOG.error('Rollback step %s%r failed: %s', step.__name__, args,
                      err)
            return False
        return True

    # -- delete --------------------------------------------------------------

    def delete(self, name, clear_bytes=0):
        """Remove ``name`` here, then on every peer (later if one is down).

        ``clear_bytes`` > 0 zeroes the device first, through DRBD on the
        Primary so that every replica is cleared.
        """
        if self.local.has_resource(name):
            if clear_bytes:
                self._clear(name, clear_bytes)
            self.local.remove_replica(name)
        else:
            self.local.remove_replica(name)
        for peer in self.hosts()[1:]:
            self._remove_on_peer(peer, name)

    def _clear(self, name, clear_bytes):
        status = self.local.status([name]).get(name) or {}
        if status.get('role') == 'Primary':
            self.local.clear_device(name, clear_bytes)
        else:
            LOG.warning('Volume %s is not Primary on %s; its data is not '
                        'cleared before removal', name, self.local.backend_id)

    def _remove_on_peer(self, peer, name):
        try:
            peer.remove_replica(name)
        except (exception.PeerError, exception.HostFrozen) as err:
            LOG.warning('Replica of volume %s on %s not removed (%s); '
                        'removal will be retried when %s answers', name,
                        peer.backend_id, err, peer.backend_id)
            self.state.add_pending_removal(peer.backend_id, name)
        else:
            self.state.drop_pending_removal(peer.backend_id, name)

    def retry_pending_removals(self):
        """Retry removals left for hosts that were down; returns the rest."""
        with self._allocation_lock:
            return self._retry_pending_removals()

    def _retry_pending_removals(self):
        hosts = {h.backend_id: h for h in self.hosts()}
        for backend_id, items in self.state.pending_removals().items():
            host = hosts.get(backend_id)
            if host is None:
                continue
            for name in items:
                try:
                    if name.startswith('_snapshot-'):
                        host.remove_snapshot(name)
                    else:
                        host.remove_replica(name)
                except (exception.PeerError, exception.HostFrozen):
                    break
                except Exception as err:
                    LOG.warning('Retried removal of volume %s on %s failed: '
                                '%s', name, backend_id, err)
                    continue
                LOG.info('Removed the left-over replica of volume %s on %s',
                         name, backend_id)
                self.state.drop_pending_removal(backend_id, name)
        return self.state.pending_removals()

    # -- snapshots -----------------------------------------------------------

    def snapshot(self, name, snapshot):
        """One snapshot per replica, all at the same point in time.

        I/O on the Primary (this host) is suspended while every host
        snapshots its LV: with every peer Connected and UpToDate, all
        acknowledged writes are then on every disk (protocol C; under A or
        B the last writes may still be in flight, which is logged).  Any
        replica not in sync refuses the snapshot rather than leave a copy
        that would not survive a failover.
        """
        status = self.local.status([name]).get(name) or {}
        if status.get('role') != 'Primary':
            raise exception.Ev3Error(
                reason='snapshot %s of volume %s must be taken where it is '
                       'Primary; it is %s on %s' % (
                           snapshot, name, status.get('role', 'not up'),
                           self.local.backend_id))
        behind = [p for p in status.get('peers', [])
                  if p.get('connection') != 'Connected' or
                  p.get('disk') != 'UpToDate']
        if (len(status.get('peers', [])) < len(self.peers) or behind or
                status.get('disk') != 'UpToDate'):
            raise exception.Ev3Error(
                reason='snapshot %s of volume %s refused: not every replica '
                       'is connected and UpToDate (%s); a one-sided snapshot '
                       'would not survive a failover' % (
                           snapshot, name, _describe_peers(
                               status.get('peers', []))))
        if self.local.resource(name).protocol.value != 'C':
            LOG.warning('Snapshot %s of volume %s under protocol %s: the '
                        'peers\' copies may miss the last writes in flight',
                        snapshot, name,
                        self.local.resource(name).protocol.value)
        done = []
        self.local.suspend_io(name)
        try:
            for host in self.hosts():
                host.snapshot_replica(name, snapshot)
                done.append(host)
        except Exception as err:
            with excutils.save_and_reraise_exception():
                LOG.error('Snapshot %s of volume %s failed (%s); removing '
                          'it from %s', snapshot, name, err,
                          ', '.join(h.backend_id for h in done) or 'no host')
                for host in reversed(done):
                    self._remove_snapshot_on(host, snapshot)
        finally:
            self.local.resume_io(name)
        LOG.info('Snapshot %s of volume %s taken on %s', snapshot, name,
                 ', '.join(h.backend_id for h in done))

    def revert(self, name, snapshot, size_bytes):
        """Write ``snapshot`` over ``name`` through DRBD on this host.

        Every host that answers must hold the snapshot of this volume;
        otherwise the revert is refused before anything is written (a
        revert that one replica could not repeat after a failover is no
        revert).  A host that does not answer resynchronises the result
        when it returns.
        """
        missing = []
        for host in self.hosts():
            try:
                info = host.snapshot_info(snapshot)
            except exception.PeerError as err:
                LOG.warning('Cannot check snapshot %s of volume %s on %s '
                            '(%s); it will resynchronise the revert',
                            snapshot, name, host.backend_id, err)
                continue
            if not info['exists']:
                missing.append('%s (missing)' % host.backend_id)
            elif info['origin'] != name:
                missing.append('%s (a snapshot of %s)'
                               % (host.backend_id, info['origin']))
        if missing:
            raise exception.Ev3Error(
                reason='revert of volume %s to snapshot %s refused: the '
                       'snapshot is not on %s; nothing was changed'
                       % (name, snapshot, ', '.join(missing)))
        self.local.restore_from(name, snapshot, size_bytes)

    def delete_snapshot(self, snapshot):
        """Remove the snapshot everywhere (later where a host is down)."""
        self.local.remove_snapshot(snapshot)
        for peer in self.hosts()[1:]:
            self._remove_snapshot_on(peer, snapshot)

    def _remove_snapshot_on(self, host, snapshot):
        try:
            host.remove_snapshot(snapshot)
        except (exception.PeerError, exception.HostFrozen) as err:
            LOG.warning('Snapshot %s on %s not removed (%s); removal will be '
                        'retried', snapshot, host.backend_id, err)
            self.state.add_pending_removal(host.backend_id, snapshot)

    # -- extend --------------------------------------------------------------

    def extend(self, name, new_size_bytes):
        """Grow every replica's LV, then the DRBD device here."""
        resource = self.local.resource(name)
        grow = new_size_bytes - resource.size_bytes
        if grow < 0:
            raise exception.Ev3Error(reason='volume %s cannot shrink' % name)
        for host in self.hosts():
            facts = self.facts(host, refresh=True)
            if facts['free_bytes'] < grow and not resource.thin:
                raise exception.Ev3Error(
                    reason='cannot extend volume %s: %s has %d bytes free, '
                           '%d needed' % (name, host.backend_id,
                                          facts['free_bytes'], grow))
        grown = []
        try:
            for host in self.hosts():
                host.grow_replica(name, new_size_bytes)
                grown.append(host.backend_id)
        except Exception as err:
            with excutils.save_and_reraise_exception():
                LOG.error('Extending volume %s failed (%s); its size stays '
                          '%d bytes (LVs already grown on: %s; retrying the '
                          'extend continues from there)', name, err,
                          resource.size_bytes, ', '.join(grown) or 'none')
        # DRBD grows only with every peer connected; it would quietly keep
        # the old size otherwise.
        self._wait_connected(name)
        self.local.resize_device(name)
        size = self.local.device_size(name)
        if size < new_size_bytes:
            raise exception.Ev3Error(
                reason='DRBD kept volume %s at %d bytes after resize (%d '
                       'asked); its LVs are grown on %s, retry the extend'
                       % (name, size, new_size_bytes, ', '.join(grown)))
        LOG.info('Volume %s grew to %d bytes on %s', name, new_size_bytes,
                 ', '.join(grown))


def _describe_peers(peers):
    if not peers:
        return 'no peer connection'
    return ', '.join('%s %s/%s' % (p.get('node_name'), p.get('connection'),
                                   p.get('disk')) for p in peers)
