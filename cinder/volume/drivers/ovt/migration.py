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
"""Driver-assisted migration of a plain volume to another ev3 backend.

The volume's LV here and a new LV on the destination become a temporary
two-node DRBD resource: this host is forced Primary and DRBD copies the
data over the replication network.  Once the destination is UpToDate both
sides leave DRBD; the destination's LV is cut to exactly the volume's size
(DRBD's metadata was its tail) and is the volume from then on.  When any
step fails, the destination's LV is removed and this host's LV is a plain
LV of exactly its size again.

The destination is named by its pool's ``location_info``
(``ev3:<backend_id>:<volume_group>:<lvm_type>:<ip>:<port>``) and reached
over its peer API with this backend's ``replication_internal_secret``.
"""

import dataclasses
import time

from oslo_log import log as logging

from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import validate

LOG = logging.getLogger(__name__)
PREFIX = 'ev3'


@dataclasses.dataclass(frozen=True)
class Location(object):
    """Where an ev3 backend keeps its volumes and serves its peer API."""

    backend_id: str
    volume_group: str
    lvm_type: str
    ip: str
    port: int

    def render(self):
        """The ``location_info`` text of the backend's pool."""
        return '%s:%s:%s:%s:%s:%d' % (PREFIX, self.backend_id,
                                      self.volume_group, self.lvm_type,
                                      self.ip, self.port)

    @classmethod
    def parse(cls, text):
        """The Location in ``text``, or None when it is not an ev3 one."""
        if not isinstance(text, str) or not text.startswith(PREFIX + ':'):
            return None
        parts = text.split(':')
        if len(parts) < 6:
            return None
        try:
            return cls(backend_id=validate.backend_id(parts[1]),
                       volume_group=validate.volume_group(parts[2]),
                       lvm_type=parts[3],
                       ip=validate.ip_address(':'.join(parts[4:-1])),
                       port=validate.port(int(parts[-1])))
        except (ValueError, exception.InvalidName):
            LOG.warning('Ignoring malformed ev3 location %r', text)
            return None


