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
"""Failover planner: a pure decision from a snapshot of every host.

``plan(snapshot, request)`` turns what every host reports into batched
``Step`` objects; ``apply(snapshot, step)`` models a successful step.  No
I/O.  Mappings are ``FrozenMap`` (immutable, hashable, order-blind; plain
dicts accepted).  State words are DRBD's strings (``drbd`` enums accepted).

Per resource held by ``request.local``:

* Primaries: reachable hosts that say Primary, plus hosts a reachable host's
  *Connected* link shows Primary.  Two: refused (split brain).  One the API
  cannot reach: refused "still Primary over DRBD: network partition?".  (A
  host with API and DRBD down looks dead: the disaster the operator declares.)
* An exported (in use) Primary is never demoted, not even with force.
* Demote before promote; a refused resource gets no step.
* Promoting C (local for to_primary, target for to_standby); live peers are
  reachable hosts where the resource is up and unreachable hosts some
  reachable host is Connected to.  UpToDate and Connected to every live peer:
  ``promote``.  Consistent, protocol A/B, no live peer: ``promote_force``
  with a warning about the last writes (DEVIATION: brief says ``promote``;
  DRBD refuses a plain primary on Consistent).  Otherwise (UpToDate with a
  live peer not Connected -- safer than the brief --, Consistent, Outdated,
  Inconsistent): refused unless force, then promote(_force) with a warning.
  Not up, Diskless or other words: refused even with force (no data; safer
  than the brief).  A protocol missing from the snapshot counts as C.
* to_standby: refused where the target holds no replica, and (unless
  force) where the local replica is not UpToDate -- a standby must be able
  to take over again, so handing roles back waits for the resync; Primary on
  local:
  demote it, promote the target; Primary elsewhere: nothing; Primary nowhere:
  promote the target (DEVIATION from "nothing": a crash between demote and
  promote must converge on the same end state).
* to_primary: Primary here: nothing; on a reachable host: demote there and
  promote here; nowhere: promote here.
* A stale export (non-Primary, on a host that will not be Primary) of a
  resource not refused gets ``unexport``, with a warning.
* Steps are batched per (action, host) in the order unexport, demote,
  promote, promote_force: at most 4 per host for any number of resources.
  Re-planning after any prefix reaches the same end state; re-planning the
  end state gives no step.  ``Plan.outcome[name]`` is the Primary after the
  plan (refused: the current one), None if none or ambiguous.

``PlanRefused`` refuses a whole request: unknown kind, local missing or
unreachable, to_primary with a target, to_standby with no, an unknown, the
local or an unreachable target.  "default on the primary" is the driver's
check: Cinder's active_backend_id is not an input here.
"""

import collections
import collections.abc
import dataclasses
import typing

from cinder.i18n import _
from cinder.volume.drivers.ovt import exception

TO_STANDBY = 'to_standby'
TO_PRIMARY = 'to_primary'
UNEXPORT = 'unexport'
DEMOTE = 'demote'
PROMOTE = 'promote'
PROMOTE_FORCE = 'promote_force'
ACTIONS = (UNEXPORT, DEMOTE, PROMOTE, PROMOTE_FORCE)   # order within a plan

PRIMARY = 'Primary'
SECONDARY = 'Secondary'
UNKNOWN = 'Unknown'
CONNECTED = 'Connected'
UPTODATE = 'UpToDate'
CONSISTENT = 'Consistent'
FORCEABLE = (CONSISTENT, 'Outdated', 'Inconsistent')
ASYNC_PROTOCOLS = ('A', 'B')
_EFFECTS = {UNEXPORT: {'exported': False}, DEMOTE: {'role': SECONDARY},
            PROMOTE: {'role': PRIMARY},
            PROMOTE_FORCE: {'role': PRIMARY, 'disk': UPTODATE}}


class PlanRefused(exception.Ev3Error):
    """The whole failover request is impossible; nothing may be done."""

    message = _("Failover refused: %(reason)s")


