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
"""Simulated LVM2 2.03 tools, as Cinder's brick LVM runs them.

Implements ``lvm version``, ``vgs``, ``pvs``, ``lvs``, ``lvdisplay -C``,
``lvcreate`` (linear, thin pool, thin volume, snapshots), ``lvremove``,
``lvextend``, ``lvchange``, ``lvrename`` and ``lvconvert --merge``.  Input
sizes take LVM units (any case is binary; default MiB) and are rounded up to
4 MiB extents; output units follow ``--units`` (lowercase binary, uppercase
SI).  Unknown options are refused the way LVM's parser refuses them.  LVs
take extents of the PV as ``extents`` describes; a new linear LV is zeroed,
so its signatures are wiped (``-W``/``-Z``, ``-y``), and a DRBD superblock
left at its end makes ``lvcreate`` ask and, with no tty, refuse (exit 5).
"""

import hashlib
import math
import re

from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import extents as pv
from cinder.tests.unit.volume.drivers.ovt.sim import state

KiB, MiB, GiB = 1024, 1024 ** 2, 1024 ** 3
EXTENT = pv.EXTENT
VERSION_TEXT = (
    '  LVM version:     2.03.16(2) (2022-05-18)\n'
    '  Library version: 1.02.185 (2022-05-18)\n'
    '  Driver version:  4.47.0\n'
    '  Configuration:   ./configure --build=x86_64-linux-gnu --prefix=/usr '
    '--with-thin=internal --with-cache=internal\n')
_UNITS = {'b': 1, 's': 512, 'k': KiB, 'm': MiB, 'g': GiB, 't': 1024 * GiB,
          'p': 1024 ** 5, 'e': 1024 ** 6}
_NAME_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$')
_NONROOT = ('  WARNING: Running as a non-root user. Functionality may be '
            'unavailable.\n  /run/lock/lvm/P_global:aux: open failed: '
            'Permission denied\n')

# option spec: name -> (canonical, takes_argument)
_COMMON = {'--config': ('config', True), '-y': ('yes', False),
           '--yes': ('yes', False), '-q': ('quiet', False),
           '--quiet': ('quiet', False)}
_REPORT = dict(_COMMON, **{
    '--noheadings': ('noheadings', False), '--noheading': ('noheadings',
                                                           False),
    '--nosuffix': ('nosuffix', False), '--unit': ('units', True),
    '--units': ('units', True), '-o': ('options', True),
    '--options': ('options', True), '--separator': ('separator', True),
    '--readonly': ('readonly', False), '-a': ('all', False),
    '--all': ('all', False), '--ignoreskippedcluster': ('isc', False),
    '-C': ('columns', False), '--columns': ('columns', False)})
_LVCREATE = dict(_COMMON, **{
    '-n': ('name', True), '--name': ('name', True), '-L': ('size', True),
    '--size': ('size', True), '-V': ('vsize', True),
    '--virtualsize': ('vsize', True), '-T': ('thin', False),
    '--thin': ('thin', False), '-s': ('snapshot', False),
    '--snapshot': ('snapshot', False), '--type': ('type', True),
    '-W': ('wipe', True), '--wipesignatures': ('wipe', True),
    '-Z': ('zero', True), '--zero': ('zero', True),
    '--thinpool': ('thinpool', True)})
_LVREMOVE = dict(_COMMON, **{'-f': ('force', False),
                             '--force': ('force', False)})
_LVEXTEND = dict(_COMMON, **{'-L': ('size', True), '--size': ('size', True)})
_LVREDUCE = dict(_LVEXTEND, **{'-f': ('force', False),
                               '--force': ('force', False)})
_LVCHANGE = dict(_COMMON, **{
    '-a': ('activate', True), '--activate': ('activate', True),
    '-K': ('ignoreskip', False), '--ignoreactivationskip': ('ignoreskip',
                                                            False),
    '-k': ('setskip', True), '--setactivationskip': ('setskip', True)})
_LVCONVERT = dict(_COMMON, **{'--merge': ('merge', False)})


def fail(code, message):
    raise state.SimError(code, message)


