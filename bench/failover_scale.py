#!/usr/bin/env python3
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
"""Failover of N volumes: DRBD commands, peer requests and wall time.

Two simulated hosts (DRBD 8.4), each with the real ev3 driver and its real
signed peer API on 127.0.0.1, hold N thin replicated volumes, Primary on
hci-0001.  Two scenarios are measured, each twice in the same lab from the
same starting state:

* ``disaster``: hci-0001 crashes; hci-0002 runs
  ``failover_host(secondary_id='default')``.
* ``switchover``: hci-0001 runs ``failover_host(secondary_id='hci-0002@RBS')``
  with every volume detached.

"batched" is the driver's ``failover_host`` (plan, then one batched request
per host and action); "naive" is the per-volume baseline: for each volume
``demote(name)`` here then ``promote(name)`` on the peer (switchover), or
``promote(name)`` here (disaster), sequentially, with no checks at all, so
it is a lower bound of what a per-volume failover costs.

Only the failover call itself is counted: DRBD commands (``drbdadm``,
``drbdsetup``, ``cat /proc/drbd``) run on every simulated host and peer API
requests made by any ``PeerClient`` (one per verb call; connection retries
to a dead host are not counted again).  See bench/README.rst.
"""

if __name__ == '__main__':
    # Patch first, as cinder-volume does, so that every later import is
    # green.  Imported by a test, the test runner has patched already.
    import warnings
    warnings.simplefilter('ignore')
    import eventlet
    eventlet.monkey_patch()

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import typing  # noqa: E402

from cinder import objects  # noqa: E402

objects.register_all()

from cinder.tests.unit.volume.drivers.ovt import harness  # noqa: E402
from cinder.tests.unit.volume.drivers.ovt.sim import cluster  # noqa: E402
from cinder.volume.drivers.ovt import peer_api  # noqa: E402

PRIMARY_ID = 'hci-0001@RBS'
STANDBY_ID = 'hci-0002@RBS'
DISASTER = 'disaster'
SWITCHOVER = 'switchover'


def is_drbd_command(tool, args):
    """True for the commands that ask or change DRBD's kernel state."""
    return (tool in ('drbdadm', 'drbdsetup') or
            (tool == 'cat' and list(args) == ['/proc/drbd']))


@dataclasses.dataclass(frozen=True)
class Count(object):
    """What one measured call did."""

    commands: typing.Mapping[str, int]    # DRBD commands by simulated host
    requests: typing.Mapping[str, int]    # peer API requests by verb
    seconds: float                        # wall time of the whole call
    peer_seconds: float = 0.0             # of it, waiting for peer calls

    @property
    def drbd_commands(self):
        return sum(self.commands.values())

    @property
    def peer_requests(self):
        return sum(self.requests.values())


@dataclasses.dataclass(frozen=True)
class Row(object):
    """One scenario at one N: the batched failover and the naive one."""

    size: int
    scenario: str
    batched: Count
    naive: Count


