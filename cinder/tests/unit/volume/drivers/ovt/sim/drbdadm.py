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
"""Simulated ``drbdadm`` and ``drbdsetup`` command lines.

Accepted forms (options may also follow ``--`` before the command, as in
``drbdadm -- --force create-md r``): ``--version``, ``create-md [--force]
[--max-peers=N]``, ``wipe-md [--force]``, ``up``, ``down``, ``adjust``,
``primary [--force]``, ``secondary``, ``new-current-uuid
[--clear-bitmap]``, ``resize [--assume-peer-has-space] [--assume-clean]``,
``connect [--discard-my-data]``, ``disconnect``, ``dump``, ``suspend-io``
and ``resume-io``, each on one resource (``up``/``down``/``adjust`` also on
``all``; ``primary``/``secondary``/``suspend-io``/``resume-io`` also on
several); ``drbdsetup status --json [resource]`` on DRBD 9 hosts.  Anything
else is refused.
"""

import os

from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import drbd
from cinder.tests.unit.volume.drivers.ovt.sim import drbdconf
from cinder.tests.unit.volume.drivers.ovt.sim import drbdmeta
from cinder.tests.unit.volume.drivers.ovt.sim import drbdstatus
from cinder.tests.unit.volume.drivers.ovt.sim import extents
from cinder.tests.unit.volume.drivers.ovt.sim import state

E_USAGE = 20
_OPTIONS = {'create-md': ('--force', '--max-peers'), 'wipe-md': ('--force',),
            'primary': ('--force',), 'connect': ('--discard-my-data',),
            'new-current-uuid': ('--clear-bitmap',),
            'resize': ('--assume-peer-has-space', '--assume-clean'),
            'up': (), 'down': (), 'adjust': (), 'secondary': (),
            'disconnect': (), 'dump': (), 'suspend-io': (), 'resume-io': ()}


def version_text(version):
    parts = [int(p) if p.isdigit() else 0 for p in version.split('.')][:3]
    while len(parts) < 3:
        parts.append(0)
    nine = parts[0] >= 9
    lines = ['DRBDADM_BUILDTAG=GIT-hash:\\ 0b2d6b8e\\ build\\ by\\ sim@ev3\\,'
             '\\ 2024-01-01\\ 00:00:00',
             'DRBDADM_API_VERSION=%d' % (2 if nine else 1),
             'DRBD_KERNEL_VERSION_CODE=0x%02x%02x%02x' % tuple(parts)]
    if nine:
        lines.append('DRBD_KERNEL_GIT_HASH=0b2d6b8e3a9f5c1d7e4a2b6c8d0e1f2a')
    lines += ['DRBD_KERNEL_VERSION=%s' % version,
              'DRBDADM_VERSION_CODE=0x091600', 'DRBDADM_VERSION=9.22.0']
    return '\n'.join(lines) + '\n'


def _usage(message):
    raise state.SimError(E_USAGE, message + '\nUSAGE: drbdadm COMMAND '
                                            '[OPTION...] {all|RESOURCE...}\n')


def configs(ctx, focus=None):
    directory = os.path.join(ctx.tx.store.root, ctx.host, 'etc', 'drbd.d')
    return drbdconf.load(ctx.tx.conf_cache, directory, ctx.host,
                         ctx.drbd9, focus=focus)


