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
"""The simulated cluster: hosts, faults, and the executor of each host.

``SimCluster`` keeps all hosts' state under ``state_dir`` (see ``state``) so
several OS processes can share it; ``SimHost.execute`` has the semantics of
``oslo_concurrency.processutils.execute`` and runs the simulated tools.
"""

import contextlib
import errno
import os
import re
import time

from oslo_concurrency import processutils
from oslo_utils import strutils

from cinder.tests.unit.volume.drivers.ovt.sim import blockio
from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import drbd
from cinder.tests.unit.volume.drivers.ovt.sim import drbdadm
from cinder.tests.unit.volume.drivers.ovt.sim import drbdstatus
from cinder.tests.unit.volume.drivers.ovt.sim import extents
from cinder.tests.unit.volume.drivers.ovt.sim import lio
from cinder.tests.unit.volume.drivers.ovt.sim import lvm
from cinder.tests.unit.volume.drivers.ovt.sim import lvmreport
from cinder.tests.unit.volume.drivers.ovt.sim import resfiles
from cinder.tests.unit.volume.drivers.ovt.sim import state

ROOT_HELPER_PREFIX = 'ev3-sim:'
_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
_ENV_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
_BIN_DIRS = ('/sbin', '/usr/sbin', '/bin', '/usr/bin', '/usr/local/sbin',
             '/usr/local/bin')
_LVM_TOOLS = {'lvcreate': lvm.lvcreate, 'lvremove': lvm.lvremove,
              'lvextend': lvm.lvextend, 'lvreduce': lvm.lvreduce,
              'lvchange': lvm.lvchange,
              'lvrename': lvm.lvrename, 'lvconvert': lvm.lvconvert}
_REPORTS = ('lvs', 'vgs', 'pvs', 'lvdisplay')
_EXECUTE_KWARGS = {'cwd', 'process_input', 'env_variables', 'check_exit_code',
                   'delay_on_retry', 'attempts', 'run_as_root',
                   'root_helper', 'shell', 'loglevel', 'log_errors',
                   'binary', 'on_execute', 'on_completion', 'preexec_fn',
                   'prlimit', 'python_exec', 'timeout'}


class HostDown(Exception):
    """The simulated host is crashed."""


def strip_prefixes(argv):
    """(tool, args) of an argv after ``env VAR=..`` / ``ionice`` / paths."""
    argv = list(argv)
    if argv and argv[0] in ('env', '/usr/bin/env'):
        argv = argv[1:]
        while argv and _ENV_RE.match(argv[0]):
            argv = argv[1:]
    if argv and argv[0] == 'ionice':
        argv = argv[1:]
        while argv and argv[0].startswith('-'):
            argv = argv[2:] if argv[0] in ('-c', '-n') else argv[1:]
    if argv and os.path.dirname(argv[0]) in _BIN_DIRS:
        argv[0] = os.path.basename(argv[0])
    if not argv:
        return '', []
    return argv[0], argv[1:]


def dispatch(ctx, tool, args):
    """Run one simulated tool; returns (stdout, stderr) or raises SimError."""
    if tool == 'lvm':
        if args == ['version']:
            return lvm.VERSION_TEXT, ''
        if args and (args[0] in _REPORTS or args[0] in _LVM_TOOLS):
            tool, args = args[0], args[1:]
        else:
            raise state.SimError(3, '  sim: lvm %s is not simulated\n'
                                 % ' '.join(args))
    if tool in _REPORTS or tool in _LVM_TOOLS:
        if not ctx.as_root:
            raise state.SimError(5, lvm._NONROOT)
        if tool in _REPORTS:
            return lvmreport.report(ctx, tool, args)
        return _LVM_TOOLS[tool](ctx, args)
    simple = {'drbdadm': drbdadm.main, 'drbdsetup': drbdadm.drbdsetup,
              'cinder-rtstool': lio.main, 'blockdev': blockio.blockdev,
              'dd': blockio.dd, 'cat': blockio.cat}
    if tool in simple:
        return simple[tool](ctx, args)
    raise state.SimError(127, 'sim: %s: command not found (not simulated)\n'
                         % (tool or "''"))


class ManualClock(object):
    """A clock that moves only when a test says so.

    DRBD resynchronisation progresses with the cluster's clock, so with
    this one a test never depends on how fast the machine runs it.
    """

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        """Let ``seconds`` of simulated time pass."""
        self.now += seconds