def parse_args(tool, args, spec):
    """(options dict, positionals) or the LVM parse error."""
    opts, pos = {}, []
    i = 0
    while i < len(args):
        arg = args[i]
        key, value = arg, None
        if arg.startswith('--') and '=' in arg:
            key, value = arg.split('=', 1)
        elif arg.startswith('-') and not arg.startswith('--') and \
                len(arg) > 2 and arg[:2] in spec and spec[arg[:2]][1]:
            key, value = arg[:2], arg[2:]
        if not arg.startswith('-') or arg == '-':
            pos.append(arg)
        elif key in spec:
            name, takes = spec[key]
            if takes and value is None:
                i += 1
                if i >= len(args):
                    fail(3, '  %s: option requires an argument -- %s\n'
                            '  Error during parsing of command line.\n'
                         % (tool, key))
                value = args[i]
            opts[name] = value if takes else True
        else:
            fail(3, "%s: unrecognized option '%s'\n  Error during parsing "
                    "of command line.\n" % (tool, arg))
        i += 1
    return opts, pos


def parse_size(text, default_unit='m'):
    """Bytes for an LVM size argument (e.g. '1g', '94.99g', '1024')."""
    match = re.match(r'^\+?(\d+(?:\.\d*)?)([bBsSkKmMgGtTpPeE]?)$', text)
    if not match:
        fail(3, '  Invalid argument for --size: %s\n  Error during parsing '
                'of command line.\n' % text)
    unit = (match.group(2) or default_unit).lower()
    value = float(match.group(1)) * _UNITS[unit]
    if value <= 0:
        fail(3, '  Size must be larger than zero.\n')
    return int(math.ceil(value))


