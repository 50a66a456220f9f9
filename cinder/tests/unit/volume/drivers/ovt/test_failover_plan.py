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
"""Tests of the failover planner: every interrupted prefix of every plan.

A test world is a *truth* snapshot: every live host with its real replicas
(also a host whose API is down but whose DRBD still runs), dead hosts
unreachable and empty.  The planner sees a *projection* of it (API-down hosts
unreachable and empty); its steps are applied to the truth, so a promotion
next to a hidden Primary shows up as two Primaries.
"""

import collections
import itertools

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import failover

H1 = 'hci-0001@RBS'
H2 = 'hci-0002@RBS'
H3 = 'hci-0003@RBS'
P, S, U = 'Primary', 'Secondary', 'Unknown'
UTD, CONS, OUTD, INCONS, DLESS = ('UpToDate', 'Consistent', 'Outdated',
                                  'Inconsistent', 'Diskless')
PROMOTIONS = (failover.PROMOTE, failover.PROMOTE_FORCE)

Res = collections.namedtuple('Res', 'replicas down protocol')


def res(replicas, down=(), protocol='C'):
    """A resource: {host: (role, disk, exported)}; ``down``: broken pairs."""
    return Res(replicas, frozenset(frozenset(p) for p in down), protocol)


def world(resources, hosts=(H1, H2), dead=()):
    """The truth snapshot; links mirror the peers' real state."""
    views = {}
    for host in hosts:
        if host in dead:
            views[host] = failover.HostView(host, False)
            continue
        replicas = {}
        for name, spec in resources.items():
            if host not in spec.replicas:
                continue
            role, disk, exported = spec.replicas[host]
            links = {}
            for peer, (prole, pdisk, _x) in spec.replicas.items():
                if peer == host or role == U:
                    continue
                if (peer in dead or prole == U or
                        frozenset((host, peer)) in spec.down):
                    links[peer] = failover.PeerLink('Connecting')
                else:
                    links[peer] = failover.PeerLink('Connected', prole, pdisk)
            replicas[name] = failover.ReplicaView(role, disk, exported, links)
        views[host] = failover.HostView(host, True, replicas)
    return failover.Snapshot(
        views, {name: spec.protocol for name, spec in resources.items()})


def project(truth, api_down):
    """What the planner sees: hosts whose API is down report nothing."""
    return failover.Snapshot(
        {h: failover.HostView(h, False) if h in api_down else view
         for h, view in truth.hosts.items()}, truth.protocols)


def primaries(truth, name):
    return sorted(h for h, view in truth.hosts.items()
                  if name in view.replicas and view.replicas[name].role == P)


def replicas_of(truth, name):
    return {h: view.replicas.get(name) for h, view in truth.hosts.items()}


def apply_all(truth, steps):
    for step in steps:
        truth = failover.apply(truth, step)
    return truth


def to_primary(local=H1, force=False):
    return failover.Request(failover.TO_PRIMARY, local, force=force)


def to_standby(local=H1, target=H2, force=False):
    return failover.Request(failover.TO_STANDBY, local, target, force)