def main(ctx, args):
    """Run ``drbdadm args``; returns (stdout, stderr)."""
    if args == ['--version']:
        return version_text(ctx.cfg['drbd_version']), ''
    options, words = {}, []
    for arg in args:
        if arg == '--':
            continue
        if arg.startswith('-'):
            key, _sep, value = arg.partition('=')
            options[key] = value or True
        else:
            words.append(arg)
    if not words:
        _usage('drbdadm: no command given')
    command, targets = words[0], words[1:]
    if command not in _OPTIONS:
        _usage("drbdadm: Unknown command '%s'" % command)
    for key in options:
        if key not in _OPTIONS[command]:
            _usage("drbdsetup %s: unrecognized option '%s'" % (command, key))
    if not targets or (len(targets) > 1 and command not in _MULTI):
        _usage('drbdadm %s: exactly one resource expected' % command)
    if not ctx.as_root:
        raise state.SimError(E_USAGE, 'drbdadm %s: You need to be root to '
                                      'do this (Operation not permitted)\n'
                             % command)
    if len(targets) > 1:
        return _run_each(ctx, command, targets, options)
    target = targets[0].split('/')[0]
    if target == 'all' and command in ('up', 'down', 'adjust'):
        confs = configs(ctx)
        names = sorted(n for n, c in confs.resources.items()
                       if c.node(ctx.host)) if confs.error is None else []
        if confs.error is not None:
            raise confs.error
        out = []
        for name in names:
            out.append(run(ctx, command, name, options))
        return ''.join(o for o, _e in out), ''.join(e for _o, e in out)
    return run(ctx, command, target, options)


# Commands that take several resources in one call, as drbdadm's
# "{command} {context...}" synopsis allows; role changes and I/O freezes are
# what ev3 batches.
_MULTI = ('primary', 'secondary', 'suspend-io', 'resume-io')


def _run_each(ctx, command, targets, options):
    """Run ``command`` on each resource; fail at the end if any failed."""
    outs, errs, first = [], [], None
    for target in targets:
        try:
            out, err = run(ctx, command, target.split('/')[0], options)
        except state.SimError as exc:
            first = first or exc
            errs.append(exc.stderr)
            continue
        outs.append(out)
        errs.append(err)
    if first is not None:
        raise state.SimError(first.exit_code, ''.join(errs))
    return ''.join(outs), ''.join(errs)


def run(ctx, command, name, options):
    confs = configs(ctx, focus=name)
    conf = confs.get(name, ctx.host)
    commands = Commands(ctx, name, conf)
    return getattr(commands, command.replace('-', '_'))(options)