class InvalidStep(exception.Ev3Error):
    """A step that cannot succeed on the given snapshot."""

    message = _("Cannot %(action)s %(names)s on %(host)s: %(reason)s")


class FrozenMap(collections.abc.Mapping):
    """An immutable, hashable dict; equality ignores insertion order."""

    __slots__ = ('_data', '_hash')

    def __init__(self, data=()):
        self._data = dict(data)
        self._hash = None

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __eq__(self, other):
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, collections.abc.Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self):
        return 'FrozenMap(%r)' % (self._data,)


def _normalize(obj, words=(), maps=()):
    for field in words:
        value = getattr(obj, field)
        object.__setattr__(obj, field, getattr(value, 'value', value))
    for field in maps:
        value = getattr(obj, field)
        if not isinstance(value, FrozenMap):
            object.__setattr__(obj, field, FrozenMap(value))


@dataclasses.dataclass(frozen=True)
class PeerLink(object):
    """How one host's DRBD sees its link to one peer, for one resource."""

    connection: str
    role: str = UNKNOWN
    disk: str = 'DUnknown'

    def __post_init__(self):
        _normalize(self, words=('connection', 'role', 'disk'))

    @property
    def connected(self):
        return self.connection == CONNECTED


@dataclasses.dataclass(frozen=True)
class ReplicaView(object):
    """One resource on one host; role Unknown means not up."""

    role: str
    disk: str
    exported: bool = False
    links: typing.Mapping[str, PeerLink] = FrozenMap()

    def __post_init__(self):
        _normalize(self, words=('role', 'disk'), maps=('links',))

    @property
    def up(self):
        return self.role != UNKNOWN

    def connected_to(self, peer):
        link = self.links.get(peer)
        return link is not None and link.connected


@dataclasses.dataclass(frozen=True)
class HostView(object):
    """One host as its API answered; no replicas when unreachable."""

    backend_id: str
    reachable: bool
    replicas: typing.Mapping[str, ReplicaView] = FrozenMap()

    def __post_init__(self):
        _normalize(self, maps=('replicas',))
        if not self.reachable and self.replicas:
            raise ValueError('an unreachable host reports no replicas')


@dataclasses.dataclass(frozen=True)
class Snapshot(object):
    """Every host of the replication set plus each resource's protocol."""

    hosts: typing.Mapping[str, HostView]
    protocols: typing.Mapping[str, str] = FrozenMap()

    def __post_init__(self):
        _normalize(self, maps=('hosts', 'protocols'))

    def replica(self, host, name):
        """The replica of ``name`` on a reachable ``host``, else None."""
        view = self.hosts.get(host)
        return None if view is None else view.replicas.get(name)

    def reachable(self, host):
        view = self.hosts.get(host)
        return view is not None and view.reachable


@dataclasses.dataclass(frozen=True)
class Request(object):
    """A failover-host request as seen by the planner."""

    kind: str
    local: str
    target: typing.Optional[str] = None
    force: bool = False


@dataclasses.dataclass(frozen=True)
class Step(object):
    """One batched action on one host; names sorted and unique."""

    host: str
    action: str
    names: typing.Tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, 'names', tuple(sorted(set(self.names))))


@dataclasses.dataclass(frozen=True)
class Plan(object):
    """Ordered steps and, per resource, refusal, warning and outcome."""

    steps: typing.Tuple[Step, ...] = ()
    refused: typing.Mapping[str, str] = FrozenMap()
    warnings: typing.Mapping[str, str] = FrozenMap()
    outcome: typing.Mapping[str, typing.Optional[str]] = FrozenMap()

    def __post_init__(self):
        object.__setattr__(self, 'steps', tuple(self.steps))
        _normalize(self, maps=('refused', 'warnings', 'outcome'))


_Decision = collections.namedtuple('_Decision', 'owner moves notes refused',
                                   defaults=((), (), None))


