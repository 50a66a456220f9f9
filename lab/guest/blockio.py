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
"""Block pattern writer and verifier of the lab client (O_DIRECT).

``write DEV FIRST COUNT GEN ACKLOG [SIZE]``
    writes blocks FIRST..FIRST+COUNT-1 of SIZE bytes (default 1 MiB) with
    O_DIRECT|O_DSYNC; after each write returns, appends the block number to
    ACKLOG (flushed): the list of acknowledged writes.  Stops at the first
    error (a dead portal) and reports how far it got.
``verify DEV GEN ACKLOG [SIZE]``
    reads back every block listed in ACKLOG and prints a JSON summary:
    blocks checked, mismatching block numbers.
``size DEV``
    the device size in bytes.

Block content is a function of (block number, generation), so any reader
can tell exactly what an acknowledged write left.
"""

import hashlib
import json
import mmap
import os
import sys
import time

MiB = 1024 * 1024


def pattern(block, gen, size):
    """The content of ``block`` written by generation ``gen``."""
    seed = hashlib.sha256(('ev3-lab %d %d' % (block, gen)).encode())
    unit = seed.digest() * 128          # 4 KiB
    head = ('ev3-lab block %08d gen %04d\n' % (block, gen)).encode()
    data = bytearray(unit * (size // len(unit)))
    data[:len(head)] = head
    return bytes(data)


def aligned(size):
    buf = mmap.mmap(-1, size)
    return buf


def write(dev, first, count, gen, acklog, size=MiB):
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_DSYNC)
    buf = aligned(size)
    done = 0
    err = None
    started = time.time()
    with open(acklog, 'a') as ack:
        for block in range(first, first + count):
            buf.seek(0)
            buf.write(pattern(block, gen, size))
            try:
                os.pwrite(fd, buf, block * size)
            except OSError as exc:
                err = str(exc)
                break
            ack.write('%d\n' % block)
            ack.flush()
            done += 1
    os.close(fd)
    print(json.dumps({'written': done, 'error': err,
                      't': time.time() - started}))
    return 0 if err is None else 3


def read_acked(acklog):
    with open(acklog) as handle:
        return sorted({int(line) for line in handle if line.strip()})


def verify(dev, gen, acklog, size=MiB):
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = aligned(size)
    bad = []
    blocks = read_acked(acklog)
    for block in blocks:
        os.preadv(fd, [buf], block * size)
        if bytes(buf[:size]) != pattern(block, gen, size):
            bad.append(block)
    os.close(fd)
    print(json.dumps({'checked': len(blocks), 'bad': bad[:50],
                      'bad_count': len(bad)}))
    return 0 if not bad else 4


def main(argv):
    cmd = argv[1]
    if cmd == 'write':
        size = int(argv[7]) if len(argv) > 7 else MiB
        return write(argv[2], int(argv[3]), int(argv[4]), int(argv[5]),
                     argv[6], size)
    if cmd == 'verify':
        size = int(argv[5]) if len(argv) > 5 else MiB
        return verify(argv[2], int(argv[3]), argv[4], size)
    if cmd == 'size':
        fd = os.open(argv[2], os.O_RDONLY)
        print(os.lseek(fd, 0, os.SEEK_END))
        os.close(fd)
        return 0
    print('usage: blockio.py write|verify|size ...', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
