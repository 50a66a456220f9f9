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
"""What the simulated DRBD kernel reports.

``/proc/drbd`` in DRBD 8.4's layout (version lines, one ``cs: ro: ds:`` line
per minor with its counters line and, while resyncing, the progress bar),
DRBD 9's short ``/proc/drbd``, ``drbdsetup status --json`` in drbd-utils 9's
layout, and the plain dict of ``SimHost.drbd()``.
"""

import json

from cinder.tests.unit.volume.drivers.ovt.sim import content
from cinder.tests.unit.volume.drivers.ovt.sim import drbd


def _peer_view(ctx, kernel, name, node, entry):
    """(connection, repl, peer role, peer disk, oos blocks, percent|None)."""
    found = kernel.peer(name, node)
    if found is None:
        conn = 'Connecting' if entry['want'] else 'StandAlone'
        md = kernel.md(name, write=False)
        oos = content.iv_count(md['oos'].get(node, []))
        return conn, 'Off', 'Unknown', entry['pdisk'] or 'DUnknown', oos, None
    _pctx, _pname, pk = found
    oos, percent = 0, None
    if entry['sync']:
        done = drbd.Kernel.sync_done(entry['sync'], ctx.tx.now)
        total = entry['sync']['total']
        oos = total - done
        percent = 100.0 * done / total if total else 100.0
    return 'Connected', entry['repl'], pk['role'], pk['disk'], oos, percent


def _bar(permille):
    x = permille // 50
    return '=' * max(0, x - 1) + '>' + '.' * (20 - x)


def _thousands(value):
    return '{:,}'.format(int(value))