def _check(snapshot, request):
    local, target = request.local, request.target
    standby = request.kind == TO_STANDBY
    peers = ', '.join(sorted(set(snapshot.hosts) - {local}))
    for failed, reason in (
            (request.kind not in (TO_STANDBY, TO_PRIMARY),
             'unknown request kind %r' % (request.kind,)),
            (not snapshot.reachable(local),
             'local backend %s is not in the snapshot or not reachable' %
             local),
            (not standby and target is not None,
             'to_primary (--backend_id default) takes no target, got %s' %
             target),
            (standby and target is None, 'to_standby needs a target'),
            (standby and target == local,
             '%s cannot be the target of its own failover' % local),
            (standby and target not in snapshot.hosts,
             'unknown backend_id %s: not a replication peer (peers: %s)' %
             (target, peers)),
            (standby and not snapshot.reachable(target),
             'target %s is unreachable: it cannot take the primary role' %
             target)):
        if failed:
            raise PlanRefused(reason=reason)


def _primaries(snapshot, name):
    found = set()
    for host_id, view in snapshot.hosts.items():
        rep = view.replicas.get(name)
        if rep is None:
            continue
        if rep.role == PRIMARY:
            found.add(host_id)
        for peer, link in rep.links.items():
            if link.connected and link.role == PRIMARY:
                found.add(peer)
    return sorted(found)


def _live_peers(snapshot, name, cand):
    """{peer: Connected to cand both ways} for every peer that is alive."""
    rep = snapshot.replica(cand, name)
    live = {}
    for host_id, view in snapshot.hosts.items():
        other = view.replicas.get(name)
        if host_id == cand or other is None:
            continue
        if other.up:
            live[host_id] = (rep.connected_to(host_id) and
                             other.connected_to(cand))
    for view in snapshot.hosts.values():
        other = view.replicas.get(name)
        for peer, link in (other.links.items() if other else ()):
            if (link.connected and peer != cand and peer not in live and
                    not snapshot.reachable(peer)):
                live[peer] = rep.connected_to(peer)
    return live


def _promotion(snapshot, name, cand, force):
    """(action, warning, refusal) for promoting ``name`` on ``cand``."""
    rep = snapshot.replica(cand, name)
    if not rep.up:
        return None, None, ('not up on %s: it cannot be promoted, not even '
                            'with force' % cand)
    if rep.disk != UPTODATE and rep.disk not in FORCEABLE:
        return None, None, ('no usable data on %s (disk %s): not promoted, '
                            'not even with force' % (cand, rep.disk))
    protocol = snapshot.protocols.get(name, 'C')
    live = _live_peers(snapshot, name, cand)
    if rep.disk == UPTODATE:
        down = sorted(peer for peer, ok in live.items() if not ok)
        if not down:
            return PROMOTE, None, None
        action = PROMOTE
        reason = ('DRBD link between %s and %s is not Connected: the copy on '
                  '%s may miss writes made there' % (cand, ', '.join(down),
                                                     cand))
    elif (rep.disk == CONSISTENT and protocol in ASYNC_PROTOCOLS and
            not live):
        dead = ', '.join(sorted(rep.links)) or 'the old primary'
        return PROMOTE_FORCE, ('disk Consistent under protocol %s: the last '
                               'writes acknowledged by %s before it failed '
                               'may be lost' % (protocol, dead)), None
    else:
        action = PROMOTE_FORCE
        reason = 'disk %s on %s under protocol %s%s, not UpToDate' % (
            rep.disk, cand, protocol,
            ' with live peer(s) %s' % ', '.join(sorted(live)) if live else '')
    if not force:
        return None, None, reason + ': refused (force to promote anyway)'
    return action, 'forced: %s; writes missing on %s are lost' % (
        reason, cand), None