class SimCluster(object):
    """Simulated storage hosts sharing one state directory."""

    def __init__(self, state_dir, clock=time.monotonic):
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = state_dir
        self._clock = clock
        self._store = state.Store(state_dir)
        self._lock = state.ClusterLock(os.path.join(state_dir, '.lock'))
        self._conf_cache = {}

    @contextlib.contextmanager
    def transaction(self):
        """Lock the cluster; yield a Transaction saved when the block ends."""
        with self._lock:
            tx = state.Transaction(self._store, self._clock())
            tx.conf_cache = self._conf_cache
            try:
                drbd.Kernel(devices.Ctx(tx, None, True)).advance()
                yield tx
            except state.SimError:
                tx.commit()
                raise
            except BaseException:
                tx.abort()
                raise
            tx.commit()

    def _ctx(self, tx, name):
        if name not in tx.cluster()['hosts']:
            raise KeyError('no simulated host %r' % name)
        return devices.Ctx(tx, name, True)

    # hosts -----------------------------------------------------------------

    def add_host(self, name, vg='volumes', vg_size_gib=100,
                 drbd_version='8.4.11', lvm_thin=False):
        """Add host ``name`` with one VG on one PV; returns its SimHost."""
        if not _NAME_RE.match(name) or not _NAME_RE.match(vg):
            raise ValueError('bad host or VG name %r / %r' % (name, vg))
        if not re.match(r'^(8\.4|9\.\d+)\.\d+$', drbd_version):
            raise ValueError('drbd_version must look like 8.4.11 or 9.2.7')
        with self.transaction() as tx:
            hosts = tx.cluster(write=True)['hosts']
            if name in hosts:
                raise ValueError('host %r exists' % name)
            hosts[name] = {'vg': vg, 'extents': int(vg_size_gib * 256) - 1,
                           'drbd_version': drbd_version,
                           'lvm_thin': bool(lvm_thin), 'alive': True,
                           'pv': '/dev/vdb'}
        os.makedirs(os.path.join(self.state_dir, name, 'etc', 'drbd.d'),
                    exist_ok=True)
        host = SimHost(self, name)
        if lvm_thin:
            with self.transaction() as tx:
                _total, free = lvm.vg_totals(self._ctx(tx, name))
            size = (free * 95 // 100) // lvm.EXTENT * lvm.EXTENT
            size -= lvm.pool_meta(size) * 2
            host.execute('lvcreate', '-T', '-L', '%db' % size,
                         '%s/%s-pool' % (vg, vg), run_as_root=True)
        return host

    def host(self, name):
        """The SimHost ``name``."""
        with self.transaction() as tx:
            self._ctx(tx, name)
        return SimHost(self, name)

    def hosts(self):
        with self.transaction() as tx:
            return sorted(tx.cluster()['hosts'])

    # faults ----------------------------------------------------------------

    def crash(self, name):
        """Lose host ``name``'s kernel state; disks and saved LIO remain."""
        with self.transaction() as tx:
            ctx = self._ctx(tx, name)
            kernel = drbd.Kernel(ctx)
            for res, kres in sorted(ctx.kres().items()):
                for node in sorted(kres['peers']):
                    kernel.drop(res, node)
            for coll in (ctx.kres(), ctx.targets()):
                for key in list(coll):
                    del coll[key]
            ctx.lio(write=True)['holds'] = {}
            tx.cluster(write=True)['hosts'][name]['alive'] = False
            ctx.log('--- crash ---')

    def boot(self, name):
        """Bring crashed host ``name`` back with nothing up."""
        with self.transaction() as tx:
            ctx = self._ctx(tx, name)
            tx.cluster(write=True)['hosts'][name]['alive'] = True
            ctx.log('--- boot ---')

    def partition(self, a, b):
        """Cut the network between hosts ``a`` and ``b``."""
        with self.transaction() as tx:
            ctx = self._ctx(tx, a)
            self._ctx(tx, b)
            pair = sorted([a, b])
            parts = tx.cluster(write=True)['partitions']
            if pair not in parts:
                parts.append(pair)
            kernel = drbd.Kernel(ctx)
            for res, kres in sorted(ctx.kres().items()):
                if b in kres['peers']:
                    kernel.drop(res, b)

    def heal(self, a, b):
        """Restore the network between ``a`` and ``b``; peers reconnect."""
        with self.transaction() as tx:
            ctx = self._ctx(tx, a)
            pair = sorted([a, b])
            parts = tx.cluster(write=True)['partitions']
            if pair in parts:
                parts.remove(pair)
            if ctx.alive(a):
                kernel = drbd.Kernel(ctx)
                for res, kres in sorted(ctx.kres().items()):
                    if b in kres['peers']:
                        kernel.try_connect(res)

    def fail_next(self, host, argv_prefix, stderr='', exit_code=1):
        """Make the next matching command on ``host`` fail once.

        A command matches when its argv, with or without an ``env VAR=..``
        prefix, starts with ``argv_prefix``; it then exits ``exit_code``
        with ``stderr`` and does nothing.
        """
        with self.transaction() as tx:
            self._ctx(tx, host)
            tx.cluster(write=True)['faults'].append(
                {'host': host, 'prefix': [str(a) for a in argv_prefix],
                 'stderr': stderr, 'exit_code': int(exit_code)})

    def finish_syncs(self):
        """Complete every running resync now, and those they unpause."""
        with self.transaction() as tx:
            kernel = drbd.Kernel(devices.Ctx(tx, None, True))
            for _round in range(16):
                keys = sorted(tx.cluster()['syncs'])
                if not keys:
                    break
                for key in keys:
                    kernel.complete_sync(key)


class SimHost(object):
    """One simulated host: an executor plus inspection helpers."""

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.root_helper = ROOT_HELPER_PREFIX + name
        self.resource_files = resfiles.ResourceFiles(
            os.path.join(cluster.state_dir, name, 'etc', 'drbd.d'))

    def __repr__(self):
        return '<SimHost %s>' % self.name

    # commands --------------------------------------------------------------

    def run(self, argv, as_root=True, process_input=None):
        """Run ``argv``; (exit_code, stdout, stderr).  HostDown if crashed."""
        argv = [str(a) for a in argv]
        with self.cluster.transaction() as tx:
            ctx = self.cluster._ctx(tx, self.name)
            if not ctx.alive(self.name):
                raise HostDown(self.name)
            tool, args = strip_prefixes(argv)
            faults = tx.cluster()['faults']
            for fault in faults:
                prefix = fault['prefix']
                if fault['host'] == self.name and (
                        argv[:len(prefix)] == prefix or
                        [tool] + args[:len(prefix) - 1] == prefix):
                    faults.remove(fault)
                    tx.cluster(write=True)
                    return fault['exit_code'], '', fault['stderr']
            ctx.as_root = as_root
            ctx.process_input = process_input
            try:
                out, err = dispatch(ctx, tool, args)
            except state.SimError as exc:
                return exc.exit_code, exc.stdout, exc.stderr
            return 0, out, err

    def execute(self, *cmd, **kwargs):
        """``processutils.execute`` on this host."""
        unknown = set(kwargs) - _EXECUTE_KWARGS
        if unknown:
            raise processutils.UnknownArgumentError(
                'Got unknown keyword args: %r' % sorted(unknown))
        check = kwargs.get('check_exit_code', 0)
        ignore = False
        if isinstance(check, bool):
            ignore, check = not check, [0]
        elif isinstance(check, int):
            check = [check]
        elif check is None:
            check = [0]
        cmd = tuple(str(c) for c in cmd)
        sanitized = strutils.mask_password(' '.join(cmd))
        process_input = kwargs.get('process_input')
        if isinstance(process_input, bytes):
            process_input = process_input.decode('utf-8', 'replace')
        attempts = max(1, int(kwargs.get('attempts', 1)))
        while True:
            attempts -= 1
            try:
                if kwargs.get('shell'):
                    raise state.SimError(127, 'sim: shell=True is not '
                                              'simulated\n')
                code, out, err = self.run(
                    cmd, as_root=bool(kwargs.get('run_as_root')),
                    process_input=process_input)
            except HostDown:
                raise processutils.ProcessExecutionError(
                    exit_code=255, stdout='', cmd=sanitized,
                    stderr='sim: host %s is down (crashed)\n' % self.name,
                    description='Simulated host is down')
            except state.SimError as exc:
                code, out, err = exc.exit_code, exc.stdout, exc.stderr
            if ignore or code in check:
                if kwargs.get('binary'):
                    return out.encode(), err.encode()
                return out, err
            if attempts <= 0:
                raise processutils.ProcessExecutionError(
                    exit_code=code, stdout=strutils.mask_password(out),
                    stderr=strutils.mask_password(err), cmd=sanitized)

    # data ------------------------------------------------------------------

    def _io(self, alive=True):
        return _HostIO(self, alive)

    def write(self, path, offset, data):
        """Write ``data`` at ``offset`` of device ``path`` (DRBD rules)."""
        with self._io() as ctx:
            dev = devices.open_device(ctx, path, write=True)
            blockio.check_range(dev, offset, len(data), path)
            devices.check_io(ctx, dev, path)
            start = offset // blockio.BLOCK
            end = (offset + len(data) - 1) // blockio.BLOCK + 1
            blockio.write_blocks(ctx, dev, start, end,
                                 lambda c: c.write(offset, bytes(data)))

    def read(self, path, offset, length):
        """Read ``length`` bytes at ``offset`` of device ``path``."""
        with self._io() as ctx:
            dev = devices.open_device(ctx, path, write=False)
            blockio.check_range(dev, offset, length, path)
            devices.check_io(ctx, dev, path)
            if dev.kind == 'drbd':
                ctx.kres()[dev.res]['stats']['dr'] += \
                    length // 1024
            return blockio.backing(ctx, dev).read(offset, length)

    def hold(self, path, write=True):
        """Open ``path`` and keep it open (like qemu or a mount)."""
        with self._io() as ctx:
            dev = devices.open_device(ctx, path, write=write)
            holds = ctx.lio(write=True)['holds']
            holds[dev.key] = holds.get(dev.key, 0) + 1

    def release(self, path):
        """Close one ``hold`` of ``path``."""
        with self._io() as ctx:
            dev = devices.resolve(ctx, path)
            holds = ctx.lio(write=True)['holds']
            if holds.get(dev.key):
                holds[dev.key] -= 1
                if not holds[dev.key]:
                    del holds[dev.key]

    def fingerprint(self, path):
        """Digest of the whole content of ``path`` (no open rules)."""
        with self._io() as ctx:
            dev = devices.resolve(ctx, path)
            return blockio.backing(ctx, dev).fingerprint(
                0, dev.size // blockio.BLOCK)

    # inspection ------------------------------------------------------------

    def lvs(self):
        """{name: {size_bytes, thin, origin, type, active, pool}}."""
        with self._io(alive=False) as ctx:
            return {name: {'size_bytes': r['size'],
                           'thin': r['type'] == 'thin',
                           'origin': r.get('origin'), 'type': r['type'],
                           'active': r['active'], 'pool': r.get('pool'),
                           'has_drbd_md': r['md'] is not None}
                    for name, r in sorted(ctx.lvs().items())}

    def lv_extents(self, name):
        """[first PE, count] of LV ``name`` on the PV (thin LVs: none)."""
        with self._io(alive=False) as ctx:
            return [list(seg) for seg in ctx.lvs()[name].get('segs') or ()]

    def stale_signatures(self):
        """Byte offsets on the PV of DRBD magic left on free extents."""
        with self._io(alive=False) as ctx:
            return sorted(block * extents.BLOCK + extents.MAGIC_AT
                          for block in extents.stale(ctx))

    def drbd(self):
        """{res: {minor, role, disk, size_bytes, backing, peers: {...}}}."""
        with self._io(alive=False) as ctx:
            return drbdstatus.summary(ctx)

    def targets(self):
        """{iqn: {path, initiators, portals}} of the live LIO targets."""
        with self._io(alive=False) as ctx:
            return {iqn: {'path': t['path'],
                          'initiators': sorted(t['initiators']),
                          'portals': list(t['portals'])}
                    for iqn, t in sorted(ctx.targets().items())}

    def saved_targets(self):
        """IQNs stored by ``cinder-rtstool save``."""
        with self._io(alive=False) as ctx:
            saved = ctx.lio()['saved']
            return sorted(saved['targets']) if saved else []

    def resource_file_names(self):
        return sorted(self.resource_files.read_all())

    def kernel_log(self):
        with self._io(alive=False) as ctx:
            return list(ctx.drbd()['log'])

    def alive(self):
        with self._io(alive=False) as ctx:
            return ctx.alive(self.name)


class _HostIO(object):
    def __init__(self, host, alive=True):
        self._host = host
        self._alive = alive
        self._cm = None

    def __enter__(self):
        self._cm = self._host.cluster.transaction()
        tx = self._cm.__enter__()
        ctx = self._host.cluster._ctx(tx, self._host.name)
        if self._alive and not ctx.alive(self._host.name):
            self._cm.__exit__(None, None, None)
            raise OSError(errno.EHOSTDOWN, 'Host is down', self._host.name)
        return ctx

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