class Checker(object):
    """Runs one case: plan, every prefix, re-plan, and the invariants."""

    def __init__(self, truth, api_down, request):
        self.truth, self.api_down, self.request = truth, api_down, request
        self.case = 'case %r api_down=%r %r' % (truth, api_down, request)

    def fail(self, problem):
        raise AssertionError('%s\n  %s' % (problem, self.case))

    def plan(self, truth):
        return failover.plan(project(truth, self.api_down), self.request)

    def run(self):
        """Check everything; return the plan (None if PlanRefused)."""
        target = self.request.target
        whole_refusal = (self.request.kind == failover.TO_STANDBY and
                         (target in self.api_down or
                          not self.truth.hosts[target].reachable))
        try:
            plan = self.plan(self.truth)
        except failover.PlanRefused:
            if not whole_refusal:
                self.fail('PlanRefused for a reachable target')
            return None
        if whole_refusal:
            self.fail('planned although the target is unreachable')
        self.check_shape(plan)
        final = self.execute(self.truth, plan)
        self.check_final(plan, final)
        for k in range(len(plan.steps)):
            middle = apply_all(self.truth, plan.steps[:k])
            again = self.plan(middle)
            if again.outcome != plan.outcome or again.refused != plan.refused:
                self.fail('re-plan after %d steps decided otherwise: %r' %
                          (k, again))
            if self.execute(middle, again) != final:
                self.fail('crash after %d steps, then re-plan: another end '
                          'state' % k)
        return plan

    def check_shape(self, plan):
        hosts = self.truth.hosts
        if len(plan.steps) > 4 * len(hosts):
            self.fail('too many steps: %r' % (plan.steps,))
        keys = [(failover.ACTIONS.index(s.action), s.host) for s in plan.steps]
        if keys != sorted(set(keys)):
            self.fail('steps not batched or not in order: %r' % (keys,))
        local = hosts[self.request.local].replicas
        if set(plan.outcome) != set(local):
            self.fail('outcome does not cover the local resources')
        for step in plan.steps:
            if step.host in self.api_down or not hosts[step.host].reachable:
                self.fail('step on an unreachable host: %r' % (step,))
            if not step.names or set(step.names) & set(plan.refused):
                self.fail('empty step or step for a refused name')

    def execute(self, truth, plan):
        """Apply ``plan`` step by step, checking each step and state."""
        names = set(plan.outcome)
        before = {n: len(primaries(truth, n)) for n in names}
        for step in plan.steps:
            for name in step.names:
                self.check_step(truth, plan, step, name)
            truth = failover.apply(truth, step)
            for name in step.names:
                count = len(primaries(truth, name))
                if count > max(1, before[name]):
                    self.fail('two Primaries for %s after %r' % (name, step))
        return truth

    def check_step(self, truth, plan, step, name):
        rep = truth.hosts[step.host].replicas[name]
        if step.action == failover.DEMOTE and rep.exported:
            self.fail('demoted an exported %s on %s' % (name, step.host))
        if step.action == failover.UNEXPORT and rep.role == P:
            self.fail('unexported %s where it is Primary' % name)
        if step.action not in PROMOTIONS:
            return
        if not rep.up or rep.disk not in (UTD,) + failover.FORCEABLE:
            self.fail('promoted %s with disk %s' % (name, rep.disk))
        if self.request.force:
            return
        # Every live replica anyone can see must be in sync with this one;
        # Consistent is enough only when none is alive (protocol A/B).
        live = [h for h, view in truth.hosts.items()
                if h != step.host and self.visible(truth, h, name)]
        protocol = truth.protocols[name]
        if rep.disk == UTD:
            if all(rep.connected_to(h) for h in live):
                return
        elif (rep.disk == CONS and protocol in ('A', 'B') and not live and
                'last writes' in plan.warnings.get(name, '')):
            return
        self.fail('promoted %s (%s, protocol %s, live peers %s) without '
                  'force' % (name, rep.disk, protocol, live))

    def visible(self, truth, host, name):
        """Up on ``host``, which answers its API or shows over DRBD."""
        rep = truth.replica(host, name)
        if rep is None or not rep.up:
            return False
        return host not in self.api_down or any(
            rep.connected_to(h) for h in truth.hosts if h not in self.api_down)

    def check_final(self, plan, final):
        request = self.request
        for name, owner in plan.outcome.items():
            if name in plan.refused:
                if replicas_of(final, name) != replicas_of(self.truth, name):
                    self.fail('refused %s was changed' % name)
                continue
            if primaries(final, name) != [owner]:
                self.fail('%s: Primary %r, outcome says %s' %
                          (name, primaries(final, name), owner))
            if (request.kind == failover.TO_PRIMARY) != (
                    owner == request.local):
                self.fail('%s ends on %s' % (name, owner))
            for host, rep in replicas_of(final, name).items():
                if (rep is not None and rep.exported and host != owner and
                        host not in self.api_down):
                    self.fail('%s still exported on %s' % (name, host))
            hidden = [h for h in primaries(self.truth, name)
                      if h in self.api_down]
            if hidden and request.kind == failover.TO_PRIMARY:
                self.fail('%s promoted next to hidden Primary %s' %
                          (name, hidden))
        for host, view in final.hosts.items():
            for name, rep in view.replicas.items():
                for peer, link in rep.links.items():
                    other = final.replica(peer, name)
                    if link.connected and (
                            (other.role, other.disk) != (link.role, link.disk)
                            or not other.connected_to(host)):
                        self.fail('%s and %s disagree on %s' %
                                  (host, peer, name))
        if self.plan(final).steps:
            self.fail('re-planning the end state gives steps')


