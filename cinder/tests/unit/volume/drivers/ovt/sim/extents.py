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
"""Where LVs lie on the PV, and the DRBD signatures left on it.

Allocation follows LVM 2.03's ``normal`` policy on the one PV of a
simulated VG: free areas are taken largest first (equal ones by position,
as ``pv_map.c`` keeps them), a new LV from the start of the largest and,
when that is too small, on in the next largest; ``lvextend`` continues
right after the LV's last segment when that area holds the whole
extension.  Linear LVs, thin pools (data, metadata, spare) and old-style
snapshots (their copy-on-write store) carry ``segs``: ``[first PE,
count]`` in logical order.  Thin volumes take no extents.

DRBD's internal meta data ends with a 4 KiB superblock whose magic is at
byte 60 (``md_on_disk_08``/``_09``).  The live one of an LV is
``record['md']`` at ``md['lv_bytes'] - 4 KiB``; one that DRBD no longer
uses stays on disk until something overwrites it: inside a linear LV (md
moved by ``drbdadm resize``, dropped by ``lvreduce``) as a block of the
LV's content, which copies, resync and writes carry or replace; on freed
extents (``lvremove``/``lvreduce`` without ``drbdadm wipe-md``) in the
host's ``pv`` document by physical 4 KiB block, until an LV takes that
extent and it becomes part of the LV's content again.  libblkid's drbd
probe reads only the last 4 KiB of a device, so ``lvcreate``, which wipes
signatures when it zeroes a new LV, finds a superblock only there.
"""

import base64
import struct

from cinder.tests.unit.volume.drivers.ovt.sim import content

BLOCK = content.BLOCK
EXTENT = 4 * 1024 * 1024
PER_EXTENT = EXTENT // BLOCK
MAGIC_AT = 60
# drbd_meta_data.h: DRBD_MD_MAGIC_08, _84_UNCLEAN, _09.
MAGIC_08, MAGIC_09 = 0x8374026b, 0x8374026d
_MAGICS = (MAGIC_08, 0x8374026c, MAGIC_09)


def superblock(magic):
    """A 4 KiB block that blkid takes for DRBD meta data."""
    data = bytearray(BLOCK)
    struct.pack_into('>I', data, MAGIC_AT, magic)
    return bytes(data)


def magic_of(data):
    """The DRBD magic of a 4 KiB block, or None."""
    value = struct.unpack_from('>I', data, MAGIC_AT)[0]
    return value if value in _MAGICS else None


def md_magic(ctx):
    return MAGIC_09 if ctx.drbd9 else MAGIC_08


def _pv(ctx, write=False):
    return ctx.tx.host(ctx.host, 'pv', write)


def stale(ctx):
    """{physical block: magic} of the superblocks on free extents."""
    return {int(k): v for k, v in _pv(ctx)['sigs'].items()}


# -- allocation --------------------------------------------------------------

def free_areas(ctx):
    """[first PE, count] of the free areas of the host's PV, in order."""
    used = sorted(tuple(seg) for record in ctx.lvs().values()
                  for seg in record.get('segs') or ())
    areas, pos = [], 0
    for start, count in used:
        if start > pos:
            areas.append([pos, start - pos])
        pos = max(pos, start + count)
    if pos < ctx.cfg['extents']:
        areas.append([pos, ctx.cfg['extents'] - pos])
    return areas


def allocate(ctx, count, after=None):
    """Segments for ``count`` extents (not yet taken), or None.

    ``after``: the PE following the last segment of an LV being extended.
    """
    areas = free_areas(ctx)
    if sum(length for _start, length in areas) < count:
        return None
    for start, length in areas:
        if start == after and length >= count:
            return [[start, count]]
    segs = []
    for start, length in sorted(areas, key=lambda a: (-a[1], a[0])):
        if count <= 0:
            break
        take = min(count, length)
        segs = append(segs, [[start, take]])
        count -= take
    return segs


def append(segs, more):
    """``segs`` followed by ``more``, adjacent segments merged."""
    out = [list(seg) for seg in segs]
    for start, count in more:
        if out and out[-1][0] + out[-1][1] == start:
            out[-1][1] += count
        else:
            out.append([start, count])
    return out


def end_pe(segs):
    """The PE right after the last segment (where an extension goes on)."""
    return segs[-1][0] + segs[-1][1] if segs else None