class Commands(object):
    """drbdadm commands on resource ``name`` of host ``ctx.host``."""

    def __init__(self, ctx, name, conf):
        self.ctx = ctx
        self.name = name
        self.conf = conf
        self.kernel = drbd.Kernel(ctx)
        self.me = conf.node(ctx.host)

    def _kres(self, cmd):
        kres = self.kernel.res(self.name)
        if kres is None:
            if self.ctx.drbd9:
                drbd.failure(self.ctx, self.name, self.me.minor, 158,
                             'Unknown resource', '%s %s' % (cmd, self.name))
            drbd.failure(self.ctx, self.name, self.me.minor, 127,
                         'Device minor not allocated', '%s %d'
                         % (cmd, self.me.minor), 'unknown minor')
        return kres

    def _lv(self, tool_cmd, code=None):
        parsed = devices.parse_path(self.me.disk)
        record = None
        if parsed and parsed[0] == 'lv' and parsed[1] == self.ctx.vg:
            record = self.ctx.lvs().get(parsed[2])
        if record is None or not record['active'] or \
                record['type'] == 'thin-pool':
            if code is None:
                raise state.SimError(20, "open(%s) failed: No such file or "
                                         "directory\nCommand '%s' terminated "
                                         "with exit code 20\n"
                                     % (self.me.disk, tool_cmd))
            drbd.failure(self.ctx, self.name, self.me.minor, code,
                         'Can not open backing device.', tool_cmd)
        return parsed[2], record

    # lifecycle --------------------------------------------------------------

    def create_md(self, options):
        return drbdmeta.create_md(self, options)

    def wipe_md(self, options):
        return drbdmeta.wipe_md(self, options)

    def up(self, options):
        ctx, me = self.ctx, self.me
        if self.kernel.res(self.name) is not None:
            drbd.failure(ctx, self.name, me.minor, 161, 'Minor or volume '
                         'exists already (delete it first)',
                         'new-minor %s %d 0' % (self.name, me.minor))
        kconf = self.conf.kernel_conf(ctx.host)
        for other, kres in ctx.kres().items():
            if kres['minor'] == me.minor:
                drbd.failure(ctx, self.name, me.minor, 161, 'Minor or volume '
                             'exists already (delete it first)',
                             'new-minor %s %d 0' % (self.name, me.minor))
            if kres['conf']['addr'] == kconf['addr']:
                drbd.failure(ctx, self.name, me.minor, 102,
                             'Local address(port) already in use.',
                             'connect %s' % self.name)
        attach = 'attach %d %s %s internal' % (me.minor, me.disk, me.disk)
        lv, record = self._lv(attach, code=104)
        if devices.lv_drbd_holder(ctx, lv) or devices.holders(
                ctx, 'lv:%s/%s' % (ctx.vg, lv)):
            drbd.failure(ctx, self.name, me.minor, 104,
                         'Can not open backing device.', attach)
        md = record['md']
        if md is None or md['lv_bytes'] != record['size']:
            drbd.failure(ctx, self.name, me.minor, 119, 'No valid meta-data '
                         "signature found.\n\n\t==> Use 'drbdadm create-md "
                         "%s' to initialize meta-data area. <==\n" % self.name,
                         attach)
        cap = drbd.usable_bytes(md['lv_bytes'], md['peers'])
        usize = kconf['usize']
        if usize and usize > cap:
            drbd.failure(ctx, self.name, me.minor, 111, 'Low.dev. smaller '
                         'than requested DRBD-dev. size.', attach)
        size = usize or (md['la'] if 0 < md['la'] <= cap else cap)
        disk = {'Inconsistent': 'Inconsistent',
                'Outdated': 'Outdated'}.get(md['state'])
        if disk is None:
            disk = 'Consistent' if (ctx.drbd9 or kconf['fencing'] !=
                                    'dont-care') else 'UpToDate'
        ctx.kres()[self.name] = {
            'minor': me.minor, 'role': 'Secondary', 'disk': disk,
            'vg': ctx.vg, 'lv': lv, 'size': size, 'conf': kconf,
            'peers': {node: _entry() for node in kconf['peers']},
            'stats': {'ns': 0, 'nr': 0, 'dw': 0, 'dr': 0}}
        ctx.log('%s: disk( Diskless -> Attaching -> %s )' % (self.name, disk))
        self.kernel.try_connect(self.name)
        return '', ''

    def down(self, options):
        kres = self.kernel.res(self.name)
        if kres is None:
            return '', ''
        if self.kernel.open_count(self.name):
            # As DRBD 8.4.11 prints it (real kernel, ev3 lab): the resource
            # name first, and the kernel's reason.
            drbd.state_error(self.ctx, self.name, kres['minor'], -12,
                             'Device is held open by someone',
                             'down %s' % self.name, who=self.name,
                             info='' if self.ctx.drbd9 else
                             'failed to demote')
        for node in list(kres['peers']):
            self.kernel.drop(self.name, node)
        del self.ctx.kres()[self.name]
        self.ctx.log('%s: disk( %s -> Diskless ) ... down' % (
            self.name, kres['disk']))
        return '', ''

    def adjust(self, options):
        kres = self.kernel.res(self.name)
        if kres is None:
            return self.up(options)
        ctx = self.ctx
        new = self.conf.kernel_conf(ctx.host)
        old = kres['conf']
        if new['minor'] != old['minor'] or new['disk'] != '/dev/%s/%s' % (
                kres['vg'], kres['lv']):
            raise state.SimError(20, 'sim: adjust cannot change the minor or '
                                     'backing disk of %s; down/up it\n'
                                 % self.name)
        self._net_options(kres, old, new)
        for node in list(kres['peers']):
            if node not in new['peers'] or new['addr'] != old['addr'] or \
                    new['peers'][node] != old['peers'][node]:
                self.kernel.drop(self.name, node)
                if node not in new['peers']:
                    del kres['peers'][node]
        for node in new['peers']:
            kres['peers'].setdefault(node, _entry())['want'] = True
        kres['conf'] = new
        if new['usize'] != old['usize']:
            self._resize(False, False, new['usize'])
        self.kernel.try_connect(self.name)
        return '', ''

    def _net_options(self, kres, old, new):
        """The ``net-options`` step of adjust: checks, then the change.

        The kernel's checks (drbd_nl.c ``_check_net_options``) refuse,
        changing nothing: allow-two-primaries without protocol C (139),
        protocol A with fencing resource-and-stonith (154), clearing
        allow-two-primaries while both sides are Primary (164).  Otherwise
        the connection stays up and every connected peer takes the new
        protocol over (P_PROTOCOL_UPDATE); a peer that is not connected
        keeps its own and meets the change at its next handshake.
        """
        keys = ('protocol', 'two_pri', 'fencing')
        if all(new[k] == old[k] for k in keys):
            return
        if self.ctx.drbd9:
            cmd = 'net-options %s %s --protocol=%s' % (
                self.name, ','.join(sorted(
                    str(p['node_id']) for p in new['peers'].values())),
                new['protocol'])
        else:
            peer = sorted(new['peers'].values(), key=lambda p: p['addr'])
            cmd = 'net-options ipv4:%s ipv4:%s --protocol=%s' % (
                new['addr'], peer[0]['addr'] if peer else '-',
                new['protocol'])
        if new['two_pri'] and new['protocol'] != 'C':
            drbd.failure(self.ctx, self.name, kres['minor'], 139,
                         'Protocol C required', cmd)
        if new['protocol'] == 'A' and new['fencing'] == \
                'resource-and-stonith':
            drbd.failure(self.ctx, self.name, kres['minor'], 154,
                         'Fencing policy resource-and-stonith only with '
                         'prot B or C allowed', cmd)
        if old['two_pri'] and not new['two_pri'] and \
                kres['role'] == 'Primary' and any(
                    (self.kernel.peer(self.name, node) or
                     (None, None, {}))[2].get('role') == 'Primary'
                    for node in kres['peers']):
            drbd.failure(self.ctx, self.name, kres['minor'], 164,
                         'Can not clear allow_two_primaries as long as\n'
                         'there a primaries on both sides', cmd)
        if new['protocol'] == old['protocol']:
            return
        for node in sorted(kres['peers']):
            found = self.kernel.peer(self.name, node)
            if found is None:
                continue
            pctx, pname, pk = found
            pk['conf']['protocol'] = new['protocol']
            pctx.log('%s: peer %s changed the protocol to %s' % (
                pname, self.ctx.host, new['protocol']))
        self.ctx.log('%s: protocol %s -> %s' % (
            self.name, old['protocol'], new['protocol']))

    # roles ----------------------------------------------------------------

    def primary(self, options):
        kres = self._kres('primary')
        ctx, kernel = self.ctx, self.kernel
        cmd = ('primary %s' % self.name if ctx.drbd9 else
               'primary %d' % kres['minor'])
        if kres['role'] == 'Primary':
            return '', ''
        for node in kres['peers']:
            found = kernel.peer(self.name, node)
            if found and found[2]['role'] == 'Primary' and not (
                    kres['conf']['two_pri'] and
                    found[2]['conf']['two_pri']):
                drbd.state_error(ctx, self.name, kres['minor'], -1,
                                 'Multiple primaries not allowed by config',
                                 cmd)
        if kres['disk'] != 'UpToDate':
            if '--force' not in options or kres['disk'] == 'Diskless':
                drbd.state_error(ctx, self.name, kres['minor'], -2,
                                 'Need access to UpToDate data', cmd,
                                 exit_code=17)
            md = kernel.md(self.name)
            old = md['uuid']
            if old != drbd.JUST_CREATED:
                md['hist'] = ([old] + md['hist'])[:8]
                for node, entry in kres['peers'].items():
                    if not entry['conn'] and md['bm'].get(node) is None:
                        md['bm'][node] = old
            md['uuid'] = drbd.new_uuid()
            md['sync_from'] = None
            for node, entry in sorted(kres['peers'].items()):
                if entry['sync']:
                    kernel.drop(self.name, node)
                    entry['want'] = True
            kernel._set_disk(ctx, self.name, 'UpToDate')
            for node in sorted(kres['peers']):
                found = kernel.peer(self.name, node)
                if found:
                    kernel.start_sync((ctx, self.name), found[:2], None)
            kernel.try_connect(self.name)
        ctx.kres()[self.name]['role'] = 'Primary'
        ctx.log('%s: role( Secondary -> Primary )' % self.name)
        return '', ''

    def secondary(self, options):
        kres = self._kres('secondary')
        if self.kernel.open_count(self.name):
            drbd.state_error(self.ctx, self.name, kres['minor'], -12,
                             'Device is held open by someone',
                             'secondary %s' % (self.name if self.ctx.drbd9
                                               else kres['minor']))
        if kres['role'] == 'Primary':
            kres['role'] = 'Secondary'
            self.ctx.log('%s: role( Primary -> Secondary )' % self.name)
        return '', ''

    def new_current_uuid(self, options):
        kres = self._kres('new-current-uuid')
        kernel = self.kernel
        md = kernel.md(self.name)
        peers = [kernel.peer(self.name, node) for node in sorted(
            kres['peers'])]
        peers = [p for p in peers if p is not None]
        if '--clear-bitmap' in options and md['uuid'] == drbd.JUST_CREATED \
                and peers:
            uuid = drbd.new_uuid()
            members = [(self.ctx, self.name)] + [
                (p[0], p[1]) for p in peers
                if kernel.md(p[1], p[0])['uuid'] == drbd.JUST_CREATED]
            for ctx, name in members:
                pmd = kernel.md(name, ctx)
                pmd.update(uuid=uuid, hist=[], bm={}, oos={}, sync_from=None)
                kernel._set_disk(ctx, name, 'UpToDate')
                ctx.log('%s: Preparing to skip initial sync' % name)
            return '', ''
        if md['uuid'] != drbd.JUST_CREATED:
            md['hist'] = ([md['uuid']] + md['hist'])[:8]
        md['uuid'] = drbd.new_uuid()
        if '--clear-bitmap' in options:
            md['oos'] = {}
        return '', ''

    def resize(self, options):
        self._kres('resize')
        self._resize('--assume-peer-has-space' in options,
                     '--assume-clean' in options, self.conf.usize)
        return '', ''

    def _resize(self, assume_peer, assume_clean, usize):
        ctx, kernel, name = self.ctx, self.kernel, self.name
        kres = ctx.kres()[name]
        cmd = 'resize %s' % (name if ctx.drbd9 else kres['minor'])
        if any(e['sync'] for e in kres['peers'].values()):
            drbd.failure(ctx, name, kres['minor'], 130, 'Resize not allowed '
                         'during resync.', cmd)
        members = [(ctx, name)]
        disconnected = False
        for node in sorted(kres['peers']):
            found = kernel.peer(name, node)
            if found:
                members.append(found[:2])
            else:
                disconnected = True
        caps = []
        for c, n in members:
            k = c.kres()[n]
            k['conf']['usize'] = usize
            md = kernel.md(n, c)
            record = c.lvs()[k['lv']]
            if md['lv_bytes'] != record['size']:
                # The meta data moves to the new end; the old superblock
                # stays where it was (drbd_determine_dev_size).
                extents.orphan(c, k['lv'], record, md['lv_bytes'])
            md['lv_bytes'] = record['size']
            caps.append(drbd.usable_bytes(md['lv_bytes'], md['peers']))
        if usize and usize > min(caps):
            drbd.failure(ctx, name, kres['minor'], 111, 'Low.dev. smaller '
                         'than requested DRBD-dev. size.', cmd)
        old = kres['size']
        new = usize or min(caps)
        if disconnected and not assume_peer:
            new = min(new, old)
        if new < old and not usize:
            new = old
        for c, n in members:
            c.kres()[n]['size'] = new
            kernel.md(n, c)['la'] = new
        if new > old and len(members) > 1 and not assume_clean:
            source = next((m for m in members
                           if m[0].kres()[m[1]]['role'] == 'Primary'),
                          members[0])
            for member in members:
                if member is not source and kernel.peer(
                        source[1], member[0].host, source[0]):
                    kernel.start_sync(source, member, [[
                        old // drbd.BLOCK, new // drbd.BLOCK]])

    # application I/O -------------------------------------------------------

    def _minor_kres(self, cmd):
        """The kernel state, or drbdsetup's error for an unknown minor.

        ``suspend-io``/``resume-io`` are volume commands: drbdadm runs
        ``drbdsetup suspend-io <minor>`` on 8.4 and 9 alike.
        """
        kres = self.kernel.res(self.name)
        if kres is None:
            drbd.failure(self.ctx, self.name, self.me.minor, 127,
                         'Device minor not allocated', '%s %d'
                         % (cmd, self.me.minor), 'unknown minor')
        return kres

    def suspend_io(self, options):
        """Freeze application I/O on this host's device (``susp_user``).

        Resync and writes replicated from peers still reach the backing
        LV, as in DRBD; local reads and writes are refused until
        ``resume-io`` (the kernel would block them).
        """
        kres = self._minor_kres('suspend-io')
        if not kres.get('suspended'):
            kres['suspended'] = True
            self.ctx.log('%s: susp( 0 -> 1 )' % self.name)
        return '', ''

    def resume_io(self, options):
        """Let application I/O on this host's device run again."""
        kres = self._minor_kres('resume-io')
        if kres.get('suspended'):
            kres['suspended'] = False
            self.ctx.log('%s: susp( 1 -> 0 )' % self.name)
        return '', ''

    # connections -------------------------------------------------------------

    def connect(self, options):
        kres = self._kres('connect')
        if kres['peers'] and all(e['want'] for e in kres['peers'].values()):
            drbd.failure(self.ctx, self.name, kres['minor'], 125, 'Device has '
                         'a net-config (use disconnect first)',
                         'connect %s' % self.name)
        for entry in kres['peers'].values():
            if not entry['want']:
                entry.update(want=True,
                             discard='--discard-my-data' in options)
        self.kernel.try_connect(self.name)
        return '', ''

    def disconnect(self, options):
        kres = self._kres('disconnect')
        outdate = kres['role'] == 'Primary' and \
            kres['conf']['fencing'] != 'dont-care'
        for node, entry in sorted(kres['peers'].items()):
            self.kernel.drop(self.name, node, outdate_peer=outdate)
            entry['want'] = False
        return '', ''

    def dump(self, options):
        fname = os.path.basename(self.conf.file)[:-4]
        return configs(self.ctx).texts.get(fname, ''), ''


def _entry():
    return {'want': True, 'conn': False, 'repl': 'Off', 'pres': None,
            'pdisk': None, 'sync': None, 'discard': False}


def drbdsetup(ctx, args):
    """``drbdsetup status --json [resource]`` (DRBD 9 hosts only)."""
    if not ctx.drbd9:
        raise state.SimError(20, "drbdsetup-84: unrecognized option "
                                 "'--json'\n")
    rest = [a for a in args if a != '--json']
    if not args or args[0] != 'status' or '--json' not in args or \
            len(rest) > 2:
        raise state.SimError(20, 'sim: only "drbdsetup status --json '
                                 '[RESOURCE]" is simulated\n')
    if not ctx.as_root:
        raise state.SimError(20, 'drbdsetup: You need to be root\n')
    names = None
    if len(rest) == 2 and rest[1] != 'all':
        if rest[1] not in ctx.kres():
            raise state.SimError(10, '%s: No such resource\n' % rest[1])
        names = [rest[1]]
    return drbdstatus.status_json(ctx, names), ''