STATES_2 = [(P, UTD, False), (P, UTD, True), (S, UTD, False), (S, UTD, True),
            (S, CONS, False), (S, OUTD, False), (S, INCONS, False),
            (S, DLESS, False), (U, DLESS, False), None]
STATES_3 = [(P, UTD, False), (P, UTD, True), (S, UTD, False), (S, UTD, True),
            (S, INCONS, False), None]
LIVENESS = ('up', 'api-down', 'dead')


def _case(hosts, states, liveness, down, protocol):
    """(truth, api_down) or None when the case says nothing new."""
    replicas = {h: s for h, s in zip(hosts, states) if s is not None}
    dead = {h for h, live in zip(hosts, liveness) if live == 'dead'}
    api_down = frozenset(h for h, live in zip(hosts, liveness)
                         if live == 'api-down')
    if hosts[0] not in replicas:
        return None
    if CONS not in [s[1] for s in replicas.values()] and protocol != 'C':
        return None
    truth = world({'vol': res(replicas, down, protocol)}, hosts, dead)
    for host in api_down:
        rep = truth.replica(host, 'vol')
        visible = rep is not None and any(
            rep.connected_to(h) for h in hosts if h not in api_down)
        if rep is not None and rep.role == P and not visible:
            # Alive, Primary, and both its API and DRBD links down: nobody
            # can tell it from a dead host (test_isolated_primary_is_dead).
            return None
    return truth, api_down


def generated_cases():
    """Systematic 2- and 3-host cases, deduplicated on what differs."""
    seen = set()
    two = (H1, H2)
    for states, live, down, proto in itertools.product(
            itertools.product(STATES_2, repeat=2), LIVENESS,
            ((), ((H1, H2),)), ('A', 'C')):
        case = _case(two, states, ('up', live), down, proto)
        if case is not None and case not in seen:
            seen.add(case)
            for request in (to_primary(), to_primary(force=True),
                            to_standby(), to_standby(force=True)):
                yield case + (request,)
    three = (H1, H2, H3)
    pairs = ((H1, H2), (H1, H3), (H2, H3))
    for states, live, downs in itertools.product(
            itertools.product(STATES_3, repeat=3),
            itertools.product(LIVENESS, repeat=2),
            ((), pairs[:1], pairs[1:2], pairs[2:])):
        case = _case(three, states, ('up',) + live, downs, 'C')
        if case is not None and case not in seen:
            seen.add(case)
            for request in (to_primary(), to_primary(force=True),
                            to_standby()):
                yield case + (request,)


