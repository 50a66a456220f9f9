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
"""Simulated ``dd``, ``blockdev`` and ``cat /proc/drbd``, and device I/O.

``dd`` copies zeros or another device into a device (``bs``, ``count``,
``skip``, ``seek``, ``iflag=count_bytes,direct``, ``oflag=direct``,
``conv=sparse,fdatasync``), writing through DRBD when the target is a DRBD
device, and stops with ENOSPC at the end of the device as GNU dd does.  A
DRBD device whose I/O is suspended fails the copy (the kernel would block).
"""

import errno
import os
import re

from cinder.tests.unit.volume.drivers.ovt.sim import content
from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import drbd
from cinder.tests.unit.volume.drivers.ovt.sim import drbdstatus
from cinder.tests.unit.volume.drivers.ovt.sim import state

BLOCK = content.BLOCK
_DD_UNITS = {'': 1, 'c': 1, 'w': 2, 'b': 512, 'kB': 1000, 'K': 1024,
             'MB': 1000 ** 2, 'M': 1024 ** 2, 'GB': 1000 ** 3, 'G': 1024 ** 3,
             'TB': 1000 ** 4, 'T': 1024 ** 4}
_FLAGS = {'iflag': {'direct', 'count_bytes', 'skip_bytes', 'fullblock'},
          'oflag': {'direct', 'sync', 'dsync', 'seek_bytes'},
          'conv': {'fdatasync', 'fsync', 'sparse', 'notrunc'},
          'status': {'none', 'noxfer', 'progress'}}


def backing(ctx, dev):
    """The Content behind a resolved device."""
    return ctx.tx.content(ctx.host, dev.vg, dev.lv)


def write_blocks(ctx, dev, start, end, apply):
    """Apply a content change to blocks [start, end) of ``dev``."""
    if dev.kind == 'drbd':
        drbd.Kernel(ctx).write(dev.res, start, end, apply)
    else:
        apply(backing(ctx, dev))


def _number(text, what):
    match = re.match(r'^(\d+)(c|w|b|kB|K|MB|M|GB|G|TB|T)?$', text)
    if not match:
        raise state.SimError(1, "dd: invalid number: '%s'\n" % text)
    return int(match.group(1)) * _DD_UNITS[match.group(2) or '']


def _fail_open(path, err, mode):
    raise state.SimError(1, "dd: failed to open '%s': %s\n"
                         % (path, err.strerror))


def dd(ctx, args):
    ops = {}
    for arg in args:
        key, sep, value = arg.partition('=')
        if not sep or key not in ('if', 'of', 'bs', 'count', 'skip', 'seek',
                                  'iflag', 'oflag', 'conv', 'status'):
            raise state.SimError(1, "dd: unrecognized operand '%s'\nTry 'dd "
                                    "--help' for more information.\n" % arg)
        if key in _FLAGS:
            for flag in value.split(','):
                if flag not in _FLAGS[key]:
                    raise state.SimError(1, "dd: invalid %s: '%s'\n"
                                         % ('conversion' if key == 'conv'
                                            else 'input/output flag', flag))
        ops[key] = value
    if 'if' not in ops or 'of' not in ops:
        raise state.SimError(1, 'sim: dd needs if= and of= (no stdio)\n')
    if not ctx.as_root:
        raise state.SimError(1, "dd: failed to open '%s': Permission "
                                "denied\n" % ops['of'])
    bs = _number(ops.get('bs', '512'), 'bs')
    iflag = set(ops.get('iflag', '').split(','))
    oflag = set(ops.get('oflag', '').split(','))
    conv = set(ops.get('conv', '').split(','))
    try:
        src = devices.open_device(ctx, ops['if'], write=False)
    except OSError as err:
        _fail_open(ops['if'], err, 'r')
    try:
        dst = devices.open_device(ctx, ops['of'], write=True)
    except OSError as err:
        _fail_open(ops['of'], err, 'w')
    skip = _number(ops.get('skip', '0'), 'skip')
    seek = _number(ops.get('seek', '0'), 'seek')
    skip = skip if 'skip_bytes' in iflag else skip * bs
    seek = seek if 'seek_bytes' in oflag else seek * bs
    if 'count' in ops:
        count = _number(ops['count'], 'count')
        length = count if 'count_bytes' in iflag else count * bs
    else:
        length = None
    if src.kind != 'zero':
        available = max(0, src.size - skip)
        length = available if length is None else min(length, available)
    room = max(0, dst.size - seek)
    wanted = room + 1 if length is None else length
    done = min(wanted, room)
    if done > 0:
        for dev, path, verb in ((src, ops['if'], 'reading'),
                                (dst, ops['of'], 'writing')):
            try:
                devices.check_io(ctx, dev, path)
            except OSError as err:
                raise state.SimError(1, "dd: error %s '%s': %s\n0+0 records "
                                        "in\n0+0 records out\n"
                                     % (verb, path, err.strerror))
    _copy(ctx, src, dst, skip, seek, done, 'sparse' in conv)
    full, part = divmod(done, bs)
    summary = ('%d+%d records in\n%d+%d records out\n%d bytes (%s) copied, '
               '0.0101 s, %.1f MB/s\n' % (full, 1 if part else 0, full,
                                          1 if part else 0, done,
                                          _human(done), done / 1e6 / 0.0101))
    if wanted > room:
        raise state.SimError(1, "dd: error writing '%s': No space left on "
                                "device\n%s" % (ops['of'], summary))
    return '', summary


