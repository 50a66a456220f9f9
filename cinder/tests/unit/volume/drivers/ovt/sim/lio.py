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
"""Simulated LIO through Cinder's ``cinder-rtstool`` command line.

Same argv forms, outputs and exit codes as ``cinder/cmd/rtstool.py``:
``verify``, ``create DEVICE IQN USER PASS ISER [INITIATORS] [-pPORT]
[-aIP,IP]``, ``get-targets``, ``delete IQN``, ``add-initiator IQN USER PASS
INITIATOR``, ``delete-initiator IQN INITIATOR``, ``save [FILE]``,
``restore [FILE]``.  A backstore opens its device exclusively (an LV under
DRBD is busy; a DRBD device that is not Primary refuses), and an exported
DRBD device counts as open.
"""

from cinder.tests.unit.volume.drivers.ovt.sim import devices
from cinder.tests.unit.volume.drivers.ovt.sim import state

DEFAULT_SAVE = '/etc/target/saveconfig.json'
_USAGE = ('Usage:\n'
          'cinder-rtstool create [device] [name] [userid] [password] '
          '[iser_enabled] <initiator_iqn,iqn2,iqn3,...> [-a<IP1,IP2,...>] '
          '[-pPORT]\n'
          'cinder-rtstool add-initiator [target_iqn] [userid] [password] '
          '[initiator_iqn]\n'
          'cinder-rtstool delete-initiator [target_iqn] [initiator_iqn]\n'
          'cinder-rtstool get-targets\ncinder-rtstool delete [iqn]\n'
          'cinder-rtstool verify\ncinder-rtstool save [path_to_file]\n')


def _usage():
    raise state.SimError(1, '', _USAGE)


def _traceback(line):
    raise state.SimError(1, 'Traceback (most recent call last):\n  File '
                            '"/usr/bin/cinder-rtstool", line 10, in <module>'
                            '\n    sys.exit(main())\n%s\n' % line)


def _open(ctx, path):
    try:
        return devices.open_device(ctx, path, write=True, exclusive=True)
    except OSError as err:
        if err.errno == 2:
            _traceback('rtslib_fb.utils.RTSLibError: Cannot find block '
                       'device %s' % path)
        _traceback('OSError: [Errno %d] %s: %r' % (
            err.errno, err.strerror, path))


def _create(ctx, args):
    if len(args) < 6 or len(args) > 9:
        _usage()
    path, iqn, user, password, iser = args[1:6]
    opts = {'initiators': None, 'ips': None, 'port': 3260}
    for arg in args[6:]:
        if arg.startswith('-a'):
            ips = [ip for ip in arg[2:].split(',') if ip]
            if not ips:
                _usage()
            opts['ips'] = ips
        elif arg.startswith('-p'):
            if not arg[2:].isdigit():
                _usage()
            opts['port'] = int(arg[2:])
        else:
            opts['initiators'] = arg
    targets = ctx.targets()
    if iqn in targets:
        return '', ''
    dev = _open(ctx, path)
    ips = opts['ips'] or ['0.0.0.0', '[::0]']
    portals = ['%s:%d' % (ip if (ip.startswith('[') or '.' in ip)
                          else '[%s]' % ip, opts['port']) for ip in ips]
    initiators = {}
    for initiator in (opts['initiators'] or '').strip(' ').split(','):
        if initiator:
            initiators[initiator] = {'user': user, 'password': password}
    ctx.targets()[iqn] = {
        'path': path, 'key': dev.key, 'user': user, 'password': password,
        'iser': iser == 'True', 'initiators': initiators, 'portals': portals}
    return '', ''


def _target(ctx, iqn):
    target = ctx.targets().get(iqn)
    if target is None:
        _traceback('cinder.cmd.rtstool.RtstoolError: Could not find target '
                   '%s' % iqn)
    return target


def _add_initiator(ctx, args):
    if len(args) < 5:
        _usage()
    iqn, user, password, initiator = args[1:5]
    target = _target(ctx, iqn)
    if any(i.lower() == initiator.lower() for i in target['initiators']):
        return '', ''
    ctx.lio(write=True)
    target['initiators'][initiator] = {'user': user, 'password': password}
    return '', ''


def _delete_initiator(ctx, args):
    if len(args) < 3:
        _usage()
    iqn, initiator = args[1:3]
    target = _target(ctx, iqn)
    for known in list(target['initiators']):
        if known.lower() == initiator.lower():
            ctx.lio(write=True)
            del target['initiators'][known]
            return '', ''
    return ('delete_initiator: %s ACL not found. Continuing.\n' % initiator,
            '')


def _save(ctx, args):
    if len(args) > 2:
        _usage()
    ctx.lio(write=True)['saved'] = {
        'file': args[1] if len(args) > 1 else DEFAULT_SAVE,
        'targets': state.plain(ctx.targets())}
    return '', ''


def _restore(ctx, args):
    if len(args) > 2:
        _usage()
    wanted = args[1] if len(args) > 1 else DEFAULT_SAVE
    saved = ctx.lio()['saved']
    if not saved or saved['file'] != wanted:
        _traceback("cinder.cmd.rtstool.RtstoolError: Could not restore "
                   "configuration file %s: [Errno 2] No such file or "
                   "directory: '%s'" % (wanted, wanted))
    errors = []
    targets = ctx.targets()
    for iqn, target in sorted(saved['targets'].items()):
        if iqn in targets:
            continue
        try:
            dev = devices.open_device(ctx, target['path'], write=True,
                                      exclusive=True)
        except OSError as err:
            errors.append('Could not create StorageObject %s: %s, skipped'
                          % (iqn, err.strerror))
            continue
        targets[iqn] = dict(state.plain(target), key=dev.key)
    if errors:
        _traceback('rtslib_fb.utils.RTSLibError: ' + '\n'.join(errors))
    return '', ''


def main(ctx, args):
    """Run ``cinder-rtstool args``; returns (stdout, stderr)."""
    if not args:
        _usage()
    command = args[0]
    if command == 'verify':
        return '', ''
    handlers = {'create': _create, 'add-initiator': _add_initiator,
                'delete-initiator': _delete_initiator, 'save': _save,
                'restore': _restore}
    if command not in handlers and command not in ('get-targets', 'delete'):
        _usage()
    if not ctx.as_root:
        _traceback("PermissionError: [Errno 13] Permission denied: "
                   "'/sys/kernel/config/target'")
    if command == 'get-targets':
        return ''.join('%s\n' % iqn
                       for iqn in sorted(ctx.targets())), ''
    if command == 'delete':
        if len(args) < 2:
            _usage()
        if args[1] in ctx.targets():
            del ctx.targets()[args[1]]
        return '', ''
    return handlers[command](ctx, args)