class GeneratedPlanTestCase(test.TestCase):
    """Every generated case, every interrupted prefix, every invariant."""

    def test_every_case_and_prefix(self):
        counts = collections.Counter()
        for truth, api_down, request in generated_cases():
            plan = Checker(truth, api_down, request).run()
            counts['cases'] += 1
            if plan is None:
                counts['refused whole'] += 1
                continue
            counts['steps'] += bool(plan.steps)
            counts['refused'] += bool(plan.refused)
            counts['forced'] += any(s.action == failover.PROMOTE_FORCE
                                    for s in plan.steps)
        # The generator must reach every kind of answer, or it tests little.
        self.assertGreater(counts['cases'], 2000)
        for key in ('refused whole', 'steps', 'refused', 'forced'):
            self.assertGreater(counts[key], 50, key)

    def test_resources_are_independent_and_batched(self):
        """All 2-host states at once: same decisions as one by one."""
        for live, request in itertools.product(
                ('up', 'api-down', 'dead'),
                (to_primary(), to_primary(force=True), to_standby())):
            if live != 'up' and request.kind == failover.TO_STANDBY:
                continue
            api_down = frozenset([H2] if live == 'api-down' else [])
            dead = [H2] if live == 'dead' else []
            resources, singles = {}, {}
            for i, (states, down, proto) in enumerate(itertools.product(
                    itertools.product(STATES_2, repeat=2),
                    ((), ((H1, H2),)), ('A', 'C'))):
                if _case((H1, H2), states, ('up', live), down, proto) is None:
                    continue
                name = 'volume-%04d' % i
                resources[name] = res({h: s for h, s in zip((H1, H2), states)
                                       if s is not None}, down, proto)
                single = world({name: resources[name]}, dead=dead)
                singles[name] = failover.plan(project(single, api_down),
                                              request)
            truth = world(resources, dead=dead)
            plan = Checker(truth, api_down, request).run()
            self.assertLessEqual(len(plan.steps), 8)
            for name, single in singles.items():
                self.assertEqual(single.outcome[name], plan.outcome[name])
                self.assertEqual(single.refused.get(name),
                                 plan.refused.get(name))
                self.assertEqual(
                    {(s.host, s.action) for s in single.steps},
                    {(s.host, s.action) for s in plan.steps
                     if name in s.names}, name)

    def test_thousand_resources_bounded_steps(self):
        kinds = [
            ((P, UTD, False), (S, UTD, False), (S, UTD, False)),
            ((S, UTD, False), (P, UTD, False), (S, UTD, True)),
            ((S, UTD, False), (S, UTD, False), (P, UTD, False)),
            ((S, INCONS, False), (P, UTD, False), (S, UTD, False)),
            ((S, UTD, True), (S, UTD, False), (P, UTD, True))]
        resources = {
            'volume-%04d' % i: res(dict(zip((H1, H2, H3), kinds[i % 5])),
                                   protocol='ABC'[i % 3])
            for i in range(1000)}
        truth = world(resources, hosts=(H1, H2, H3))
        for request in (to_primary(), to_primary(force=True),
                        to_standby(target=H3)):
            plan = Checker(truth, frozenset(), request).run()
            self.assertLessEqual(len(plan.steps), 12)
            self.assertEqual(1000, len(plan.outcome))
        plan = failover.plan(truth, to_primary())
        # Refused: Inconsistent on H1, in use on H3; stale exports on H3.
        self.assertEqual(400, len(plan.refused))
        self.assertEqual(200, len(plan.warnings))
        self.assertEqual(
            [(H3, 'unexport', 200), (H2, 'demote', 200),
             (H3, 'demote', 200), (H1, 'promote', 400)],
            [(s.host, s.action, len(s.names)) for s in plan.steps])


