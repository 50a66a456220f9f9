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
"""Role changes across hosts: gather a snapshot, plan, apply the steps.

Decisions are made by the pure planner in :mod:`.failover`; this module
only collects what every host reports (one request per host), hands the
snapshot to the planner and applies the planned steps in order, one
batched request per host and action.  A resource whose step fails is left
out of every later step, so a failed demotion can never be followed by a
promotion elsewhere; the others go on.
"""

from oslo_log import log as logging

from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import failover

LOG = logging.getLogger(__name__)


class Outcome(object):
    """What a role change did: the plan and what each resource got."""

    def __init__(self, plan):
        self.plan = plan
        self.failed = {}

    @property
    def refused(self):
        """{name: reason} of resources the planner would not touch."""
        return dict(self.plan.refused)

    @property
    def problems(self):
        """{name: reason} refused by the plan or failed while applied."""
        problems = self.refused
        problems.update(self.failed)
        return problems


class RoleManager(object):
    """Moves the Primary role of resources between this host and peers."""

    def __init__(self, local, peers):
        self.local = local
        self.peers = peers

    def hosts(self):
        """{backend_id: host verbs} of this host and every peer."""
        hosts = {self.local.backend_id: self.local}
        hosts.update(self.peers)
        return hosts

    def snapshot(self):
        """Every host's view of its replicas; unreachable hosts say so."""
        views = {}
        for backend_id, host in self.hosts().items():
            try:
                replicas = host.failover_view()
                reachable = True
            except exception.PeerError as err:
                LOG.warning('Host %s is unreachable for the failover '
                            'snapshot: %s', backend_id, err)
                replicas, reachable = {}, False
            views[backend_id] = failover.HostView(
                backend_id=backend_id, reachable=reachable,
                replicas={name: _replica(view)
                          for name, view in replicas.items()})
        protocols = {name: resource.protocol.value
                     for name, resource in self.local.resources().items()}
        return failover.Snapshot(hosts=views, protocols=protocols)

    def apply(self, plan, request):
        """Apply ``plan``'s steps in order; returns the Outcome."""
        outcome = Outcome(plan)
        for name, reason in sorted(plan.refused.items()):
            LOG.warning('Failover of %s: volume %s refused: %s',
                        request.local, name, reason)
        for name, reason in sorted(plan.warnings.items()):
            LOG.warning('Failover of %s: volume %s: %s', request.local,
                        name, reason)
        hosts = self.hosts()
        for step in plan.steps:
            todo = [n for n in step.names if n not in outcome.failed]
            if not todo:
                continue
            host = hosts[step.host]
            try:
                results = self._apply(host, step.action, todo)
            except (exception.PeerError, exception.Ev3Error) as err:
                results = {n: {'ok': False, 'error': str(err)} for n in todo}
            for name, result in sorted(results.items()):
                if not result.get('ok'):
                    outcome.failed[name] = '%s on %s failed: %s' % (
                        step.action, step.host, result.get('error'))
                    LOG.error('Failover of %s: volume %s: %s',
                              request.local, name, outcome.failed[name])
        return outcome

    @staticmethod
    def _apply(host, action, names):
        if action == 'unexport':
            return host.unexport_many(names)
        if action == 'demote':
            return host.demote_many(names)
        if action == 'promote':
            return host.promote_many(names)
        if action == 'promote_force':
            return host.promote_many(names, force=True)
        raise exception.Ev3Error(reason='unknown failover action %s' % action)


def _replica(view):
    return failover.ReplicaView(
        role=view['role'], disk=view['disk'], exported=view['exported'],
        links={backend_id: failover.PeerLink(
            connection=link['connection'], role=link['role'],
            disk=link['disk'])
            for backend_id, link in view.get('links', {}).items()})
