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
"""``drbdadm create-md`` and ``wipe-md``: what drbdmeta does to an LV.

Both refuse an LV that DRBD has attached ("Device is configured", exit
20) and ask before they overwrite or erase meta data: ``--force`` or
``yes`` on stdin confirms.  ``wipe-md`` of an LV without meta data says so
and succeeds (drbd-utils 9.22 on the ev3 lab: exit 0 both times).
"""

from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import drbd
from cinder.tests.unit.volume.drivers.ovt.sim import extents
from cinder.tests.unit.volume.drivers.ovt.sim import state


def _open(commands, verb):
    """(tool command, LV name, record); refuses an attached LV."""
    me = commands.me
    tool_cmd = 'drbdmeta %d v08 %s internal %s' % (me.minor, me.disk, verb)
    lv, record = commands._lv(tool_cmd)
    if devices.lv_drbd_holder(commands.ctx, lv):
        raise state.SimError(20, "Device '%d' is configured!\nCommand '%s' "
                                 "terminated with exit code 20\n"
                             % (me.minor, tool_cmd))
    return tool_cmd, lv, record


def _confirmed(ctx, options):
    answer = (ctx.process_input or '').strip()
    return '--force' in options or answer.startswith('yes')


def create_md(commands, options):
    """Write new internal meta data at the end of the LV."""
    ctx = commands.ctx
    tool_cmd, lv, record = _open(commands, 'create-md')
    peers = 1
    if ctx.drbd9:
        peers = int(options.get('--max-peers') or 0) or max(
            1, len(commands.conf.kernel_conf(ctx.host)['peers']))
    found = record['md'] is not None or extents.stale_end(ctx, lv, record)
    if found and not _confirmed(ctx, options):
        raise state.SimError(20, 'You want me to create a v08 style '
                                 'flexible-size internal meta data block.\n'
                                 'There appears to be a v08 flexible-size '
                                 'internal meta data block\nalready in place '
                                 'on %s at byte offset %d\n\nDo you really '
                                 'want to overwrite the existing meta-data?\n'
                                 "[need to type 'yes' to confirm] Operation "
                                 'canceled.\n'
                             % (commands.me.disk, record['size'] - 4096))
    if drbd.usable_bytes(record['size'], peers) <= 0:
        raise state.SimError(20, "Device size would be truncated, which\n"
                                 "would corrupt data and result in\n"
                                 "'access beyond end of device' errors.\n"
                                 "Command '%s' terminated with exit code "
                                 "20\n" % tool_cmd)
    old = record['md']
    if old is not None and old['lv_bytes'] != record['size']:
        extents.orphan(ctx, lv, record, old['lv_bytes'])
    area = drbd.md_bytes(record['size'], peers)
    extents.clear(ctx, lv, record, record['size'] - area, record['size'])
    record['md'] = drbd.new_md(record['size'], peers)
    return ('initializing activity log\ninitializing bitmap (%d KB) to all '
            'zero\nWriting meta data...\nNew drbd meta data block '
            'successfully created.\n' % ((area - 36 * 1024) // 1024)), ''


def wipe_md(commands, options):
    """Zero the meta data's superblock (``drbdmeta wipe-md``)."""
    ctx = commands.ctx
    tool_cmd, lv, record = _open(commands, 'wipe-md')
    stale = extents.stale_end(ctx, lv, record)
    if record['md'] is None and not stale:
        return '', 'There appears to be no drbd meta data to wipe out?\n'
    question = 'Do you really want to wipe out the DRBD meta data?\n'
    if not _confirmed(ctx, options):
        raise state.SimError(
            1, question + "[need to type 'yes' to confirm] \nCommand '%s' "
                          "terminated with exit code 1\n" % tool_cmd,
            stdout='Operation cancelled.\n')
    if '--force' in options:
        question += '*** confirmation forced via --force option ***\n'
    record['md'] = None
    if stale:
        extents.clear(ctx, lv, record, record['size'] - extents.BLOCK,
                      record['size'])
    return ('Wiping meta data...\nDRBD meta data block successfully wiped '
            'out.\n'), question