def physical(segs, block):
    """The PV block of logical block ``block`` on ``segs``, or None."""
    extent, offset = divmod(block, PER_EXTENT)
    for start, count in segs:
        if extent < count:
            return (start + extent) * PER_EXTENT + offset
        extent -= count
    return None


def _logical(segs, pblock):
    """The logical block on ``segs`` of PV block ``pblock``, or None."""
    pe, offset = divmod(pblock, PER_EXTENT)
    extent = 0
    for start, count in segs:
        if start <= pe < start + count:
            return (extent + pe - start) * PER_EXTENT + offset
        extent += count
    return None


# -- superblocks -------------------------------------------------------------

def end_signature(ctx, segs, size):
    """Offset of the DRBD magic blkid finds in a new LV, or None."""
    pblock = physical(segs, size // BLOCK - 1)
    if str(pblock) in _pv(ctx)['sigs']:
        return size - BLOCK + MAGIC_AT
    return None


def wipe_end(ctx, segs, size):
    """Erase the DRBD magic at the end of a new LV (``lvcreate -y``)."""
    _pv(ctx, write=True)['sigs'].pop(str(physical(segs, size // BLOCK - 1)),
                                     None)


def take(ctx, lv, record, segs):
    """Give extents ``segs`` to LV ``lv``, after those it has.

    Superblocks on them become blocks of a linear LV's content; a thin
    pool or a snapshot store initialises its space.
    """
    old = record.get('segs') or []
    first = sum(count for _start, count in old) * PER_EXTENT
    record['segs'] = append(old, segs)
    found = []
    for key, magic in _pv(ctx)['sigs'].items():
        block = _logical(segs, int(key))
        if block is not None:
            found.append((first + block, key, magic))
    if not found:
        return
    sigs = _pv(ctx, write=True)['sigs']
    for block, key, magic in found:
        del sigs[key]
        if record['type'] == 'linear':
            data = ctx.tx.content(ctx.host, ctx.vg, lv)
            data.write(block * BLOCK, superblock(magic))


def release(ctx, lv, record, keep):
    """Free the extents of LV ``lv`` from logical extent ``keep`` on.

    The superblock of live meta data and stale ones in the content that
    lie on them stay on the PV.
    """
    segs = record.get('segs')
    if not segs:
        return
    if record['type'] == 'linear':
        limit = keep * PER_EXTENT
        left = {}
        md = record['md']
        if md is not None and md['lv_bytes'] // BLOCK - 1 >= limit:
            left[md['lv_bytes'] // BLOCK - 1] = md_magic(ctx)
        data = ctx.tx.content(ctx.host, ctx.vg, lv)
        blocks = data.doc['blk']
        for key in [k for k in blocks if int(k) >= limit]:
            magic = magic_of(base64.b64decode(blocks[key]))
            if magic is not None:
                left[int(key)] = magic
                if keep:
                    data.write_zeros(int(key), int(key) + 1)
        if left:
            sigs = _pv(ctx, write=True)['sigs']
            for block, magic in left.items():
                pblock = physical(segs, block)
                if pblock is not None:
                    sigs[str(pblock)] = magic
    kept, count = [], keep
    for start, length in segs:
        if count <= 0:
            break
        kept.append([start, min(length, count)])
        count -= length
    record['segs'] = kept


def orphan(ctx, lv, record, lv_bytes):
    """DRBD left the superblock at ``lv_bytes`` - 4 KiB inside LV ``lv``."""
    if record['type'] == 'linear' and BLOCK <= lv_bytes <= record['size']:
        data = ctx.tx.content(ctx.host, ctx.vg, lv)
        data.write(lv_bytes - BLOCK, superblock(md_magic(ctx)))


def stale_end(ctx, lv, record):
    """True when a DRBD superblock ends linear LV ``lv`` (in its content)."""
    if record['type'] != 'linear':
        return False
    raw = ctx.tx.content(ctx.host, ctx.vg, lv).doc['blk'].get(
        str(record['size'] // BLOCK - 1))
    return raw is not None and magic_of(base64.b64decode(raw)) is not None


def clear(ctx, lv, record, start, end):
    """Zero the DRBD superblocks in bytes [start, end) of LV ``lv``."""
    if record['type'] != 'linear':
        return
    data = ctx.tx.content(ctx.host, ctx.vg, lv)
    for key, raw in list(data.doc['blk'].items()):
        if start <= int(key) * BLOCK < end and magic_of(
                base64.b64decode(raw)) is not None:
            data.write_zeros(int(key), int(key) + 1)
