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
"""Sparse block content of simulated block devices, and interval sets.

A device is a run of 4 KiB blocks.  Its content is kept as a JSON-able dict:

``seed``
    what unwritten blocks hold: ``None`` for zeros (thin LVs), otherwise a
    string from which deterministic garbage is derived (thick LVs);
``ext``
    sorted, non-overlapping extents ``[start, end, seed, delta]`` that
    override the base: block ``i`` reads ``garbage(seed, i + delta)`` or
    zeros when ``seed`` is ``None`` (``dd`` of zeros, copies between devices);
``blk``
    explicitly written blocks ``{str(index): base64}``, on top of all.

Copies between devices move extents, never materialise garbage, so a 1 TiB
full resync costs as little as a 4 MiB one.

Interval sets (out-of-sync bitmaps, sync ranges) are sorted lists of
``[start, end)`` block ranges.
"""

import base64
import bisect
import hashlib

BLOCK = 4096
_ZERO_BLOCK = bytes(BLOCK)


def garbage(seed, index):
    """The deterministic 4 KiB of garbage of block ``index`` under ``seed``."""
    digest = hashlib.blake2b(('%s:%d' % (seed, index)).encode(),
                             digest_size=64).digest()
    return digest * (BLOCK // 64)


# -- interval sets -----------------------------------------------------------

def iv_add(ranges, start, end):
    """Return ``ranges`` with ``[start, end)`` added (merged, sorted)."""
    if start >= end:
        return [list(r) for r in ranges]
    out = []
    placed = False
    for s, e in ranges:
        if e < start:
            out.append([s, e])
        elif s > end:
            if not placed:
                out.append([start, end])
                placed = True
            out.append([s, e])
        else:
            start, end = min(s, start), max(e, end)
    if not placed:
        out.append([start, end])
    return out


def iv_union(a, b):
    """Union of two interval sets."""
    out = [list(r) for r in a]
    for s, e in b:
        out = iv_add(out, s, e)
    return out


def iv_count(ranges):
    """Number of blocks in an interval set."""
    return sum(e - s for s, e in ranges)


def iv_clip(ranges, limit):
    """The part of ``ranges`` below block ``limit``."""
    return [[s, min(e, limit)] for s, e in ranges if s < limit]


# -- content -----------------------------------------------------------------

def new_doc(seed):
    """An empty content dict whose unwritten blocks come from ``seed``."""
    return {'seed': seed, 'ext': [], 'blk': {}}


class Content(object):
    """Operations on one content dict; ``touch`` is called on each change."""

    def __init__(self, doc, touch=None):
        self.doc = doc
        self._touch = touch or (lambda: None)

    # reading ---------------------------------------------------------------

    def _extent_at(self, index):
        ext = self.doc['ext']
        pos = bisect.bisect_right([e[0] for e in ext], index) - 1
        if pos >= 0 and ext[pos][1] > index:
            return ext[pos]
        return None

    def read_block(self, index):
        """The 4 KiB of block ``index``."""
        raw = self.doc['blk'].get(str(index))
        if raw is not None:
            return base64.b64decode(raw)
        ext = self._extent_at(index)
        if ext is not None:
            seed, delta = ext[2], ext[3]
            return _ZERO_BLOCK if seed is None else garbage(seed,
                                                            index + delta)
        seed = self.doc['seed']
        return _ZERO_BLOCK if seed is None else garbage(seed, index)

    def read(self, offset, length):
        """``length`` bytes from byte ``offset``."""
        first, last = offset // BLOCK, (offset + length - 1) // BLOCK
        data = b''.join(self.read_block(i) for i in range(first, last + 1))
        skip = offset - first * BLOCK
        return data[skip:skip + length]

    def segments(self, start, end):
        """(start, end, seed, delta) runs covering blocks [start, end)."""
        pos = start
        for s, e, seed, delta in self.doc['ext']:
            if e <= pos:
                continue
            if s >= end:
                break
            if s > pos:
                yield pos, s, self.doc['seed'], 0
            yield max(s, pos), min(e, end), seed, delta
            pos = min(e, end)
        if pos < end:
            yield pos, end, self.doc['seed'], 0

    def mapped_blocks(self):
        """Blocks ever written (thin pool usage)."""
        count = iv_count([[e[0], e[1]] for e in self.doc['ext']])
        for key in self.doc['blk']:
            if self._extent_at(int(key)) is None:
                count += 1
        return count

    def fingerprint(self, start, end):
        """A digest of blocks [start, end) in canonical form.

        Equal fingerprints mean equal bytes; runs are compared by their
        generator, so no garbage is materialised.
        """
        digest = hashlib.sha256()
        explicit = sorted(int(k) for k in self.doc['blk']
                          if start <= int(k) < end)
        pos = start
        for index in explicit + [end]:
            for s, e, seed, delta in self._canonical(pos, index):
                digest.update(('%d-%d:%s:%d;' % (
                    s, e, seed, (delta if seed is not None else 0))).encode())
            if index < end:
                data = self.read_block(index)
                if data == _ZERO_BLOCK:
                    digest.update(('%d-%d:None:0;' % (index, index + 1))
                                  .encode())
                else:
                    digest.update(hashlib.sha256(data).digest())
            pos = index + 1
        return digest.hexdigest()

    def _canonical(self, start, end):
        out = []
        for s, e, seed, delta in self.segments(start, end):
            if seed is None:
                delta = 0
            if out and out[-1][1] == s and out[-1][2] == seed and (
                    seed is None or out[-1][3] == delta):
                out[-1][1] = e
            else:
                out.append([s, e, seed, delta])
        return out

    # writing ---------------------------------------------------------------

    def _drop_blocks(self, start, end):
        blk = self.doc['blk']
        if end - start < len(blk):
            for i in range(start, end):
                blk.pop(str(i), None)
        else:
            for key in [k for k in blk if start <= int(k) < end]:
                del blk[key]

    def _set_extent(self, start, end, seed, delta):
        if seed is None:
            delta = 0
        out = []
        for ext in self.doc['ext']:
            s, e = ext[0], ext[1]
            if e <= start or s >= end:
                out.append(ext)
                continue
            if s < start:
                out.append([s, start, ext[2], ext[3]])
            if e > end:
                out.append([end, e, ext[2], ext[3]])
        base = self.doc['seed']
        if not (seed == base and (seed is None or delta == 0)):
            out.append([start, end, seed, delta])
        out.sort(key=lambda x: x[0])
        merged = []
        for ext in out:
            if merged and merged[-1][1] == ext[0] and \
                    merged[-1][2] == ext[2] and merged[-1][3] == ext[3]:
                merged[-1][1] = ext[1]
            else:
                merged.append(ext)
        self.doc['ext'] = merged

    def write(self, offset, data):
        """Write ``data`` at byte ``offset`` (read-modify-write at edges)."""
        if not data:
            return
        pos = 0
        while pos < len(data):
            index, skip = divmod(offset + pos, BLOCK)
            take = min(BLOCK - skip, len(data) - pos)
            if take == BLOCK:
                block = data[pos:pos + BLOCK]
            else:
                old = self.read_block(index)
                block = old[:skip] + data[pos:pos + take] + old[skip + take:]
            if block == _ZERO_BLOCK:
                self.doc['blk'].pop(str(index), None)
                self._set_extent(index, index + 1, None, 0)
            else:
                self.doc['blk'][str(index)] = base64.b64encode(
                    bytes(block)).decode('ascii')
            pos += take
        self._touch()

    def write_zeros(self, start, end):
        """Zero blocks [start, end)."""
        self._drop_blocks(start, end)
        self._set_extent(start, end, None, 0)
        self._touch()

    def copy_from(self, src, src_start, dst_start, count):
        """Copy ``count`` blocks of ``src`` (a Content) into this content."""
        if count <= 0:
            return
        shift = dst_start - src_start
        self._drop_blocks(dst_start, dst_start + count)
        for s, e, seed, delta in list(src.segments(src_start,
                                                   src_start + count)):
            self._set_extent(s + shift, e + shift, seed, delta - shift)
        for key, raw in list(src.doc['blk'].items()):
            index = int(key)
            if src_start <= index < src_start + count:
                self.doc['blk'][str(index + shift)] = raw
        self._touch()
