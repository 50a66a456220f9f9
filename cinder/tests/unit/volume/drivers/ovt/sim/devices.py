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
"""The command context of one simulated host, and its block devices.

``Ctx`` bundles what a simulated tool needs: the transaction, the host's
name and settings, whether the caller is root, and cluster-wide helpers.
The device functions resolve paths (``/dev/<vg>/<lv>``,
``/dev/mapper/<vg>-<lv>``, ``/dev/drbd<minor>``, ``/dev/drbd/by-res/...``)
and apply the kernel's open rules: DRBD opens a backing LV exclusively, LIO
opens its device exclusively, and a DRBD device opens only on the Primary
(write: EROFS, read: EMEDIUMTYPE, as DRBD 8.4's ``drbd_open``).  I/O to a
DRBD device suspended by ``drbdadm suspend-io`` would block in the kernel;
the simulator cannot block, so ``check_io`` refuses it with EAGAIN.
"""

import collections
import errno
import os
import re

Device = collections.namedtuple('Device', 'kind key vg lv res size')

_MAPPER_RE = re.compile(r'^((?:[^-]|--)+)-((?:[^-]|--)+)$')


class Ctx(object):
    """What one command on one host works with."""

    def __init__(self, tx, host, as_root, process_input=None):
        self.tx = tx
        self.host = host
        self.as_root = as_root
        self.process_input = process_input

    @property
    def cfg(self):
        return self.tx.cluster()['hosts'][self.host]

    @property
    def vg(self):
        return self.cfg['vg']

    @property
    def drbd9(self):
        return not self.cfg['drbd_version'].startswith('8.')

    def lvs(self):
        """{lv name: record} (changes are tracked and saved)."""
        return self.tx.collection(self.host, 'lvs')

    def kres(self):
        """{resource: DRBD kernel state} of the resources that are up."""
        return self.tx.collection(self.host, 'res')

    def targets(self):
        """{iqn: LIO target}."""
        return self.tx.collection(self.host, 'targets')

    def drbd(self, write=False):
        """The kernel log document."""
        return self.tx.host(self.host, 'drbd', write)

    def lio(self, write=False):
        """Saved LIO configuration and Python-level holds."""
        return self.tx.host(self.host, 'lio', write)

    def on(self, host):
        """The same command context for another host of the cluster."""
        return Ctx(self.tx, host, True)

    def next_seq(self):
        doc = self.tx.cluster(write=True)
        doc['seq'] += 1
        return doc['seq']

    def alive(self, host):
        info = self.tx.cluster()['hosts'].get(host)
        return bool(info) and info['alive']

    def partitioned(self, other):
        pair = sorted([self.host, other])
        return pair in self.tx.cluster()['partitions']

    def log(self, message):
        """Append a kernel log line (``SimHost.kernel_log()``)."""
        doc = self.drbd(write=True)
        doc['log'].append(message)
        del doc['log'][:-200]


def parse_path(path):
    """('lv', vg, lv) | ('drbd', minor) | ('res', name) | ('zero',) | None."""
    if path == '/dev/zero':
        return ('zero',)
    parts = path.split('/')
    if len(parts) < 3 or parts[0] != '' or parts[1] != 'dev':
        return None
    if len(parts) == 3:
        match = re.match(r'^drbd(\d+)$', parts[2])
        return ('drbd', int(match.group(1))) if match else None
    if parts[2] == 'drbd' and len(parts) in (5, 6) and parts[3] == 'by-res':
        if len(parts) == 6 and parts[5] != '0':
            return None
        return ('res', parts[4])
    if parts[2] == 'mapper' and len(parts) == 4:
        match = _MAPPER_RE.match(parts[3])
        if not match:
            return None
        return ('lv', match.group(1).replace('--', '-'),
                match.group(2).replace('--', '-'))
    if len(parts) == 4 and parts[2] and parts[3]:
        return ('lv', parts[2], parts[3])
    return None


def oserror(code, path):
    return OSError(code, os.strerror(code), path)


def drbd_by_minor(ctx, minor):
    for name, kres in ctx.kres().items():
        if kres['minor'] == minor:
            return name, kres
    return None, None


def lv_drbd_holder(ctx, lv):
    """Name of the DRBD resource attached to LV ``lv`` here, or None."""
    for name, kres in ctx.kres().items():
        if kres['lv'] == lv:
            return name
    return None


def holders(ctx, key):
    """LIO targets and Python holds on device ``key`` (not DRBD)."""
    count = ctx.lio()['holds'].get(key, 0)
    for target in ctx.targets().values():
        if target['key'] == key:
            count += 1
    return count


def lv_open(ctx, lv):
    """True when LV ``lv`` is open (DRBD backing, exported, held)."""
    record = ctx.lvs().get(lv)
    if record is None:
        return False
    if record['type'] == 'thin-pool':
        return any(r.get('pool') == lv and r['active']
                   for r in ctx.lvs().values())
    return bool(lv_drbd_holder(ctx, lv) or
                holders(ctx, 'lv:%s/%s' % (ctx.vg, lv)))


def resolve(ctx, path):
    """The Device at ``path`` or raise OSError(ENOENT)."""
    parsed = parse_path(path)
    if parsed is None:
        raise oserror(errno.ENOENT, path)
    if parsed[0] == 'zero':
        return Device('zero', 'zero', None, None, None, None)
    if parsed[0] == 'lv':
        record = ctx.lvs().get(parsed[2])
        if parsed[1] != ctx.vg or record is None or not record['active'] \
                or record['type'] == 'thin-pool':
            raise oserror(errno.ENOENT, path)
        return Device('lv', 'lv:%s/%s' % parsed[1:], parsed[1], parsed[2],
                      None, record['size'])
    if parsed[0] == 'drbd':
        name, kres = drbd_by_minor(ctx, parsed[1])
    else:
        name = parsed[1]
        kres = ctx.kres().get(name)
    if kres is None:
        raise oserror(errno.ENOENT, path)
    return Device('drbd', 'drbd:%s' % name, kres['vg'], kres['lv'], name,
                  kres['size'])


def open_device(ctx, path, write, exclusive=False):
    """Resolve ``path`` and check that it may be opened as asked."""
    dev = resolve(ctx, path)
    if dev.kind == 'lv' and exclusive and (
            lv_drbd_holder(ctx, dev.lv) or holders(ctx, dev.key)):
        raise oserror(errno.EBUSY, path)
    if dev.kind == 'drbd':
        kres = ctx.kres()[dev.res]
        if kres['role'] != 'Primary':
            if ctx.drbd9 and not write and kres['disk'] == 'UpToDate':
                pass
            elif write:
                raise oserror(errno.EROFS, path)
            else:
                raise oserror(errno.EMEDIUMTYPE, path)
        if exclusive and holders(ctx, dev.key):
            raise oserror(errno.EBUSY, path)
    return dev


def suspended(ctx, dev):
    """True when ``dev`` is a DRBD device whose I/O is suspended here."""
    return dev.kind == 'drbd' and bool(
        ctx.kres()[dev.res].get('suspended'))


def check_io(ctx, dev, path):
    """Raise OSError(EAGAIN) for application I/O to a suspended device."""
    if suspended(ctx, dev):
        raise OSError(errno.EAGAIN, 'I/O is suspended (drbdadm suspend-io %s;'
                      ' DRBD would block until resume-io)' % dev.res, path)