def _decide(snapshot, request, name):
    primaries = _primaries(snapshot, name)
    if len(primaries) > 1:
        return _Decision(None, refused='split brain: Primary on %s' %
                         ', '.join(primaries))
    current = primaries[0] if primaries else None
    if request.kind == TO_PRIMARY:
        if current == request.local:
            return _Decision(current)
        if current is not None and snapshot.replica(current, name) is None:
            return _Decision(current, refused=(
                '%s is unreachable but still Primary over DRBD: network '
                'partition?' % current))
        cand = request.local
    else:
        if snapshot.replica(request.target, name) is None:
            return _Decision(current, refused='no replica on target %s' %
                             request.target)
        # This host becomes a standby: it must be able to take over again,
        # i.e. hold every write (also once the target is Primary).
        mine = snapshot.replica(request.local, name)
        if not request.force and (mine is None or mine.disk != UPTODATE):
            return _Decision(current, refused=(
                'the replica here is %s, not UpToDate: wait until its '
                'resynchronisation ends (or force)'
                % (mine.disk if mine else 'missing')))
        if current is not None and current != request.local:
            return _Decision(current)
        cand = request.target
    moves = []
    if current is not None:
        if snapshot.replica(current, name).exported:
            return _Decision(current, refused=(
                'in use on %s: detach first (force does not override '
                'this)' % current))
        moves.append((DEMOTE, current))
    action, note, reason = _promotion(snapshot, name, cand, request.force)
    if action is None:
        return _Decision(current, refused=reason)
    moves.append((action, cand))
    return _Decision(cand, tuple(moves), (note,) if note else ())


def plan(snapshot, request):
    """Plan ``request`` on ``snapshot``; raise PlanRefused if impossible."""
    _check(snapshot, request)
    batches = {}
    refused, warnings, outcome = {}, {}, {}
    for name in sorted(snapshot.hosts[request.local].replicas):
        decision = _decide(snapshot, request, name)
        outcome[name] = decision.owner
        if decision.refused:
            refused[name] = decision.refused
            continue
        moves, notes = list(decision.moves), list(decision.notes)
        for host_id in sorted(snapshot.hosts):
            rep = snapshot.replica(host_id, name)
            if (rep is not None and rep.exported and rep.role != PRIMARY and
                    host_id != decision.owner):
                moves.insert(0, (UNEXPORT, host_id))
                notes.append('stale export on %s removed' % host_id)
        for action, host_id in moves:
            batches.setdefault((ACTIONS.index(action), host_id), []).append(
                name)
        if notes:
            warnings[name] = '; '.join(notes)
    steps = tuple(Step(host_id, ACTIONS[index], names)
                  for (index, host_id), names in sorted(batches.items()))
    return Plan(steps, refused, warnings, outcome)


def apply(snapshot, step):
    """The snapshot after ``step`` succeeded (resync is not modelled)."""
    view = snapshot.hosts.get(step.host)

    def invalid(reason):
        return InvalidStep(action=step.action, names=', '.join(step.names),
                           host=step.host, reason=reason)

    if step.action not in _EFFECTS:
        raise invalid('unknown action')
    if view is None or not view.reachable:
        raise invalid('host unknown or unreachable')
    replicas = dict(view.replicas)
    for name in step.names:
        rep = replicas.get(name)
        if rep is None:
            raise invalid('%s has no replica there' % name)
        if step.action != UNEXPORT and not rep.up:
            raise invalid('%s is not up' % name)
        replicas[name] = dataclasses.replace(rep, **_EFFECTS[step.action])
    hosts = dict(snapshot.hosts)
    hosts[step.host] = dataclasses.replace(view, replicas=replicas)
    if step.action != UNEXPORT:
        for host_id, other in snapshot.hosts.items():
            if host_id != step.host and other.replicas:
                hosts[host_id] = _mirror(other, step, replicas)
    return dataclasses.replace(snapshot, hosts=hosts)


def _mirror(view, step, changed):
    """``view`` with its Connected links to ``step.host`` updated."""
    replicas = None
    for name in step.names:
        rep = view.replicas.get(name)
        if rep is None or not rep.connected_to(step.host):
            continue
        links = dict(rep.links)
        links[step.host] = dataclasses.replace(
            links[step.host], role=changed[name].role, disk=changed[name].disk)
        if replicas is None:
            replicas = dict(view.replicas)
        replicas[name] = dataclasses.replace(rep, links=links)
    if replicas is None:
        return view
    return dataclasses.replace(view, replicas=replicas)
