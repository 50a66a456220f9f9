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
"""Failover, freeze, thaw and replication health of the ev3 driver.

A mixin of :class:`~.ev3.ReplicatedVolumeDriver`: the Cinder calls of the
operator runbook, each handing the decisions to the pure planner
(:mod:`.failover`) through :mod:`.roles`, the primary host resuming its
role on an export after a restart without a failover, and the health
report that tells Cinder which volumes resynchronise or need the
operator.
"""

import time

from oslo_log import log as logging

from cinder import exception as cinder_exception
from cinder import objects
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import failover
from cinder.volume.drivers.ovt import health as health_mod

LOG = logging.getLogger(__name__)


class HighAvailability(object):
    """failover_host, freeze/thaw and replication health (a mixin)."""

    # -- replication health

    def _report_health(self, data, pool):
        """Put replication health in the stats; ask Cinder to fetch it."""
        health = {}
        # A plain volume moving to another backend is briefly a DRBD
        # resource: it is no replicated volume to report on.
        moving = self.migrator.moving if self.migrator else ()
        for name, status in self.agent.status().items():
            if name in moving:
                continue
            health[name] = health_mod.replica_health(
                status, len(self.settings.peers))
        self._health = health
        resyncing = {name: pct for name, (state, _why, pct)
                     in health.items() if state == 'enabling'}
        degraded = sorted(name for name, (state, _why, _pct)
                          in health.items() if state == 'error')
        pool['ev3_resyncing'] = resyncing
        pool['ev3_degraded_volumes'] = len(degraded)
        for name, percent in sorted(resyncing.items()):
            LOG.info('Volume %s on %s: resynchronising, %.1f%% in sync',
                     name, self.settings.backend_id, percent)
        for name in degraded:
            LOG.error('Volume %s on %s needs the operator: %s', name,
                      self.settings.backend_id, health[name][1])
        if resyncing or degraded or self._health_reported:
            # Cinder asks get_replication_error_status() only when the
            # stats say 'error'; it is how volumes learn their state.
            data['replication_status'] = 'error'

    def get_replication_error_status(self, context, groups):
        """Per-volume replication state: enabled, enabling (resync), error."""
        updates = []
        health = getattr(self, '_health', {}) or {}
        reported = {}
        for volume in objects.VolumeList.get_all_by_host(context, self.host):
            name = volume.name
            if name not in health:
                continue
            state = health[name][0]
            reported[name] = state
            if volume.replication_status != state:
                updates.append({'volume_id': volume.id,
                                'replication_status': state})
        self._health_reported = any(s != 'enabled'
                                    for s in reported.values())
        return [], updates

    # -- replication: freeze, thaw, failover

    def freeze_backend(self, context):
        """Refuse lifecycle changes here and from peers; data stays served."""
        if not self.replicated_backend:
            return True
        self._state.set_frozen(True)
        self._frozen = True
        LOG.warning('Backend %s is frozen: creating, deleting and extending '
                    'volumes is refused here and for peers until '
                    '"cinder thaw-host %s"', self.settings.backend_id,
                    self.host)
        return True

    def thaw_backend(self, context):
        """Allow lifecycle changes again."""
        if not self.replicated_backend:
            return True
        if not self._frozen:
            LOG.info('Backend %s was not frozen; nothing to thaw',
                     self.settings.backend_id)
        self._state.set_frozen(False)
        self._frozen = False
        LOG.info('Backend %s is thawed', self.settings.backend_id)
        return True

    def _is_primary_role(self):
        return self._active_backend_id in (None, '', 'default')

    def _resume_home_role(self, volume, name, status):
        """Promote a volume found Secondary on the primary host; or say why.

        DRBD roles do not survive a reboot: when the primary host restarts
        without a failover, every replica comes back Secondary and nothing
        is promoted at start-up.  When Cinder then asks this host (the
        volume's host in Cinder, not a standby) for an export, the volume
        is promoted here if this disk is UpToDate and every peer is
        Connected and Secondary -- over a connected link DRBD itself
        refuses a second Primary.  Otherwise nothing changes and the
        reason is returned: (status, reason or None).
        """
        peers = status.get('peers') or []
        settle_s = self._links_settle_by - time.monotonic()
        if settle_s > 0 and any(p.get('connection') != 'Connected'
                                for p in peers):
            try:
                status = self.replicator.wait_connected(name, settle_s)
            except exception.Ev3Error as err:
                LOG.warning('Volume %s on %s: %s', volume.id,
                            self.settings.backend_id, err)
                status = self.agent.status([name]).get(name) or status
            peers = status.get('peers') or []
        problem = None
        if status.get('disk') != 'UpToDate':
            problem = 'its disk here is %s, not UpToDate' % status.get('disk')
        elif len(peers) < len(self.settings.peers):
            problem = ('DRBD shows %d of its %d peers here'
                       % (len(peers), len(self.settings.peers)))
        else:
            for peer in peers:
                if (peer.get('connection') != 'Connected' or
                        peer.get('role') != 'Secondary'):
                    problem = ('its peer %s is %s and %s, so this host '
                               'cannot tell that no other host is Primary'
                               % (peer.get('node_name') or 'link',
                                  peer.get('connection'), peer.get('role')))
                    break
        if problem is not None:
            LOG.warning('Volume %s is Secondary on its primary host %s and '
                        'is not promoted for export: %s', volume.id,
                        self.settings.backend_id, problem)
            return status, ('%s; bring the peer back, or fail over with '
                            '"cinder failover-host"' % problem)
        LOG.warning('Volume %s came back Secondary on its primary host %s '
                    '(restarted without a failover); every peer is '
                    'Connected and Secondary: promoting it for export',
                    volume.id, self.settings.backend_id)
        self.agent.promote(name)
        return self.agent.status([name]).get(name) or {}, None

    def failover_host(self, context, volumes, secondary_id=None, groups=None):
        """Hand this host's role to a peer, or (``default``) take it back.

        ``cinder failover-host <this> --backend_id <peer>`` makes this host
        the standby of that peer; ``--backend_id default`` makes this host
        the primary of every resource it holds (Cinder passes no volumes
        when they still belong to a dead host, so the resources held here
        are what counts).
        """
        if not self.replicated_backend:
            raise cinder_exception.InvalidReplicationTarget(
                reason='backend %s has no replication_device' % self.host)
        if not self._failover_lock.acquire(False):
            raise cinder_exception.InvalidReplicationTarget(
                reason='another failover of %s is running'
                       % self.settings.backend_id)
        try:
            request = self._failover_request(secondary_id)
            snapshot = self.roles.snapshot()
            try:
                plan = failover.plan(snapshot, request)
            except failover.PlanRefused as err:
                raise cinder_exception.InvalidReplicationTarget(
                    reason=str(err))
            self._check_plan(request, plan)
            self._check_witness(context, request, snapshot, plan)
            outcome = self.roles.apply(plan, request)
        finally:
            self._failover_lock.release()
        problems = outcome.problems
        if request.kind == failover.TO_STANDBY and problems:
            raise exception.Ev3Error(
                reason='failover of %s to %s failed part-way for: %s; '
                       'run the same command again once fixed'
                       % (self.settings.backend_id, request.target,
                          _listing(problems)))
        if problems:
            LOG.error('Backend %s is the primary again, but these volumes '
                      'were not promoted: %s', self.settings.backend_id,
                      _listing(problems))
        updates = []
        for volume in volumes:
            name = volume['name']
            if name in problems:
                updates.append({'volume_id': volume['id'],
                                'updates': {'replication_status': 'error'}})
        if request.kind == failover.TO_STANDBY:
            self._active_backend_id = request.target
            LOG.warning('Backend %s is now the standby of %s',
                        self.settings.backend_id, request.target)
            return request.target, updates, []
        self._active_backend_id = None
        LOG.warning('Backend %s is now the primary of %d volumes',
                    self.settings.backend_id,
                    sum(1 for o in outcome.plan.outcome.values()
                        if o == self.settings.backend_id))
        return 'default', updates, []

    def _check_plan(self, request, plan):
        """Refuse, changing nothing, a plan that cannot do its job."""
        refused = dict(plan.refused)
        if not refused:
            return
        if request.kind == failover.TO_STANDBY:
            raise cinder_exception.InvalidReplicationTarget(
                reason='%s cannot hand its volumes to %s: %s'
                       % (request.local, request.target, _listing(refused)))
        promoted = [n for n, host in plan.outcome.items()
                    if host == request.local and n not in refused]
        if not promoted:
            raise cinder_exception.InvalidReplicationTarget(
                reason='%s cannot become the primary of any volume: %s'
                       % (request.local, _listing(refused)))

    def _check_witness(self, context, request, snapshot, plan):
        """Refuse a promotion while a silent peer is alive for Cinder.

        A peer whose API and DRBD links are both silent looks dead to this
        host, but a cut storage network looks the same.  Cinder's own
        service heartbeat is a second witness: while the peer's
        cinder-volume still reports in, it may still be Primary, so
        promoting here could make a second Primary.
        """
        if request.kind != failover.TO_PRIMARY:
            return
        promotes = [s for s in plan.steps if s.host == request.local and
                    s.action in (failover.PROMOTE, failover.PROMOTE_FORCE)]
        if not promotes:
            return
        for backend_id, view in sorted(snapshot.hosts.items()):
            if view.reachable:
                continue
            try:
                service = objects.Service.get_by_args(
                    context, backend_id, 'cinder-volume')
            except cinder_exception.NotFound:
                continue
            if service.is_up:
                raise cinder_exception.InvalidReplicationTarget(
                    reason='%s does not answer on the storage network, but '
                           'its cinder-volume is up in Cinder: it may still '
                           'be Primary. Stop it (or fix the storage '
                           'network) before failing over' % backend_id)

    def _failover_request(self, secondary_id):
        backend_id = self.settings.backend_id
        force = self.configuration.safe_get('ev3_force_failover') or False
        if secondary_id in ('default', ''):
            if self._is_primary_role():
                raise cinder_exception.InvalidReplicationTarget(
                    reason='%s is already the primary; failover-host '
                           '--backend_id default is for a standby'
                           % backend_id)
            return failover.Request(kind=failover.TO_PRIMARY,
                                    local=backend_id, force=force)
        if secondary_id is None:
            if len(self.settings.peers) != 1:
                raise cinder_exception.InvalidReplicationTarget(
                    reason='name the peer with --backend_id (one of %s)'
                           % ', '.join(p.backend_id
                                       for p in self.settings.peers))
            secondary_id = self.settings.peers[0].backend_id
        if self.settings.peer(secondary_id) is None:
            raise cinder_exception.InvalidReplicationTarget(
                reason='%s is not a replication_device of %s (peers: %s)'
                       % (secondary_id, backend_id,
                          ', '.join(p.backend_id
                                    for p in self.settings.peers)))
        return failover.Request(kind=failover.TO_STANDBY, local=backend_id,
                                target=secondary_id, force=force)


def _listing(problems):
    return '; '.join('%s: %s' % item for item in sorted(problems.items()))