def extents(size):
    return -(-size // EXTENT)


def human(size):
    for unit in 'ptgmk':
        if size >= _UNITS[unit]:
            return '%.2f %siB' % (size / _UNITS[unit], unit.upper())
    return '%d B' % size


def vg_totals(ctx):
    """(size, free) of the host's VG in bytes."""
    total = ctx.cfg['extents'] * EXTENT
    used = 0
    spare = 0
    for record in ctx.lvs().values():
        if record['type'] in ('linear', 'thin-pool'):
            used += record['size']
        if record['type'] == 'snapshot':
            used += record['cow']
        if record['type'] == 'thin-pool':
            used += record['meta']
            spare = max(spare, record['meta'])
    return total, total - used - spare


def pool_meta(size):
    return max(EXTENT, extents(size // (64 * KiB) * 64) * EXTENT)


def new_record(ctx, kind, size, seed=None, pool=None, origin=None):
    uid = hashlib.sha256(('%s/%s' % (ctx.host, ctx.next_seq())).encode())
    return {'type': kind, 'size': size, 'seed': seed, 'pool': pool,
            'origin': origin, 'active': True, 'skip': False, 'cow': 0,
            'meta': 0, 'md': None, 'merge': False,
            'uuid': uid.hexdigest()[:32]}


def thick_seed(ctx, name):
    return '%s/%s/%s#%d' % (ctx.host, ctx.vg, name, ctx.next_seq())


def split_lv(ctx, text, tool):
    """LV name from 'vg/lv' or '/dev/vg/lv' (VG must be this host's)."""
    parsed = devices.parse_path(text) if text.startswith('/') else None
    if parsed and parsed[0] == 'lv':
        vg, lv = parsed[1], parsed[2]
    elif '/' in text and not text.startswith('/'):
        vg, lv = text.split('/', 1)
    else:
        fail(3, '  %s: Please specify a logical volume path: %s\n'
             % (tool, text))
    if vg != ctx.vg:
        fail(5, '  Volume group "%s" not found\n  Cannot process volume '
                'group %s\n' % (vg, vg))
    return lv


def find_lv(ctx, lv, vg=None):
    record = ctx.lvs().get(lv)
    if record is None:
        fail(5, '  Failed to find logical volume "%s/%s"\n'
             % (vg or ctx.vg, lv))
    return record


def check_name(ctx, name):
    if name.startswith('snapshot') or name.startswith('pvmove'):
        fail(3, '  Names starting "%s" are reserved. Please choose a '
                'different LV name.\n' % name[:8].rstrip('_'))
    if not _NAME_RE.match(name) or name in ('.', '..') or re.search(
            r'_(tmeta|tdata|cmeta|cdata|mimage|mlog|rimage|rmeta|vorigin)',
            name):
        fail(3, '  Logical volume name "%s" is invalid.\n' % name)
    if name in ctx.lvs():
        fail(5, '  Logical Volume "%s" already exists in volume group '
                '"%s"\n' % (name, ctx.vg))


def need_space(ctx, size, pool_style=False):
    _total, free = vg_totals(ctx)
    if size > free:
        _no_space(ctx, free // EXTENT, extents(size), pool_style)


def _no_space(ctx, free, needed, pool_style):
    if pool_style:
        fail(5, '  Insufficient free space: %d extents needed, but only '
                '%d available\n' % (needed, free))
    fail(5, '  Volume group "%s" has insufficient free space (%d '
            'extents): %d required.\n' % (ctx.vg, free, needed))


def place(ctx, size, after=None, pool_style=False):
    """Free extents for ``size`` bytes (LVM's normal policy), not taken."""
    segs = pv.allocate(ctx, extents(size), after)
    if segs is None:
        _no_space(ctx, sum(a[1] for a in pv.free_areas(ctx)),
                  extents(size), pool_style)
    return segs


def _wipe_signatures(ctx, opts, name, segs, size):
    """LVM's signature wipe of a new zeroed LV: stdout, or refusal.

    With wipe_signatures_when_zeroing_new_lvs (on by default) a new LV
    that is zeroed (``-Z y``, the default) is also wiped; ``-W`` decides
    alone when given.  Without ``-y`` and with no tty the answer is no.
    """
    for key in ('wipe', 'zero'):
        if opts.get(key, 'y') not in ('y', 'n'):
            fail(3, '  Invalid argument for --%s: %s\n  Error during '
                    'parsing of command line.\n'
                 % ({'wipe': 'wipesignatures', 'zero': 'zero'}[key],
                    opts[key]))
    if opts.get('wipe', opts.get('zero', 'y')) == 'n':
        return ''
    offset = pv.end_signature(ctx, segs, size)
    if offset is None:
        return ''
    path = '/dev/%s/%s' % (ctx.vg, name)
    if opts.get('yes'):
        pv.wipe_end(ctx, segs, size)
        return '  Wiping drbd signature on %s.\n' % path
    fail(5, 'WARNING: drbd signature detected on %s at offset %d. Wipe it? '
            '[y/n]: [n]\n  Aborted wiping of drbd.\n  1 existing signature '
            'left on the device.\n  Failed to wipe signatures on logical '
            'volume %s/%s.\n  Aborting. Failed to wipe start of new LV.\n'
         % (path, offset, ctx.vg, name))


def rounding_note(requested, size):
    if requested != size:
        return '  Rounding up size to full physical extent %s\n' % human(
            size)
    return ''


def lvcreate(ctx, args):
    opts, pos = parse_args('lvcreate', args, _LVCREATE)
    kind = opts.get('type')
    if kind not in (None, 'linear', 'thin', 'thin-pool', 'snapshot'):
        fail(3, '  sim: lvcreate --type %s is not simulated\n' % kind)
    if len(pos) != 1:
        fail(3, '  Please provide a volume group name\n  Run `lvcreate '
                '--help\' for more information.\n')
    target = pos[0]
    lvs = ctx.lvs()
    if opts.get('snapshot') or kind == 'snapshot':
        return _create_snapshot(ctx, opts, target)
    vg, _sep, lvname = target.partition('/')
    if vg != ctx.vg:
        fail(5, '  Volume group "%s" not found\n  Cannot process volume '
                'group %s\n' % (vg, vg))
    thin = opts.get('thin') or kind in ('thin', 'thin-pool')
    if thin and 'size' in opts and 'vsize' not in opts:
        name = lvname or opts.get('name')
        check_name(ctx, name)
        requested = parse_size(opts['size'])
        size = extents(requested) * EXTENT
        meta = pool_meta(size)
        total = size + meta + max(0, meta - max(
            [r['meta'] for r in lvs.values()] + [0]))
        need_space(ctx, total, pool_style=True)
        segs = place(ctx, total, pool_style=True)
        lvs[name] = new_record(ctx, 'thin-pool', size)
        lvs[name]['meta'] = meta
        pv.take(ctx, name, lvs[name], segs)
        return ('  Logical volume "%s" created.\n' % name,
                rounding_note(requested, size) +
                '  Thin pool volume with chunk size 64.00 KiB can address at '
                'most 15.81 TiB of data.\n')
    if 'vsize' in opts:
        pool = lvname or opts.get('thinpool')
        record = lvs.get(pool)
        if record is None or record['type'] != 'thin-pool':
            fail(5, '  Thin pool %s/%s not found.\n' % (ctx.vg, pool))
        name = opts.get('name')
        if not name:
            fail(3, '  sim: lvcreate without --name is not simulated\n')
        check_name(ctx, name)
        requested = parse_size(opts['vsize'])
        size = extents(requested) * EXTENT
        lvs[name] = new_record(ctx, 'thin', size, pool=pool)
        err = rounding_note(requested, size)
        virtual = sum(r['size'] for r in lvs.values()
                      if r.get('pool') == pool)
        if virtual > record['size']:
            err += ('  WARNING: Sum of all thin volume sizes (%s) exceeds the '
                    'size of thin pool %s/%s (%s).\n'
                    % (human(virtual), ctx.vg, pool, human(record['size'])))
        return '  Logical volume "%s" created.\n' % name, err
    name = opts.get('name') or lvname
    if not name:
        fail(3, '  sim: lvcreate without --name is not simulated\n')
    if 'size' not in opts:
        fail(3, '  Please specify either size or extents.\n')
    check_name(ctx, name)
    requested = parse_size(opts['size'])
    size = extents(requested) * EXTENT
    need_space(ctx, size)
    segs = place(ctx, size)
    try:
        out = _wipe_signatures(ctx, opts, name, segs, size)
    except state.SimError as exc:
        exc.stderr = rounding_note(requested, size) + exc.stderr
        raise
    lvs[name] = new_record(ctx, 'linear', size, seed=thick_seed(ctx, name))
    pv.take(ctx, name, lvs[name], segs)
    return (out + '  Logical volume "%s" created.\n' % name,
            rounding_note(requested, size))


def _create_snapshot(ctx, opts, target):
    origin = split_lv(ctx, target, 'lvcreate')
    lvs = ctx.lvs()
    source = find_lv(ctx, origin)
    if source['type'] not in ('linear', 'thin'):
        fail(5, '  Snapshots of %s volumes are not supported.\n'
             % source['type'])
    name = opts.get('name')
    if not name:
        fail(3, '  sim: lvcreate --snapshot without --name is not '
                'simulated\n')
    check_name(ctx, name)
    err = ''
    if 'size' in opts:
        requested = parse_size(opts['size'])
        cow = extents(requested) * EXTENT
        need_space(ctx, cow)
        segs = place(ctx, cow)
        record = new_record(ctx, 'snapshot', source['size'], origin=origin)
        record['cow'] = cow
        record['active'] = source['active']
        err = rounding_note(requested, cow)
    elif source['type'] == 'thin':
        record = new_record(ctx, 'thin', source['size'], pool=source['pool'],
                            origin=origin)
        record['skip'] = True
        record['active'] = False
    else:
        fail(5, '  Please specify either size or extents with snapshots.\n')
    record['md'] = state.plain(source['md'])
    lvs[name] = record
    if record['type'] == 'snapshot':
        pv.take(ctx, name, lvs[name], segs)
    ctx.tx.copy_content(ctx.host, ctx.vg, origin, ctx.host, name)
    return '  Logical volume "%s" created.\n' % name, err


def lvremove(ctx, args):
    opts, pos = parse_args('lvremove', args, _LVREMOVE)
    if not pos:
        fail(3, '  Please enter one or more logical volume paths.\n')
    lvs = ctx.lvs()
    out = ''
    for target in pos:
        lv = split_lv(ctx, target, 'lvremove')
        record = find_lv(ctx, lv)
        dependents = [n for n, r in lvs.items()
                      if r.get('origin') == lv and r['type'] == 'snapshot']
        if record['type'] == 'thin-pool':
            dependents = [n for n, r in lvs.items() if r.get('pool') == lv]
            if dependents:
                fail(5, '  Removing pool "%s" will remove %d dependent '
                        'volume(s). Proceed? [y/n]: [n]\n  Logical volume '
                        '"%s" not removed.\n' % (lv, len(dependents), lv))
        for name in dependents + [lv]:
            if devices.lv_open(ctx, name):
                fail(5, '  Logical volume %s/%s in use.\n' % (ctx.vg, name))
        if dependents and not opts.get('force') and not opts.get('yes'):
            fail(5, '  Do you really want to remove active origin %s/%s '
                    'with %d snapshot(s)? [y/n]: [n]\n  Logical volume "%s" '
                    'not removed.\n' % (ctx.vg, lv, len(dependents), lv))
        for name in dependents + [lv]:
            pv.release(ctx, name, lvs[name], 0)
            del lvs[name]
            ctx.tx.delete_content(ctx.host, ctx.vg, name)
            out += '  Logical volume "%s" successfully removed.\n' % name
        for other in lvs.values():
            if other.get('origin') == lv:
                other['origin'] = None
    return out, ''


def lvextend(ctx, args):
    opts, pos = parse_args('lvextend', args, _LVEXTEND)
    if 'size' not in opts or len(pos) != 1:
        fail(3, '  Please specify either size or extents.\n')
    lv = split_lv(ctx, pos[0], 'lvextend')
    record = find_lv(ctx, lv)
    requested = parse_size(opts['size'])
    if opts['size'].startswith('+'):
        requested += record['size']
    size = extents(requested) * EXTENT
    old = record['size']
    if size == old:
        fail(5, '  New size (%d extents) matches existing size (%d '
                'extents).\n' % (size // EXTENT, old // EXTENT))
    if size < old:
        fail(5, '  New size given (%d extents) not larger than existing '
                'size (%d extents)\n' % (size // EXTENT, old // EXTENT))
    has_snaps = any(r.get('origin') == lv and r['type'] == 'snapshot'
                    for r in ctx.lvs().values())
    if has_snaps and record['active']:
        fail(5, '  Snapshot origin volumes can be resized only while '
                'inactive: try lvresize -r.\n')
    if record['type'] == 'snapshot':
        fail(3, '  sim: extending snapshots is not simulated\n')
    if record['type'] in ('linear', 'thin-pool'):
        need_space(ctx, size - old, pool_style=True)
        segs = place(ctx, size - old, pv.end_pe(record.get('segs')),
                     pool_style=True)
        pv.take(ctx, lv, record, segs)
    record['size'] = size
    return ('  Size of logical volume %s/%s changed from %s (%d extents) to '
            '%s (%d extents).\n  Logical volume %s/%s successfully '
            'resized.\n' % (ctx.vg, lv, human(old), old // EXTENT,
                            human(size), size // EXTENT, ctx.vg, lv),
            rounding_note(requested, size))


def lvreduce(ctx, args):
    """``lvreduce -f -L SIZE vg/lv``: the tail beyond SIZE is gone.

    Without ``-f`` lvreduce asks for confirmation, which a service cannot
    give.  An LV that DRBD holds open is refused (the kernel would keep
    using the lost tail for its metadata).
    """
    opts, pos = parse_args('lvreduce', args, _LVREDUCE)
    if 'size' not in opts or len(pos) != 1:
        fail(3, '  Please specify either size or extents.\n')
    lv = split_lv(ctx, pos[0], 'lvreduce')
    record = find_lv(ctx, lv)
    size = extents(parse_size(opts['size'])) * EXTENT
    old = record['size']
    if size >= old:
        fail(5, '  New size (%d extents) matches existing size (%d extents).'
                '\n' % (size // EXTENT, old // EXTENT) if size == old else
                '  New size given (%d extents) not less than existing size '
                '(%d extents)\n' % (size // EXTENT, old // EXTENT))
    if record['type'] not in ('linear', 'thin'):
        fail(3, '  sim: reducing %s LVs is not simulated\n' % record['type'])
    if not opts.get('force'):
        fail(5, '  WARNING: Reducing active logical volume to %s.\n  THIS MAY '
                'DESTROY YOUR DATA (filesystem etc.)\nDo you really want to '
                'reduce %s/%s? [y/n]: [n]\n  Logical volume %s not reduced.\n'
             % (human(size), ctx.vg, lv, lv))
    if devices.lv_drbd_holder(ctx, lv):
        fail(5, '  Logical volume %s/%s in use.\n' % (ctx.vg, lv))
    pv.release(ctx, lv, record, size // EXTENT)
    record['size'] = size
    md = record['md']
    if md is not None and md['lv_bytes'] != size:
        record['md'] = None      # internal metadata lived in the tail
        pv.orphan(ctx, lv, record, md['lv_bytes'])
    return ('  Size of logical volume %s/%s changed from %s (%d extents) to '
            '%s (%d extents).\n  Logical volume %s/%s successfully '
            'resized.\n' % (ctx.vg, lv, human(old), old // EXTENT,
                            human(size), size // EXTENT, ctx.vg, lv), '')


def lvchange(ctx, args):
    opts, pos = parse_args('lvchange', args, _LVCHANGE)
    if len(pos) != 1:
        fail(3, '  Please give logical volume path(s).\n')
    lv = split_lv(ctx, pos[0], 'lvchange')
    record = find_lv(ctx, lv)
    lvs = ctx.lvs()
    if 'setskip' in opts:
        if opts['setskip'] not in ('y', 'n'):
            fail(3, '  Invalid argument for --setactivationskip: %s\n'
                 % opts['setskip'])
        record['skip'] = opts['setskip'] == 'y'
    activate = opts.get('activate')
    if activate is None:
        return '', ''
    if activate in ('n', 'an', 'ln', 'en'):
        group = [lv] + [n for n, r in lvs.items()
                        if r.get('origin') == lv and r['type'] == 'snapshot']
        for name in group:
            if devices.lv_open(ctx, name):
                fail(5, '  Logical volume %s/%s in use.\n' % (ctx.vg, name))
        for name in group:
            lvs[name]['active'] = False
        return '', ''
    if activate not in ('y', 'ay', 'ly', 'ey', 'sy'):
        fail(3, '  Invalid argument for --activate: %s\n' % activate)
    if record['skip'] and not opts.get('ignoreskip'):
        return '', ''
    record['active'] = True
    if record['type'] == 'snapshot':
        lvs[record['origin']]['active'] = True
    for name, snap in list(lvs.items()):
        if snap.get('merge') and (name == lv or snap.get('origin') == lv):
            _merge_now(ctx, name)
    return '', ''


def lvrename(ctx, args):
    _opts, pos = parse_args('lvrename', args, _COMMON)
    if len(pos) == 3:
        if pos[0] != ctx.vg:
            fail(5, '  Volume group "%s" not found\n' % pos[0])
        old, new = pos[1], pos[2]
    elif len(pos) == 2:
        old = split_lv(ctx, pos[0], 'lvrename')
        new = pos[1].split('/', 1)[1] if '/' in pos[1] else pos[1]
    else:
        fail(3, '  Old and new logical volume names required\n')
    lvs = ctx.lvs()
    if old not in lvs:
        fail(5, '  Existing logical volume "%s" not found in volume group '
                '"%s"\n' % (old, ctx.vg))
    check_name(ctx, new)
    ctx.tx.rename_content(ctx.host, ctx.vg, old, new)
    lvs[new] = lvs.pop(old)
    for record in lvs.values():
        for field in ('origin', 'pool'):
            if record.get(field) == old:
                record[field] = new
    for kres in ctx.kres().values():
        if kres['lv'] == old:
            kres['lv'] = new
    old_key, new_key = ('lv:%s/%s' % (ctx.vg, n) for n in (old, new))
    for target in ctx.targets().values():
        if target['key'] == old_key:
            ctx.lio(write=True)
            target['key'] = new_key
    return '  Renamed "%s" to "%s" in volume group "%s"\n' % (
        old, new, ctx.vg), ''


def lvconvert(ctx, args):
    opts, pos = parse_args('lvconvert', args, _LVCONVERT)
    if not opts.get('merge') or len(pos) != 1:
        fail(3, '  sim: only lvconvert --merge VG/SNAPSHOT is simulated\n')
    snap = split_lv(ctx, pos[0], 'lvconvert')
    record = find_lv(ctx, snap)
    if not record.get('origin'):
        fail(5, '  Command on LV %s/%s uses options that require LV types '
                'thinsnapshot or snapshot.\n' % (ctx.vg, snap))
    origin = record['origin']
    if devices.lv_open(ctx, origin) or devices.lv_open(ctx, snap) or (
            record['type'] == 'thin' and ctx.lvs()[origin]['active']):
        record['merge'] = True
        return ('  Delaying merge since origin is open.\n  Merging of '
                'snapshot %s/%s will occur on next activation of %s/%s.\n'
                % (ctx.vg, snap, ctx.vg, origin), '')
    _merge_now(ctx, snap)
    return ('  Merging of volume %s/%s started.\n  %s/%s: Merged: '
            '100.00%%\n' % (ctx.vg, snap, ctx.vg, origin), '')


def _merge_now(ctx, snap):
    lvs = ctx.lvs()
    record = lvs[snap]
    origin = record['origin']
    ctx.tx.copy_content(ctx.host, ctx.vg, snap, ctx.host, origin)
    lvs[origin]['md'] = state.plain(record['md'])
    del lvs[snap]
    ctx.tx.delete_content(ctx.host, ctx.vg, snap)