class RunbookTestCase(test.TestCase):
    """The operator runbook's situations, one readable case each."""

    def test_standby_setup_nothing_to_do(self):
        # Step 1 on fresh hosts: hci-0002 holds nothing yet.
        plan = failover.plan(world({}), to_standby(H2, H1))
        self.assertEqual(failover.Plan(), plan)
        # ... or only Secondary replicas of hci-0001's volumes.
        truth = world({'vol': res({H1: (P, UTD, True), H2: (S, UTD, False)})})
        plan = failover.plan(truth, to_standby(H2, H1))
        self.assertEqual((), plan.steps)
        self.assertEqual({'vol': H1}, dict(plan.outcome))
        self.assertEqual({}, dict(plan.refused))

    def test_disaster_dead_primary(self):
        truth = world({
            'good': res({H1: (P, UTD, True), H2: (S, UTD, False)}),
            'syncing': res({H1: (P, UTD, False), H2: (S, INCONS, False)}),
            'async': res({H1: (P, UTD, False), H2: (S, CONS, False)},
                         protocol='A'),
            'sync': res({H1: (P, UTD, False), H2: (S, CONS, False)}),
            'old': res({H1: (P, UTD, False), H2: (S, OUTD, False)})},
            dead=[H1])
        plan = Checker(truth, frozenset(), to_primary(H2)).run()
        self.assertEqual(
            (failover.Step(H2, 'promote', ('good',)),
             failover.Step(H2, 'promote_force', ('async',))), plan.steps)
        self.assertEqual({'old', 'sync', 'syncing'}, set(plan.refused))
        self.assertIn('Inconsistent', plan.refused['syncing'])
        self.assertIn('protocol C', plan.refused['sync'])
        self.assertIn('last writes', plan.warnings['async'])
        self.assertIn(H1, plan.warnings['async'])
        final = apply_all(truth, plan.steps)
        self.assertEqual([H2], primaries(final, 'good'))
        self.assertEqual(UTD, final.replica(H2, 'async').disk)
        self.assertEqual([], primaries(final, 'syncing'))

    def test_planned_switchover(self):
        truth = world({
            'idle': res({H1: (P, UTD, False), H2: (S, UTD, False)}),
            'attached': res({H1: (P, UTD, True), H2: (S, UTD, False)})})
        plan = Checker(truth, frozenset(), to_primary(H2)).run()
        self.assertEqual((failover.Step(H1, 'demote', ('idle',)),
                          failover.Step(H2, 'promote', ('idle',))),
                         plan.steps)
        self.assertEqual('in use on %s: detach first (force does not '
                         'override this)' % H1, plan.refused['attached'])
        final = apply_all(truth, plan.steps)
        self.assertEqual(failover.PeerLink('Connected', P, UTD),
                         final.replica(H1, 'idle').links[H2])
        # Force never demotes an exported volume.
        plan = failover.plan(truth, to_primary(H2, force=True))
        self.assertIn('attached', plan.refused)

    def test_handing_back_needs_uptodate_target(self):
        # failover-host hci-0002 --backend_id hci-0001 while 0001 resyncs.
        truth = world({'vol': res({H1: (S, INCONS, False),
                                   H2: (P, UTD, False)})})
        plan = failover.plan(truth, to_standby(H2, H1))
        self.assertEqual((), plan.steps)
        self.assertIn('Inconsistent', plan.refused['vol'])
        plan = Checker(truth, frozenset(), to_standby(H2, H1, True)).run()
        self.assertEqual([(H2, 'demote'), (H1, 'promote_force')],
                         [(s.host, s.action) for s in plan.steps])
        self.assertIn('forced', plan.warnings['vol'])

    def test_to_standby_promotes_target_when_nobody_is_primary(self):
        # A crash between the demote and the promote leaves this state.
        truth = world({'vol': res({H1: (S, UTD, False), H2: (S, UTD, False)})})
        plan = failover.plan(truth, to_standby(H1, H2))
        self.assertEqual((failover.Step(H2, 'promote', ('vol',)),),
                         plan.steps)

    def test_partition_both_alive(self):
        # hci-0001's API is down but its DRBD link is up and Primary.
        truth = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)})})
        plan = failover.plan(project(truth, {H1}), to_primary(H2))
        self.assertEqual((), plan.steps)
        self.assertEqual('%s is unreachable but still Primary over DRBD: '
                         'network partition?' % H1, plan.refused['vol'])
        plan = failover.plan(project(truth, {H1}), to_primary(H2, True))
        self.assertIn('vol', plan.refused)
        # Same, DRBD link down too: indistinguishable from a disaster.
        truth = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)},
                                  down=[(H1, H2)])})
        plan = failover.plan(project(truth, {H1}), to_primary(H2))
        self.assertEqual((failover.Step(H2, 'promote', ('vol',)),),
                         plan.steps)

    def test_isolated_primary_is_dead(self):
        """Without API and DRBD links a live Primary looks dead (limit)."""
        alive = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)},
                                  down=[(H1, H2)])})
        dead = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)})},
                     dead=[H1])
        self.assertEqual(failover.plan(dead, to_primary(H2)),
                         failover.plan(project(alive, {H1}), to_primary(H2)))

    def test_live_peer_not_connected_is_refused_unless_forced(self):
        truth = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)},
                                  down=[(H1, H2)])})
        plan = failover.plan(truth, to_primary(H2))
        self.assertIn('not Connected', plan.refused['vol'])
        plan = Checker(truth, frozenset(), to_primary(H2, True)).run()
        self.assertEqual([(H1, 'demote'), (H2, 'promote')],
                         [(s.host, s.action) for s in plan.steps])

    def test_wrong_target(self):
        truth = world({'vol': res({H1: (P, UTD, False), H2: (S, UTD, False)})})
        for request, words in [
                (to_standby(H1, 'hci-0009@RBS'), 'unknown backend_id'),
                (to_standby(H1, H1), 'its own failover'),
                (to_standby(H1, None), 'needs a target'),
                (failover.Request(failover.TO_PRIMARY, H1, H2), 'no target'),
                (failover.Request('sideways', H1), 'unknown request kind'),
                (to_primary('hci-0009@RBS'), 'not in the snapshot')]:
            error = self.assertRaises(failover.PlanRefused, failover.plan,
                                      truth, request)
            self.assertIn(words, str(error))
        error = self.assertRaises(failover.PlanRefused, failover.plan,
                                  project(truth, {H2}), to_standby(H1, H2))
        self.assertIn('unreachable', str(error))

    def test_force_does_not_promote_without_data(self):
        truth = world({
            'down': res({H1: (P, UTD, False), H2: (U, DLESS, False)}),
            'diskless': res({H1: (P, UTD, False), H2: (S, DLESS, False)}),
            'old': res({H1: (P, UTD, False), H2: (S, OUTD, False)})},
            dead=[H1])
        plan = failover.plan(truth, to_primary(H2, force=True))
        self.assertEqual((failover.Step(H2, 'promote_force', ('old',)),),
                         plan.steps)
        self.assertIn('not up', plan.refused['down'])
        self.assertIn('not even with force', plan.refused['diskless'])
        self.assertIn('forced', plan.warnings['old'])

    def test_split_brain_refused(self):
        truth = world({'vol': res({H1: (P, UTD, False), H2: (P, UTD, False)},
                                  down=[(H1, H2)])})
        for request in (to_primary(), to_standby(force=True)):
            plan = failover.plan(truth, request)
            self.assertEqual((), plan.steps)
            self.assertIn('split brain', plan.refused['vol'])
            self.assertIsNone(plan.outcome['vol'])


