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
"""Pure: the replication health of one resource, in Cinder's words."""

SYNCING = ('SyncSource', 'SyncTarget', 'PausedSyncS', 'PausedSyncT',
           'StartingSyncS', 'StartingSyncT', 'WFBitMapS', 'WFBitMapT',
           'WFSyncUUID')


def replica_health(status, expected_peers):
    """(replication_status, reason, sync percent) of one resource here.

    ``enabled``: up, UpToDate and connected to every peer; ``enabling``: a
    resynchronisation is running (the percent says how far); ``error``:
    anything an operator must look at, with what to do.
    """
    name = status.get('name')
    peers = status.get('peers') or []
    if status.get('role') == 'Unknown':
        return ('error', 'the replica is not up here (drbdadm up %s)' % name,
                None)
    syncing = [p for p in peers if p.get('replication') in SYNCING]
    if syncing:
        percent = min((p.get('sync_percent') or 0.0) for p in syncing)
        return 'enabling', 'resynchronising', percent
    if status.get('disk') != 'UpToDate':
        return ('error', 'local disk is %s; it must resynchronise from the '
                'Primary before it can be promoted' % status.get('disk'),
                None)
    down = [p for p in peers if p.get('connection') != 'Connected']
    if len(peers) < expected_peers or down:
        states = ', '.join('%s %s' % (p.get('node_name') or 'peer',
                                      p.get('connection')) for p in down)
        hint = ('split brain: keep the Primary\'s data, then on the stale '
                'host run "drbdadm connect --discard-my-data %s"' % name
                if any(p.get('connection') == 'StandAlone' for p in down)
                else 'a peer is not connected; check it is up')
        return 'error', '%s (%s)' % (hint, states or 'peer missing'), None
    stale = [p for p in peers if p.get('disk') != 'UpToDate']
    if stale:
        return ('error', 'peer disk %s' % ', '.join(
            str(p.get('disk')) for p in stale), None)
    return 'enabled', '', None