def proc_drbd(ctx):
    """The text of ``cat /proc/drbd``."""
    version = ctx.cfg['drbd_version']
    if ctx.drbd9:
        return ('version: %s (api:2/proto:86-122)\nGIT-hash: '
                '0b2d6b8e3a9f5c1d7e4a2b6c8d0e1f2a3b4c5d6e build by sim@ev3, '
                '2024-01-01 00:00:00\nTransports (api:20): tcp (%s)\n'
                % (version, version))
    lines = ['version: %s (api:1/proto:86-101)' % version,
             'srcversion: 211FB288A383ED945B83420 ']
    kernel = drbd.Kernel(ctx)
    prev = -1
    for name, kres in sorted(ctx.kres().items(),
                             key=lambda item: item[1]['minor']):
        if kres['minor'] != prev + 1:
            lines.append('')
        prev = kres['minor']
        node, entry = sorted(kres['peers'].items())[0]
        conn, repl, prole, pdisk, oos, percent = _peer_view(
            ctx, kernel, name, node, entry)
        cs = {'Connecting': 'WFConnection', 'StandAlone': 'StandAlone'}.get(
            conn) or ('Connected' if repl == 'Established' else repl)
        proto = kres['conf']['protocol'] if entry['want'] else ' '
        # The flags: 's' (suspended) or 'r' (running), then the resync
        # pause and fencing/no-data suspension flags (never set here).
        lines.append('%2d: cs:%s ro:%s/%s ds:%s/%s %s %s-----' % (
            kres['minor'], cs, kres['role'], prole, kres['disk'], pdisk,
            proto, 's' if kres.get('suspended') else 'r'))
        stats = kres['stats']
        lines.append('    ns:%d nr:%d dw:%d dr:%d al:0 bm:0 lo:0 pe:0 ua:0 '
                     'ap:0 ep:1 wo:f oos:%d' % (stats['ns'], stats['nr'],
                                                stats['dw'], stats['dr'],
                                                oos * 4))
        if percent is not None:
            total = entry['sync']['total']
            permille = int(percent * 10)
            if total > (1 << 20):
                amounts = '(%d/%d)M' % (oos * 4 // 1024, total * 4 // 1024)
            else:
                amounts = '(%d/%d)K' % (oos * 4, total * 4)
            rate_k = entry['sync']['rate'] // 1024
            left = int(oos * 4 // max(1, rate_k))
            lines.append("\t[%s] sync'ed:%3d.%d%% %s" % (
                _bar(permille), permille // 10, permille % 10, amounts))
            # Only the SyncTarget shows the rate it asks for (real 8.4.11).
            want = (' want: %s' % _thousands(rate_k) if cs == 'SyncTarget'
                    else '')
            lines.append('\tfinish: %d:%02d:%02d speed: %s (%s)%s K/sec' % (
                left // 3600, left // 60 % 60, left % 60,
                _thousands(rate_k), _thousands(rate_k), want))
    return '\n'.join(lines) + '\n'


def _resource_json(ctx, kernel, name, kres):
    connections = []
    for node, entry in sorted(kres['peers'].items()):
        conn, repl, prole, pdisk, oos, percent = _peer_view(
            ctx, kernel, name, node, entry)
        nblocks = max(1, kres['size'] // drbd.BLOCK)
        peer_dev = {
            'volume': 0, 'replication-state': repl, 'peer-disk-state': pdisk,
            'peer-client': False,
            'resync-suspended': 'dependency' if repl.startswith('Paused')
            else 'no',
            'received': kres['stats']['nr'], 'sent': kres['stats']['ns'],
            'out-of-sync': oos * 4, 'pending': 0, 'unacked': 0,
            'has-sync-details': percent is not None,
            'has-online-verify-details': False,
            'percent-in-sync': round(100.0 * (nblocks - min(oos, nblocks)) /
                                     nblocks, 2)}
        if percent is not None:
            sync = entry['sync']
            peer_dev.update({
                'rs-total': sync['total'] * 4,
                'rs-dt-start-ms': int((ctx.tx.now - sync['start']) * 1000),
                'rs-paused-ms': 0, 'rs-dt0-ms': 0, 'rs-db0-sectors': 0,
                'rs-dt1-ms': 0, 'rs-db1-sectors': 0, 'rs-failed': 0,
                'rs-same-csum': 0, 'want': sync['rate'] // 1024,
                'db/dt [MiB/s]': round(sync['rate'] / 1048576.0, 2),
                'done': round(percent, 2),
                'eta': int(oos * drbd.BLOCK // sync['rate'])})
        connections.append({
            'peer-node-id': kres['conf']['peers'][node]['node_id'],
            'name': node, 'connection-state': conn, 'congested': False,
            'peer-role': prole, 'tls': False, 'ap-in-flight': 0,
            'rs-in-flight': 0, 'peer_devices': [peer_dev]})
    suspended = bool(kres.get('suspended'))
    return {
        'name': name, 'node-id': kres['conf']['node_id'],
        'role': kres['role'], 'suspended': suspended,
        'suspended-user': suspended,
        'suspended-no-data': False, 'suspended-fencing': False,
        'suspended-quorum': False, 'force-io-failures': False,
        'write-ordering': 'flush',
        'devices': [{'volume': 0, 'minor': kres['minor'],
                     'disk-state': kres['disk'], 'client': False,
                     'quorum': True, 'size': kres['size'] // 1024,
                     'read': kres['stats']['dr'],
                     'written': kres['stats']['dw'], 'al-writes': 0,
                     'bm-writes': 0, 'upper-pending': 0,
                     'lower-pending': 0}],
        'connections': connections}


def status_json(ctx, names=None):
    """The text of ``drbdsetup status --json``."""
    kernel = drbd.Kernel(ctx)
    items = [_resource_json(ctx, kernel, name, kres)
             for name, kres in sorted(ctx.kres().items())
             if names is None or name in names]
    return json.dumps(items, indent=2) + '\n'


def summary(ctx):
    """{res: {minor, role, disk, size_bytes, protocol, suspended, peers}}."""
    kernel = drbd.Kernel(ctx)
    result = {}
    for name, kres in sorted(ctx.kres().items()):
        peers = {}
        for node, entry in sorted(kres['peers'].items()):
            conn, repl, prole, pdisk, oos, percent = _peer_view(
                ctx, kernel, name, node, entry)
            peers[node] = {'connection': conn, 'role': prole, 'disk': pdisk,
                           'replication': repl, 'sync_percent': percent,
                           'out_of_sync_bytes': oos * drbd.BLOCK}
        result[name] = {'minor': kres['minor'], 'role': kres['role'],
                        'disk': kres['disk'], 'size_bytes': kres['size'],
                        'protocol': kres['conf']['protocol'],
                        'suspended': bool(kres.get('suspended')),
                        'backing': '/dev/%s/%s' % (kres['vg'], kres['lv']),
                        'peers': peers}
    return result
