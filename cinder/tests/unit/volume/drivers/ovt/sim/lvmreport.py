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
"""Simulated LVM reports: ``vgs``, ``pvs``, ``lvs``, ``lvdisplay -C``.

Output follows LVM's report layout: two leading spaces, aligned columns
(strings left, numbers right) or ``--separator``-joined fields, optional
heading line, sizes in ``--units`` with or without suffix.
"""

import hashlib

from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import lvm

_SI = {'b': 1, 's': 512, 'k': 1000, 'm': 1000 ** 2, 'g': 1000 ** 3,
       't': 1000 ** 4, 'p': 1000 ** 5, 'e': 1000 ** 6}
_HEADINGS = {'lv_name': 'LV', 'vg_name': 'VG', 'lv_attr': 'Attr',
             'lv_size': 'LSize', 'pool_lv': 'Pool', 'origin': 'Origin',
             'data_percent': 'Data%', 'lv_path': 'Path', 'lv_uuid': 'LV UUID',
             'segtype': 'Type', 'vg_size': 'VSize', 'vg_free': 'VFree',
             'lv_count': '#LV', 'vg_uuid': 'VG UUID', 'pv_count': '#PV',
             'vg_extent_size': 'Ext', 'pv_name': 'PV', 'pv_size': 'PSize',
             'pv_free': 'PFree', 'vg_attr': 'Attr', 'pv_uuid': 'PV UUID'}
_ALIASES = {
    'lvs': {'name': 'lv_name', 'size': 'lv_size', 'attr': 'lv_attr',
            'uuid': 'lv_uuid', 'path': 'lv_path', 'pool': 'pool_lv'},
    'vgs': {'name': 'vg_name', 'size': 'vg_size', 'free': 'vg_free',
            'uuid': 'vg_uuid', 'extent_size': 'vg_extent_size',
            'attr': 'vg_attr'},
    'pvs': {'name': 'pv_name', 'size': 'pv_size', 'free': 'pv_free',
            'uuid': 'pv_uuid'}}
_DEFAULT_FIELDS = {
    'lvs': 'lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent',
    'vgs': 'vg_name,pv_count,lv_count,vg_attr,vg_size,vg_free',
    'pvs': 'pv_name,vg_name,pv_size,pv_free'}


def lvm_uuid(text):
    raw = hashlib.sha256(text.encode()).hexdigest()
    alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    chars = ''.join(alphabet[int(raw[i:i + 2], 16) % 62]
                    for i in range(0, 64, 2))
    cuts = (6, 4, 4, 4, 4, 4, 6)
    parts, pos = [], 0
    for cut in cuts:
        parts.append(chars[pos:pos + cut])
        pos += cut
    return '-'.join(parts)