class ModelTestCase(test.TestCase):
    """The frozen model and ``apply``."""

    def test_model_is_hashable_and_order_blind(self):
        one = failover.ReplicaView(P, UTD, links={
            H2: failover.PeerLink('Connected', S, UTD),
            H3: failover.PeerLink('Connecting')})
        two = failover.ReplicaView(drbd.Role.PRIMARY, drbd.DiskState.UPTODATE,
                                   links={H3: failover.PeerLink('Connecting'),
                                          H2: failover.PeerLink(
                                              'Connected', S, UTD)})
        self.assertEqual(one, two)
        self.assertEqual(hash(one), hash(two))
        self.assertEqual('Primary', two.role)
        self.assertIsInstance(two.links, failover.FrozenMap)

        def change():
            two.links[H2] = None

        self.assertRaises(TypeError, change)
        self.assertEqual(('a', 'b'), failover.Step(H1, 'demote',
                                                   ['b', 'a', 'b']).names)
        self.assertRaises(ValueError, failover.HostView, H1, False,
                          {'vol': one})

    def test_apply_keeps_views_consistent(self):
        truth = world({'vol': res({H1: (P, UTD, True), H2: (S, OUTD, True),
                                   H3: (S, UTD, False)}, down=[(H2, H3)])},
                      hosts=(H1, H2, H3))
        state = failover.apply(truth, failover.Step(H2, 'unexport', ['vol']))
        self.assertFalse(state.replica(H2, 'vol').exported)
        self.assertTrue(state.replica(H1, 'vol').exported)
        state = failover.apply(state, failover.Step(H1, 'demote', ['vol']))
        self.assertEqual((S, UTD), (state.replica(H1, 'vol').role,
                                    state.replica(H1, 'vol').disk))
        self.assertEqual(S, state.replica(H3, 'vol').links[H1].role)
        state = failover.apply(state, failover.Step(H2, 'promote_force',
                                                    ['vol']))
        self.assertEqual(failover.PeerLink('Connected', P, UTD),
                         state.replica(H1, 'vol').links[H2])
        # H3's link to H2 is down: it shows nothing new.
        self.assertEqual(failover.PeerLink('Connecting'),
                         state.replica(H3, 'vol').links[H2])

    def test_apply_refuses_impossible_steps(self):
        truth = world({'vol': res({H1: (P, UTD, False),
                                   H2: (U, DLESS, False)})}, dead=())
        for step in (failover.Step(H3, 'demote', ['vol']),
                     failover.Step(H1, 'demote', ['other']),
                     failover.Step(H2, 'promote', ['vol']),
                     failover.Step(H1, 'explode', ['vol'])):
            self.assertRaises(failover.InvalidStep, failover.apply, truth,
                              step)
        self.assertRaises(failover.InvalidStep, failover.apply,
                          project(truth, {H1}),
                          failover.Step(H1, 'demote', ['vol']))