class Meter(object):
    """Counts DRBD commands per simulated host and peer API requests.

    Installs itself around ``SimHost.run`` (every command of every
    simulated host, also those a peer API server runs) and
    ``PeerClient._call`` (every peer verb call); counts only inside
    ``measure()``.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._active = False
        self._commands = collections.Counter()
        self._requests = collections.Counter()
        self._peer_seconds = 0.0
        self._saved = None

    def install(self):
        """Wrap the simulated executor and the peer client."""
        run, call = cluster.SimHost.run, peer_api.PeerClient._call
        meter = self

        def counted_run(host, argv, *args, **kwargs):
            tool, tool_args = cluster.strip_prefixes([str(a) for a in argv])
            if is_drbd_command(tool, tool_args):
                meter._add(meter._commands, host.name)
            return run(host, argv, *args, **kwargs)

        def counted_call(client, verb, *args, **kwargs):
            meter._add(meter._requests, verb)
            start = time.monotonic()
            try:
                return call(client, verb, *args, **kwargs)
            finally:
                meter._add_wait(time.monotonic() - start)

        self._saved = (run, call)
        cluster.SimHost.run = counted_run
        peer_api.PeerClient._call = counted_call

    def uninstall(self):
        """Put the original methods back."""
        if self._saved is not None:
            cluster.SimHost.run, peer_api.PeerClient._call = self._saved
            self._saved = None

    def _add(self, counter, key):
        with self._lock:
            if self._active:
                counter[key] += 1

    def _add_wait(self, seconds):
        with self._lock:
            if self._active:
                self._peer_seconds += seconds

    def measure(self, func, *args, **kwargs):
        """Run ``func``; returns its Count (func's result is dropped)."""
        with self._lock:
            self._commands.clear()
            self._requests.clear()
            self._peer_seconds = 0.0
            self._active = True
        start = time.monotonic()
        try:
            func(*args, **kwargs)
        finally:
            seconds = time.monotonic() - start
            with self._lock:
                self._active = False
        return Count(commands=dict(self._commands),
                     requests=dict(self._requests), seconds=seconds,
                     peer_seconds=self._peer_seconds)


def naive_switchover(local, peer, names):
    """Per volume: demote here, then promote on the peer, sequentially."""
    for name in names:
        local.demote(name)
        peer.promote(name)


def naive_promote(local, names):
    """Per volume: promote here (the peer is dead), sequentially."""
    for name in names:
        local.promote(name)


class Bench(object):
    """One lab of two simulated hosts with ``size`` volumes on hci-0001."""

    def __init__(self, size, meter, say=print, vg_size_gib=None):
        self.size = size
        self.meter = meter
        self.say = say
        self.state = tempfile.mkdtemp(prefix='ev3-bench-')
        self.lab = harness.Lab(hosts=2, drbd_version='8.4.11',
                               lvm_type='thin', state_dir=self.state,
                               vg_size_gib=vg_size_gib or max(100, 4 * size))
        self.routing = harness.sim.BrickRouting(self.lab.cluster)
        self.names = []

    @property
    def one(self):
        return self.lab.node(0)

    @property
    def two(self):
        return self.lab.node(1)

    @contextlib.contextmanager
    def running(self):
        """Start the lab; stop every peer API and clean up on the way out."""
        self.routing.setUp()
        try:
            self.lab.start()
            yield self
        finally:
            try:
                self.lab.stop()
            finally:
                self.routing.cleanUp()
                shutil.rmtree(self.state, ignore_errors=True)

    def populate(self):
        """Runbook step 1 (hci-0002 standby), then N thin volumes."""
        self.two.driver.failover_host(self.lab.ctx, [],
                                      secondary_id=PRIMARY_ID)
        start = time.monotonic()
        step = max(1, self.size // 10)
        for i in range(self.size):
            volume = self.lab.volume(size=1)
            self.one.driver.create_volume(volume)
            self.names.append(volume.name)
            if (i + 1) % step == 0 or i + 1 == self.size:
                self.say('  N=%d: created %d/%d volumes (%.0f s)' % (
                    self.size, i + 1, self.size, time.monotonic() - start))
        self.expect(one='Primary', two='Secondary')

    def expect(self, one=None, two=None):
        """Fail loudly unless every volume has the role given per host."""
        for node, role in ((self.one, one), (self.two, two)):
            if role is None:
                continue
            roles = node.roles()
            wrong = sorted(n for n in self.names if roles.get(n) != role)
            if wrong:
                raise RuntimeError('%d volume(s) are not %s on %s, e.g. %s' %
                                   (len(wrong), role, node.name, wrong[0]))

    def back_to_one(self):
        """Primary role back to hci-0001 (not measured)."""
        self.two.driver.agent.demote_many(self.names)
        self.one.driver.agent.promote_many(self.names)
        self.expect(one='Primary', two='Secondary')

    def switchover(self):
        """Scenario B, batched then naive, from hci-0001 Primary."""
        batched = self.meter.measure(
            self.one.driver.failover_host, self.lab.ctx, [],
            secondary_id=STANDBY_ID)
        self.expect(one='Secondary', two='Primary')
        # Not measured: hci-0001 takes its role back through the driver.
        self.one.driver.failover_host(self.lab.ctx, [], secondary_id='default')
        self.expect(one='Primary', two='Secondary')
        naive = self.meter.measure(
            naive_switchover, self.one.driver.agent,
            self.one.driver.roles.peers[STANDBY_ID], self.names)
        self.expect(one='Secondary', two='Primary')
        self.back_to_one()
        return Row(self.size, SWITCHOVER, batched, naive)

    def disaster(self):
        """Scenario A, batched then naive, from hci-0001 Primary."""
        self.one.crash()
        batched = self.meter.measure(
            self.two.driver.failover_host, self.lab.ctx, [],
            secondary_id='default')
        self.expect(two='Primary')
        # Not measured: hci-0001 returns as standby, resyncs, is Primary
        # again, and crashes again.
        self.one.restart(active_backend_id=STANDBY_ID)
        self.lab.cluster.finish_syncs()
        self.back_to_one()
        self.one.crash()
        naive = self.meter.measure(naive_promote, self.two.driver.agent,
                                   self.names)
        self.expect(two='Primary')
        return Row(self.size, DISASTER, batched, naive)


def run_size(size, say=print):
    """Both scenarios at ``size`` volumes; returns [Row, Row]."""
    meter = Meter()
    bench = Bench(size, meter, say=say)
    meter.install()
    try:
        with bench.running():
            bench.populate()
            rows = [bench.switchover()]
            say('  N=%d: switchover measured' % size)
            rows.append(bench.disaster())
            say('  N=%d: disaster measured' % size)
            return rows
    finally:
        meter.uninstall()


HEADER = ('%6s  %-10s | %9s %9s %8s | %9s %9s %8s | %8s %8s %8s' % (
    'N', 'scenario', 'DRBD cmd', 'peer req', 'wall s', 'naive cmd',
    'naive req', 'naive s', 'cmd x', 'req x', 'time x'))


def _ratio(batched, naive):
    return '%.4f' % (batched / naive) if naive else '-'


def format_row(row):
    """One line of the table; ratios are batched / naive."""
    b, n = row.batched, row.naive
    return ('%6d  %-10s | %9d %9d %8.2f | %9d %9d %8.2f | %8s %8s %8s' % (
        row.size, row.scenario, b.drbd_commands, b.peer_requests, b.seconds,
        n.drbd_commands, n.peer_requests, n.seconds,
        _ratio(b.drbd_commands, n.drbd_commands),
        _ratio(b.peer_requests, n.peer_requests),
        _ratio(b.seconds, n.seconds)))


def format_detail(row):
    """Per host DRBD commands and per verb requests of one row."""
    def part(count):
        hosts = ' '.join('%s=%d' % kv for kv in sorted(count.commands.items()))
        verbs = ' '.join('%s=%d' % kv for kv in sorted(count.requests.items()))
        return 'cmds[%s] reqs[%s] in peer calls %.2f s' % (
            hosts or '-', verbs or '-', count.peer_seconds)
    return '%6d  %-10s | batched %s | naive %s' % (
        row.size, row.scenario, part(row.batched), part(row.naive))


def database(folder):
    """A throw-away Cinder database and lock path, as in tools/demo.py."""
    from cinder.db import migration
    harness.CONF.set_override('connection', 'sqlite:///%s/cinder.sqlite'
                              % folder, group='database')
    migration.db_sync()
    harness.CONF.set_override('lock_path', folder, group='oslo_concurrency')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='10,100,1000',
                        help='comma-separated numbers of volumes '
                             '(default: 10,100,1000)')
    parser.add_argument('--verbose', action='store_true',
                        help="show the driver's log")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    except ValueError:
        parser.error('--sizes takes integers such as 10,100,1000')
    if not sizes or min(sizes) < 1:
        parser.error('--sizes takes integers >= 1')
    level = logging.INFO if args.verbose else logging.CRITICAL
    logging.basicConfig(level=level)
    for name in ('cinder', 'oslo_db', 'alembic'):
        logging.getLogger(name).setLevel(level)
    folder = tempfile.mkdtemp(prefix='ev3-bench-db-')
    rows = []
    try:
        database(folder)
        for size in sizes:
            rows.extend(run_size(size))
            sys.stdout.flush()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print('\nbatched = driver.failover_host; naive = one call per volume; '
          'x = batched / naive\n')
    print(HEADER)
    print('-' * len(HEADER))
    for row in rows:
        print(format_row(row))
    print('\nDetail (DRBD commands per host, peer requests per verb, '
          'wall time spent in peer calls):')
    for row in rows:
        print(format_detail(row))
    return 0


if __name__ == '__main__':
    sys.exit(main())