def fmt_size(size, units, nosuffix):
    unit = (units or 'h')[0]
    if unit in 'hH':
        table = lvm._UNITS if unit == 'h' else _SI
        chosen = 'b'
        for candidate in 'petgmk':
            if size >= table[candidate]:
                chosen = candidate
                break
        unit = chosen if unit == 'h' else chosen.upper()
    divisor = (lvm._UNITS if unit.islower() else _SI)[unit.lower()]
    if unit.lower() in 'bs':
        text = '%d' % (size // divisor)
        suffix = unit.upper()
    else:
        text = '%.2f' % (size / divisor)
        suffix = unit
    return text if nosuffix else text + suffix


def lv_attr(ctx, name, record):
    lvs = ctx.lvs()
    kind = record['type']
    snaps = [r for r in lvs.values() if r.get('origin') == name]
    if kind == 'thin-pool':
        vtype, target, zero = 't', 't', 'z'
    elif kind == 'thin':
        vtype, target, zero = 'V', 't', 'z'
    elif kind == 'snapshot':
        vtype, target, zero = ('S' if record['merge'] else 's'), 's', '-'
    else:
        vtype, target, zero = '-', '-', '-'
        if any(r['type'] == 'snapshot' for r in snaps):
            vtype = 'O' if any(r['merge'] for r in snaps) else 'o'
            target = 's'
    return '%swi-%s%s%s%s-%s' % (
        vtype, 'a' if record['active'] else '-',
        'o' if devices.lv_open(ctx, name) else '-', target, zero,
        'k' if record['skip'] else '-')


def data_percent(ctx, name, record):
    lvs = ctx.lvs()
    if record['type'] == 'thin-pool':
        used = sum(ctx.tx.content(ctx.host, ctx.vg, n).mapped_blocks()
                   for n, r in lvs.items()
                   if r.get('pool') == name and not r.get('origin'))
        return '%.2f' % min(100.0, used * 4096 * 100.0 / record['size'])
    if record['type'] == 'thin':
        used = ctx.tx.content(ctx.host, ctx.vg, name).mapped_blocks()
        return '%.2f' % min(100.0, used * 4096 * 100.0 / record['size'])
    if record['type'] == 'snapshot':
        return '0.00'
    return ''


def _lv_value(ctx, field, name, record, units, nosuffix):
    if field == 'lv_name':
        return name
    if field == 'vg_name':
        return ctx.vg
    if field == 'lv_size':
        return fmt_size(record['size'], units, nosuffix)
    if field == 'lv_attr':
        return lv_attr(ctx, name, record)
    if field == 'data_percent':
        return data_percent(ctx, name, record)
    if field == 'origin':
        return record.get('origin') or ''
    if field == 'pool_lv':
        return record.get('pool') or ''
    if field == 'lv_path':
        return '/dev/%s/%s' % (ctx.vg, name)
    if field == 'lv_uuid':
        return lvm_uuid(record['uuid'])
    if field == 'segtype':
        return {'thin-pool': 'thin-pool', 'thin': 'thin',
                'snapshot': 'linear'}.get(record['type'], 'linear')
    raise KeyError(field)


def _vg_value(ctx, field, units, nosuffix):
    total, free = lvm.vg_totals(ctx)
    values = {'vg_name': ctx.vg,
              'vg_size': fmt_size(total, units, nosuffix),
              'vg_free': fmt_size(free, units, nosuffix),
              'lv_count': str(len(ctx.lvs())),
              'vg_uuid': lvm_uuid('vg/' + ctx.host), 'pv_count': '1',
              'vg_attr': 'wz--n-',
              'vg_extent_size': fmt_size(lvm.EXTENT, units, nosuffix),
              'pv_name': ctx.cfg['pv'],
              'pv_size': fmt_size(total, units, nosuffix),
              'pv_free': fmt_size(free, units, nosuffix),
              'pv_uuid': lvm_uuid('pv/' + ctx.host)}
    return values[field]


def _fields(tool, text):
    family = 'lvs' if tool in ('lvs', 'lvdisplay') else tool
    fields = []
    for item in text.split(','):
        key = item.strip().lower()
        key = _ALIASES[family].get(key, key)
        if key not in _HEADINGS:
            lvm.fail(3, '  Unrecognised field: %s\n' % item.strip())
        fields.append(key)
    return fields


def _render(rows, fields, opts):
    sep = opts.get('separator')
    if not rows:
        return ''
    numeric = {'lv_size', 'data_percent', 'vg_size', 'vg_free', 'lv_count',
               'pv_count', 'pv_size', 'pv_free', 'vg_extent_size'}
    if not opts.get('noheadings'):
        rows = [[_HEADINGS[f] for f in fields]] + rows
    if sep is not None:
        return ''.join('  %s\n' % sep.join(row) for row in rows)
    widths = [max([len(row[i]) for row in rows] + [0])
              for i in range(len(fields))]
    lines = []
    for row in rows:
        cells = [(value.rjust(width) if field in numeric else
                  value.ljust(width))
                 for value, width, field in zip(row, widths, fields)]
        lines.append(('  ' + ' '.join(cells)).rstrip() + '\n')
    return ''.join(lines)


def report(ctx, tool, args):
    opts, pos = lvm.parse_args(tool, args, lvm._REPORT)
    if tool == 'lvdisplay' and not opts.get('columns'):
        lvm.fail(3, '  sim: only lvdisplay -C is simulated\n')
    units, nosuffix = opts.get('units'), bool(opts.get('nosuffix'))
    family = 'lvs' if tool in ('lvs', 'lvdisplay') else tool
    fields = _fields(tool, opts.get('options', _DEFAULT_FIELDS[family]))
    rows = []
    if family == 'lvs':
        wanted = []
        for item in pos or [ctx.vg]:
            if item == ctx.vg:
                wanted.extend(n for n, r in sorted(ctx.lvs().items()))
                continue
            if '/' not in item:
                lvm.fail(5, '  Volume group "%s" not found\n  Cannot process '
                            'volume group %s\n' % (item, item))
            lv = lvm.split_lv(ctx, item, tool)
            lvm.find_lv(ctx, lv)
            wanted.append(lv)
        lvs = ctx.lvs()
        for name in wanted:
            rows.append([_lv_value(ctx, f, name, lvs[name], units, nosuffix)
                         for f in fields])
    else:
        for item in pos:
            if item not in (ctx.vg, ctx.cfg['pv']):
                if family == 'pvs':
                    lvm.fail(5, '  Failed to find physical volume "%s".\n'
                             % item)
                lvm.fail(5, '  Volume group "%s" not found\n  Cannot process '
                            'volume group %s\n' % (item, item))
        rows.append([_vg_value(ctx, f, units, nosuffix) for f in fields])
    return _render(rows, fields, opts), ''