def _human(size):
    if size < 1000:
        return '%d B' % size
    for unit, si, binary in (('G', 1e9, 2 ** 30), ('M', 1e6, 2 ** 20),
                             ('k', 1e3, 2 ** 10)):
        if size >= si:
            return '%.1f %sB, %.1f %siB' % (
                size / si, unit, size / binary, unit.upper())
    return '%d B' % size


def _copy(ctx, src, dst, skip, seek, length, sparse):
    if length <= 0:
        return
    aligned = not (skip % BLOCK or seek % BLOCK or length % BLOCK)
    start, end = seek // BLOCK, (seek + length - 1) // BLOCK + 1
    if src.kind == 'zero':
        if sparse:
            return
        if aligned:
            write_blocks(ctx, dst, start, end,
                         lambda c: c.write_zeros(start, end))
        else:
            write_blocks(ctx, dst, start, end,
                         lambda c: c.write(seek, bytes(length)))
        return
    source = backing(ctx, src)
    if not aligned:
        data = source.read(skip, length)
        write_blocks(ctx, dst, start, end, lambda c: c.write(seek, data))
        return
    first = skip // BLOCK
    count = length // BLOCK

    def apply(target):
        if not sparse:
            target.copy_from(source, first, start, count)
            return
        for s, e, seed, _delta in list(source.segments(first, first + count)):
            if seed is not None:
                target.copy_from(source, s, s - first + start, e - s)
        for key in list(source.doc['blk']):
            index = int(key)
            if first <= index < first + count:
                target.copy_from(source, index, index - first + start, 1)

    write_blocks(ctx, dst, start, end, apply)


def blockdev(ctx, args):
    commands = {'--getsize64': None, '--getsz': 512, '--getss': None,
                '--getbsz': None, '--flushbufs': None}
    if len(args) != 2 or args[0] not in commands:
        raise state.SimError(1, 'sim: only "blockdev --getsize64|--getsz|'
                                '--getss|--getbsz|--flushbufs DEVICE" is '
                                'simulated\n')
    command, path = args
    if not ctx.as_root:
        raise state.SimError(1, 'blockdev: cannot open %s: Permission '
                                'denied\n' % path)
    try:
        dev = devices.open_device(ctx, path, write=False)
    except OSError as err:
        raise state.SimError(1, 'blockdev: cannot open %s: %s\n'
                             % (path, err.strerror))
    if dev.kind == 'zero':
        raise state.SimError(1, 'blockdev: ioctl error on BLKGETSIZE64: '
                                'Inappropriate ioctl for device\n')
    value = {'--getsize64': dev.size, '--getsz': dev.size // 512,
             '--getss': 512, '--getbsz': 4096, '--flushbufs': None}[command]
    return ('' if value is None else '%d\n' % value), ''


def cat(ctx, args):
    if args == ['/proc/drbd']:
        return drbdstatus.proc_drbd(ctx), ''
    if len(args) == 1 and args[0].startswith('/etc/drbd.d/'):
        name = os.path.basename(args[0])
        path = os.path.join(ctx.tx.store.root, ctx.host, 'etc', 'drbd.d',
                            name)
        try:
            with open(path) as handle:
                return handle.read(), ''
        except OSError:
            pass
    raise state.SimError(1, 'cat: %s: No such file or directory\n'
                         % ' '.join(args))


def check_range(dev, offset, length, path):
    if offset < 0 or length < 0 or offset + length > dev.size:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
