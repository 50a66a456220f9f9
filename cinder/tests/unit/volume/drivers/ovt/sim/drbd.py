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
"""The simulated DRBD kernel: resources, connections, roles, resync.

Kernel state of an up resource lives in the host's ``drbd`` document; the
on-disk meta data (generation UUIDs, out-of-sync bitmaps per peer, disk
state flags, last agreed size) lives with the backing LV, so it survives
``down``, crashes and renames, and dies with ``lvremove``.

Connections follow DRBD's handshake: equal current UUIDs need no resync; a
peer whose bitmap UUID is the other's current UUID is newer and becomes
SyncSource for the blocks written while apart; diverged data is split brain
(resolved only by the after-sb policies or ``--discard-my-data``, else both
sides go StandAlone); a Primary never becomes SyncTarget.  Resync progresses
with the cluster clock at the SyncTarget's ``resync-rate`` and copies the
data when it completes.

A device resyncs from one source at a time (DRBD 9 with several peers):
another peer that would also be its SyncSource is connected as
PausedSyncS/PausedSyncT (``resync-suspended:dependency``) and nothing is
copied for it.  When the running resync completes (or, at the start of the
next transaction, once it is gone because its source disconnected) the
paused pair is decided again from the generation UUIDs, exactly like a
fresh handshake: usually the target now has the same current UUID as the
other peer and the pair just goes Established; otherwise the remaining
difference is resynced.  A peer that receives a replicated write while in
sync with the writer follows the writer's new current UUID and records the
write in its own bitmap for the peers both of them miss, so it can later
serve as the source of a delta resync instead of a full one.
"""

import random

from cinder.tests.unit.volume.drivers.ovt.sim import content
from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import state

JUST_CREATED = '0000000000000004'
BLOCK = content.BLOCK
CONSISTENT = ('UpToDate', 'Consistent', 'Outdated')
_RANDOM = random.SystemRandom()