class Migrator(object):
    """Moves plain volumes from this host to another ev3 backend."""

    def __init__(self, settings, local, allocation_lock, client_for,
                 clock=time.monotonic, sleep=time.sleep, poll_interval=0.5):
        self.settings = settings
        self.local = local
        self._lock = allocation_lock
        self._client_for = client_for
        self._clock = clock
        self._sleep = sleep
        self._poll = poll_interval
        # Names of the volumes being moved right now (no replicated
        # volumes, although DRBD resources for the copy).
        self.moving = set()

    def move(self, name, size_bytes, target):
        """Copy LV ``name`` to ``target`` over DRBD; leave it plain there.

        Returns False, having changed nothing, when the destination does
        not answer, refuses our secret or cannot take the volume (Cinder's
        generic migration may still reach it).  On success (True) this
        host's LV is out of DRBD and still holds the data (the caller
        removes it); on a failure part-way nothing is left on the
        destination and this host's LV is as it was.
        """
        peer = self._client_for(target)
        try:
            facts = peer.describe()
        except exception.PeerError as err:
            LOG.warning('Volume %s cannot move to %s over DRBD: %s',
                        name, target.backend_id, err)
            return False
        problem = self._problem(size_bytes, target, facts)
        if problem:
            LOG.warning('Volume %s cannot move to %s over DRBD: %s', name,
                        target.backend_id, problem)
            return False
        done = []
        self.moving.add(name)
        try:
            with self._lock:
                spec = self._spec(name, size_bytes, target, peer, facts)
                done.append(self.local)
                self.local.ensure_replica(name, spec, adopt=True)
                done.append(peer)
                peer.ensure_replica(name, spec)
            self.local.promote(name, force=True)
            self._wait_synced(name, target)
            self.local.demote(name)
            peer.release_replica(name, size_bytes)
            self.local.release_replica(name)
        except Exception as err:
            LOG.error('Migration of volume %s to %s failed (%s); removing '
                      'its copy there, keeping it here', name,
                      target.backend_id, err)
            if peer in done and not self._quietly(peer.remove_replica, name):
                LOG.error('The copy of volume %s on %s is left there: remove '
                          'its resource file /etc/drbd.d/%s.res (drbdadm '
                          'down %s) and its LV %s/%s by hand', name,
                          target.backend_id, name, name,
                          target.volume_group, name)
            if self.local in done:
                self._quietly(self.local.release_replica, name, size_bytes)
            if isinstance(err, exception.Ev3Error) and not isinstance(
                    err, exception.DrbdCommandError):
                raise
            raise exception.Ev3Error(
                reason='migration of volume %s to %s failed: %s; the volume '
                       'stays on %s' % (name, target.backend_id, err,
                                        self.settings.backend_id)) from err
        finally:
            self.moving.discard(name)
        LOG.info('Volume %s was copied to %s over DRBD (%d bytes)', name,
                 target.backend_id, size_bytes)
        return True

    def _problem(self, size_bytes, target, facts):
        problem = None
        if facts['backend_id'] != target.backend_id:
            problem = 'its peer API at %s:%d answers as %s' % (
                target.ip, target.port, facts['backend_id'])
        elif facts['volume_group'] != target.volume_group:
            problem = 'it keeps volumes in %s, not %s' % (
                facts['volume_group'], target.volume_group)
        elif facts['frozen']:
            problem = 'it is frozen'
        elif target.lvm_type != 'thin' and facts['free_bytes'] < (
                drbd.lv_bytes_for(size_bytes, 1)):
            problem = 'it has %d bytes free, %d needed' % (
                facts['free_bytes'], drbd.lv_bytes_for(size_bytes, 1))
        return problem

    def _spec(self, name, size_bytes, target, peer, facts):
        minors, ports = set(), set()
        for host in (self.local, peer):
            used = host.used_ids()
            minors.update(used['minors'])
            ports.update(used['ports'])
        ports.update((self.settings.backend_port, target.port))
        minor = next(m for m in range(validate.MAX_MINOR + 1)
                     if m not in minors)
        port = next((p for p in range(self.settings.starting_port, 65536)
                     if p not in ports), None)
        if port is None:
            raise exception.Ev3Error(
                reason='no free DRBD port to move volume %s' % name)
        nodes = [{'backend_id': self.settings.backend_id,
                  'node_name': self.local.node_name, 'node_id': 0,
                  'address': self.settings.backend_ip, 'port': port,
                  'minor': minor,
                  'volume_group': self.settings.volume_group},
                 {'backend_id': target.backend_id,
                  'node_name': facts['node_name'], 'node_id': 1,
                  'address': target.ip, 'port': port, 'minor': minor,
                  'volume_group': target.volume_group}]
        return {'size_bytes': int(size_bytes),
                'thin': target.lvm_type == 'thin', 'protocol': 'C',
                'resync_rate_mib': self.settings.resync_rate_mib,
                'nodes': nodes}

    def _wait_synced(self, name, target):
        """Until the destination is UpToDate; fails if the link stays down."""
        lost_since = None
        while True:
            status = self.local.status([name]).get(name) or {}
            peers = status.get('peers') or [{}]
            link = peers[0]
            if (link.get('connection') == 'Connected' and
                    link.get('disk') == 'UpToDate' and
                    link.get('replication') == 'Established'):
                return
            now = self._clock()
            if link.get('connection') == 'Connected':
                lost_since = None
            elif lost_since is None:
                lost_since = now
            elif now - lost_since >= self.settings.connect_timeout:
                raise exception.Ev3Error(
                    reason='migration of volume %s to %s: no DRBD connection '
                           'for %d s (ev3_connect_timeout): %s' % (
                               name, target.backend_id,
                               self.settings.connect_timeout,
                               link.get('connection', 'not up')))
            self._sleep(self._poll)

    def _quietly(self, step, *args):
        try:
            step(*args)
        except Exception as err:
            LOG.error('Migration rollback step %s%r failed: %s',
                      step.__name__, args, err)
            return False
        return True