def md_bytes(lv_bytes, peers):
    """Internal meta data at the end of an LV: 36 KiB + bitmap per peer."""
    bits = -(-lv_bytes // BLOCK)
    words = -(-bits // 64) * 64
    bitmap = -(-(words // 8 * peers) // BLOCK) * BLOCK
    return 36 * 1024 + bitmap


def usable_bytes(lv_bytes, peers):
    """What a DRBD device exposes from an LV with internal meta data."""
    return max(0, (lv_bytes - md_bytes(lv_bytes, peers)) // BLOCK * BLOCK)


def new_md(lv_bytes, peers):
    return {'uuid': JUST_CREATED, 'hist': [], 'bm': {}, 'oos': {},
            'state': 'Inconsistent', 'lv_bytes': lv_bytes, 'peers': peers,
            'la': 0, 'sync_from': None}


def new_uuid():
    return '%016X' % (_RANDOM.getrandbits(64) | 0x10)


class Kernel(object):
    """DRBD operations of one host (``ctx.host``) within a transaction."""

    def __init__(self, ctx):
        self.ctx = ctx

    # access ---------------------------------------------------------------

    def res(self, name):
        return self.ctx.kres().get(name)

    def md(self, name, ctx=None, write=True):
        ctx = ctx or self.ctx
        kres = ctx.kres()[name]
        return ctx.lvs()[kres['lv']]['md']

    def content(self, ctx, kres):
        return ctx.tx.content(ctx.host, kres['vg'], kres['lv'])

    def capacity(self, ctx, name):
        kres = ctx.kres()[name]
        md = self.md(name, ctx, write=False)
        cap = usable_bytes(md['lv_bytes'], md['peers'])
        return min(cap, kres['conf']['usize']) if kres['conf']['usize'] \
            else cap

    def peer(self, name, node, ctx=None):
        """(ctx, name, kres, entry) of the connected peer ``node``."""
        ctx = ctx or self.ctx
        entry = ctx.kres()[name]['peers'][node]
        if not entry['conn']:
            return None
        pctx = ctx.on(node)
        pname = entry['pres']
        return pctx, pname, pctx.kres()[pname]

    def open_count(self, name, ctx=None):
        return devices.holders(ctx or self.ctx, 'drbd:%s' % name)

    def _set_disk(self, ctx, name, disk):
        kres = ctx.kres()[name]
        kres['disk'] = disk
        md = self.md(name, ctx)
        md['state'] = {'UpToDate': 'Consistent'}.get(disk, disk)

    # connections ----------------------------------------------------------

    def try_connect(self, name):
        ctx = self.ctx
        kres = self.res(name)
        for node, entry in sorted(kres['peers'].items()):
            if entry['conn'] or not entry['want'] or not ctx.alive(node) \
                    or ctx.partitioned(node):
                continue
            pctx = ctx.on(node)
            pk = pctx.kres().get(name)
            pentry = pk and pk['peers'].get(ctx.host)
            if not pentry or not pentry['want'] or pentry['conn']:
                continue
            mine, theirs = kres['conf'], pk['conf']
            if mine['peers'][node]['addr'] != theirs['addr'] or \
                    theirs['peers'][ctx.host]['addr'] != mine['addr'] or \
                    mine['peers'][node]['node_id'] != theirs['node_id'] or \
                    theirs['peers'][ctx.host]['node_id'] != mine['node_id']:
                continue
            self._handshake(name, node, pctx, name)

    def _standalone(self, name, pctx, pname, reason):
        for ctx, rname, node in ((self.ctx, name, pctx.host),
                                 (pctx, pname, self.ctx.host)):
            entry = ctx.kres()[rname]['peers'][node]
            entry.update(want=False, conn=False, repl='Off', pres=None,
                         sync=None, discard=False)
            ctx.log('%s: %s' % (rname, reason))

    def _handshake(self, name, node, pctx, pname):
        ctx = self.ctx
        kx, ky = ctx.kres()[name], pctx.kres()[pname]
        if kx['conf']['protocol'] != ky['conf']['protocol']:
            return self._standalone(name, pctx, pname,
                                    'incompatible communication protocols')
        if kx['role'] == ky['role'] == 'Primary' and not (
                kx['conf']['two_pri'] and ky['conf']['two_pri']):
            return self._standalone(name, pctx, pname, 'Split-Brain detected,'
                                    ' both are Primary, dropping connection!')
        caps = [self.capacity(ctx, name), self.capacity(pctx, pname)]
        size = min(caps)
        for c, k in ((ctx, kx), (pctx, ky)):
            if k['disk'] in CONSISTENT and 0 < size < k['size']:
                return self._standalone(name, pctx, pname,
                                        "The peer's disk size is too small!")
        source, ranges = self._verdict(name, node, pctx, pname)
        if source == 'standalone':
            return self._standalone(name, pctx, pname, ranges)
        for c, n, other, oname in ((ctx, name, pctx.host, pname),
                                   (pctx, pname, ctx.host, name)):
            k = c.kres()[n]
            k['peers'][other].update(conn=True, repl='Established',
                                     pres=oname, pdisk=None, sync=None,
                                     discard=False)
            k['size'] = size
            self.md(n, c)['la'] = size
            c.log('%s: Handshake to peer %s successful: Agreed network '
                  'protocol version 101' % (n, other))
        self._apply(name, pctx, pname, source, ranges)

    def _verdict(self, name, node, pctx, pname):
        """Like ``_decide``, but a Primary that would be target refuses."""
        ctx = self.ctx
        mx, my = self.md(name), self.md(pname, pctx)
        source, ranges = self._decide(name, node, pctx, pname, mx, my)
        if source is None or source == 'standalone':
            return source, ranges
        target = (pctx, pname) if source is ctx else (ctx, name)
        if target[0].kres()[target[1]]['role'] == 'Primary':
            return 'standalone', 'I shall become SyncTarget, but I am primary!'
        return source, ranges

    def _apply(self, name, pctx, pname, source, ranges):
        """Act on the verdict for the connected pair: in sync, or resync."""
        ctx = self.ctx
        if source is not None:
            target = (pctx, pname) if source is ctx else (ctx, name)
            self.start_sync((source, name if source is ctx else pname),
                            target, ranges)
            return
        for c, n in ((ctx, name), (pctx, pname)):
            if c.kres()[n]['disk'] in CONSISTENT:
                self._set_disk(c, n, 'UpToDate')
        mx, my = self.md(name), self.md(pname, pctx)
        if ctx.kres()[name]['disk'] == pctx.kres()[pname]['disk'] == \
                'UpToDate' and mx['uuid'] == my['uuid']:
            # Same data generation: nothing is out of sync between them.
            for m, other in ((mx, pctx.host), (my, ctx.host)):
                m['bm'].pop(other, None)
                m['oos'].pop(other, None)

    def _settle(self, name, node):
        """Decide an already connected pair again (after a paused resync)."""
        ctx = self.ctx
        found = self.peer(name, node)
        if found is None:
            return
        pctx, pname, pk = found
        for k, other in ((ctx.kres()[name], node), (pk, ctx.host)):
            k['peers'][other].update(repl='Established', sync=None)
        source, ranges = self._verdict(name, node, pctx, pname)
        if source == 'standalone':
            return self._standalone(name, pctx, pname, ranges)
        self._apply(name, pctx, pname, source, ranges)

    def _decide(self, name, node, pctx, pname, mx, my):
        """(source ctx or None, ranges) or ('standalone', reason)."""
        ctx = self.ctx
        dx = ctx.kres()[name]['disk']
        dy = pctx.kres()[pname]['disk']
        if dx not in CONSISTENT and dy not in CONSISTENT:
            return None, None
        if dx not in CONSISTENT:
            return pctx, self._resume(mx, my, pctx.host, ctx.host)
        if dy not in CONSISTENT:
            return ctx, self._resume(my, mx, ctx.host, pctx.host)
        ux, uy = mx['uuid'], my['uuid']
        changes = content.iv_union(mx['oos'].get(pctx.host, []),
                                   my['oos'].get(ctx.host, []))
        if ux == uy:
            return None, None
        if mx['bm'].get(pctx.host) == uy:
            return ctx, changes
        if my['bm'].get(ctx.host) == ux:
            return pctx, changes
        if uy in mx['hist']:
            return ctx, None
        if ux in my['hist']:
            return pctx, None
        known_x = set(mx['hist']) | set(mx['bm'].values())
        known_y = set(my['hist']) | set(my['bm'].values())
        if not known_x & known_y:
            return 'standalone', 'Unrelated data, aborting!'
        if mx['bm'].get(pctx.host) != my['bm'].get(ctx.host):
            changes = None
        loser = self._split_brain(name, pctx, pname, mx, my)
        if loser is None:
            ctx.log('%s: Split-Brain detected but unresolved, dropping '
                    'connection!' % name)
            return 'standalone', 'Split-Brain detected, dropping connection!'
        return (pctx if loser is ctx else ctx), changes

    def _resume(self, target_md, source_md, source_host, target_host):
        sync_from = target_md.get('sync_from')
        if not sync_from or sync_from['peer'] != source_host:
            return None
        return content.iv_union(sync_from['ranges'],
                                source_md['oos'].get(target_host, []))

    def _split_brain(self, name, pctx, pname, mx, my):
        """The ctx whose changes are discarded, or None (disconnect)."""
        ctx = self.ctx
        kx, ky = ctx.kres()[name], pctx.kres()[pname]
        ex, ey = kx['peers'][pctx.host], ky['peers'][ctx.host]
        if ex['discard'] != ey['discard']:
            return ctx if ex['discard'] else pctx
        primaries = [c for c, k in ((ctx, kx), (pctx, ky))
                     if k['role'] == 'Primary']
        policy = kx['conf']['sb'][len(primaries)]
        cx = content.iv_count(mx['oos'].get(pctx.host, []))
        cy = content.iv_count(my['oos'].get(ctx.host, []))
        zero = pctx if cy == 0 else (ctx if cx == 0 else None)
        least = None if cx == cy else (ctx if cx < cy else pctx)
        if len(primaries) == 0:
            return {'discard-zero-changes': zero,
                    'discard-least-changes': least,
                    'discard-local': ctx,
                    'discard-remote': pctx}.get(policy)
        if len(primaries) == 1:
            secondary = pctx if primaries[0] is ctx else ctx
            if policy == 'discard-secondary':
                return secondary
            if policy == 'consensus':
                zero_pick = {'discard-zero-changes': zero,
                             'discard-least-changes': least}.get(
                    kx['conf']['sb'][0])
                return secondary if zero_pick is secondary else None
        return None

    def drop(self, name, node, outdate_peer=False, ctx=None):
        """Lose the connection of ``name`` to ``node`` on both sides."""
        ctx = ctx or self.ctx
        found = self.peer(name, node, ctx)
        if found is None:
            return
        pctx, pname, pk = found
        for c, n, other in ((ctx, name, node), (pctx, pname, ctx.host)):
            entry = c.kres()[n]['peers'][other]
            if entry['sync'] or entry['repl'].startswith('Paused'):
                self._unindex(c, n, other)
            entry.update(conn=False, repl='Off', pres=None, sync=None,
                         pdisk=None)
            c.log('%s: conn( Connected -> Unconnected ) peer %s' % (n, other))
        if outdate_peer and pk['disk'] in ('UpToDate', 'Consistent'):
            self._set_disk(pctx, pname, 'Outdated')
            ctx.kres()[name]['peers'][node]['pdisk'] = 'Outdated'

    # resync ---------------------------------------------------------------

    def _key(self, src, dst):
        return '%s|%s|%s|%s' % (src[0].host, src[1], dst[0].host, dst[1])

    @staticmethod
    def _paused(tx, write=False):
        """{key: True} of the resyncs waiting for another one to finish."""
        return tx.cluster(write=write).setdefault('paused', {})

    def _unindex(self, ctx, name, other):
        """Forget running and paused resyncs between ``name`` and ``other``."""
        for index in (ctx.tx.cluster(write=True)['syncs'],
                      self._paused(ctx.tx, write=True)):
            for key in list(index):
                h1, r1, h2, r2 = key.split('|')
                if (h1, r1, h2) == (ctx.host, name, other) or \
                        (h2, r2, h1) == (ctx.host, name, other):
                    del index[key]

    @staticmethod
    def syncing_from(ctx, name):
        """The peer ``name`` on ``ctx.host`` is SyncTarget of, or None."""
        for node, entry in sorted(ctx.kres()[name]['peers'].items()):
            if entry['conn'] and entry['sync'] and \
                    entry['repl'] == 'SyncTarget':
                return node
        return None

    def start_sync(self, src, dst, ranges):
        """Resync ``dst`` from ``src``, or pause if ``dst`` already syncs."""
        (sctx, sname), (dctx, dname) = src, dst
        sk = sctx.kres()[sname]
        dk = dctx.kres()[dname]
        self._unindex(sctx, sname, dctx.host)
        busy = self.syncing_from(dctx, dname)
        if busy is not None:
            sk['peers'][dctx.host].update(repl='PausedSyncS', sync=None)
            dk['peers'][sctx.host].update(repl='PausedSyncT', sync=None)
            self._paused(sctx.tx, write=True)[self._key(src, dst)] = True
            dctx.log('%s: repl( Established -> PausedSyncT ) peer %s: '
                     'resync-suspended dependency (SyncTarget of %s)'
                     % (dname, sctx.host, busy))
            return
        nblocks = sk['size'] // BLOCK
        ranges = content.iv_clip([[0, nblocks]] if ranges is None else ranges,
                                 nblocks)
        if sk['disk'] != 'UpToDate':
            self._set_disk(sctx, sname, 'UpToDate')
        self._set_disk(dctx, dname, 'Inconsistent')
        self.md(dname, dctx)['sync_from'] = {'peer': sctx.host,
                                             'ranges': ranges}
        total = content.iv_count(ranges)
        info = {'total': total, 'start': sctx.tx.now,
                'rate': max(1, dk['conf']['rate'])}
        sk['peers'][dctx.host].update(repl='SyncSource', sync=dict(info))
        dk['peers'][sctx.host].update(repl='SyncTarget', sync=dict(info))
        sctx.log('%s: Began resync as SyncSource (will sync %d KB [%d bits '
                 'set]).' % (sname, total * 4, total))
        key = self._key(src, dst)
        sctx.tx.cluster(write=True)['syncs'][key] = info
        if total == 0:
            self.complete_sync(key)

    def complete_sync(self, key):
        tx = self.ctx.tx
        syncs = tx.cluster(write=True)['syncs']
        syncs.pop(key, None)
        shost, sname, dhost, dname = key.split('|')
        sctx, dctx = self.ctx.on(shost), self.ctx.on(dhost)
        sk = sctx.kres().get(sname)
        dk = dctx.kres().get(dname)
        if sk is None or dk is None:
            return
        smd, dmd = self.md(sname, sctx), self.md(dname, dctx)
        src, dst = self.content(sctx, sk), self.content(dctx, dk)
        limit = min(sk['size'], dk['size']) // BLOCK
        sync_from = dmd.get('sync_from')
        if sync_from and sync_from['peer'] == shost:
            ranges = sync_from['ranges']
        else:
            # Not the resync the target remembers: copy everything.
            ranges = [[0, limit]]
        for start, end in content.iv_clip(ranges, limit):
            dst.copy_from(src, start, start, end - start)
        dmd.update(uuid=smd['uuid'], hist=list(smd['hist']), sync_from=None)
        dmd['bm'].pop(shost, None)
        dmd['oos'].pop(shost, None)
        smd['bm'].pop(dhost, None)
        smd['oos'].pop(dhost, None)
        self._set_disk(dctx, dname, 'UpToDate')
        sk['peers'][dhost].update(repl='Established', sync=None)
        dk['peers'][shost].update(repl='Established', sync=None)
        sctx.log('%s: Resync done (total 1 sec; paused 0 sec)' % sname)
        dctx.log('%s: Resync done (total 1 sec; paused 0 sec)' % dname)
        self.unpause(dhost, dname)

    def unpause(self, host=None, name=None):
        """Decide again the paused resyncs whose target no longer syncs.

        Only those of target ``name`` on ``host`` when given, else all.
        """
        paused = self._paused(self.ctx.tx)
        for key in sorted(paused):
            shost, _sname, dhost, dname = key.split('|')
            if host is not None and (dhost, dname) != (host, name):
                continue
            dctx = self.ctx.on(dhost)
            dk = dctx.kres().get(dname)
            if dk is not None and self.syncing_from(dctx, dname):
                continue
            self._paused(self.ctx.tx, write=True).pop(key, None)
            entry = dk and dk['peers'].get(shost)
            if entry and entry['conn'] and entry['repl'] == 'PausedSyncT':
                Kernel(dctx)._settle(dname, shost)

    def advance(self):
        """Complete every resync whose time has come; resume paused ones."""
        tx = self.ctx.tx
        for key, info in sorted(tx.cluster()['syncs'].items()):
            if (tx.now - info['start']) * info['rate'] >= \
                    info['total'] * BLOCK:
                self.complete_sync(key)
        if self._paused(tx):
            self.unpause()

    @staticmethod
    def sync_done(info, now):
        """Blocks resynced so far of a running sync."""
        done = int(max(0.0, now - info['start']) * info['rate'] // BLOCK)
        return min(info['total'], done)

    # data -----------------------------------------------------------------

    def write(self, name, start, end, apply):
        """Write blocks [start, end) of device ``name`` with ``apply``."""
        ctx = self.ctx
        kres = ctx.kres()[name]
        md = self.md(name)
        apply(self.content(ctx, kres))
        kres['stats']['dw'] += (end - start) * 4
        rotate, mirrors, missing = [], [], []
        before = md['uuid']
        for node, entry in sorted(kres['peers'].items()):
            found = self.peer(name, node)
            if found is not None:
                pctx, pname, pk = found
                apply(self.content(pctx, pk))
                pk['stats']['nr'] += (end - start) * 4
                kres['stats']['ns'] += (end - start) * 4
                mirrors.append(found)
                continue
            missing.append(node)
            if md['bm'].get(node) is None:
                rotate.append(node)
            md['oos'][node] = content.iv_add(md['oos'].get(node, []),
                                             start, end)
        if rotate:
            for node in rotate:
                md['bm'][node] = md['uuid']
            md['hist'] = ([md['uuid']] + md['hist'])[:8]
            md['uuid'] = new_uuid()
        for pctx, pname, pk in mirrors:
            self._mirror_write(pctx, pname, pk, before, md, missing,
                               start, end)

    def _mirror_write(self, pctx, pname, pk, before, md, missing, start,
                      end):
        """An in-sync peer that got a write follows the writer's UUIDs."""
        pmd = self.md(pname, pctx)
        if pk['disk'] != 'UpToDate' or pmd['uuid'] != before:
            return
        for node in missing:
            if node not in pk['peers'] or \
                    self.peer(pname, node, pctx) is not None:
                continue
            if pmd['bm'].get(node) is None:
                # Same data as the writer: the same changes for ``node``.
                pmd['bm'][node] = md['bm'][node]
                pmd['oos'][node] = [list(r) for r in md['oos'][node]]
            else:
                pmd['oos'][node] = content.iv_add(
                    pmd['oos'].get(node, []), start, end)
        if md['uuid'] != before:
            pmd.update(uuid=md['uuid'], hist=list(md['hist']))


def state_error(ctx, name, minor, code, text, cmd, exit_code=11, who=None,
                info=''):
    who = who or (name if ctx.drbd9 else str(minor))
    tool = 'drbdsetup' if ctx.drbd9 else 'drbdsetup-84'
    extra = 'additional info from kernel:\n%s\n' % info if info else ''
    raise state.SimError(exit_code, '%s: State change failed: (%d) %s\n'
                                    "%sCommand '%s %s' terminated with exit "
                                    'code %d\n' % (who, code, text, extra,
                                                   tool, cmd, exit_code))


def failure(ctx, name, minor, code, text, cmd, info=''):
    who = name if ctx.drbd9 else str(minor)
    tool = 'drbdsetup' if ctx.drbd9 else 'drbdsetup-84'
    extra = 'additional info from kernel:\n%s\n' % info if info else ''
    raise state.SimError(10, "%s: Failure: (%d) %s\n%sCommand '%s %s' "
                             'terminated with exit code 10\n'
                         % (who, code, text, extra, tool, cmd))
