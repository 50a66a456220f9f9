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
"""Tests of DrbdAdm against a small stateful fake of one DRBD host."""

import json

from oslo_concurrency import processutils

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import drbdadm
from cinder.volume.drivers.ovt import exception

ROOT = 'sudo cinder-rootwrap /etc/cinder/rootwrap.conf'
A = 'volume-0b5c3f7e-6a3d-4c1e-9f00-1234567890ab'
B = 'volume-1b5c3f7e-6a3d-4c1e-9f00-1234567890ab'
C = 'volume-2b5c3f7e-6a3d-4c1e-9f00-1234567890ab'


class FakeDrbdHost(object):
    """Kernel and config state of one host; refuses unexpected commands."""

    def __init__(self, kernel='0x08040b', configured=None,
                 down_unknown_ok=True):
        self.kernel = kernel
        self.configured = dict(configured or {})   # name -> minor
        self.up = {}                                # name -> state dict
        self.down_unknown_ok = down_unknown_ok

    @staticmethod
    def _fail(cmd, code, stderr):
        raise processutils.ProcessExecutionError(
            exit_code=code, stdout='', stderr=stderr, cmd=' '.join(cmd))

    def __call__(self, *cmd, **kwargs):
        run_as_root = kwargs.get('run_as_root', False)
        if list(cmd) == ['cat', '/proc/drbd']:
            if self.kernel.startswith('0x09'):
                raise AssertionError('DRBD 9 has no status in /proc/drbd')
            return self._proc(), ''
        if not run_as_root or kwargs.get('root_helper') != ROOT:
            raise AssertionError('%s must run as root via %s' % (cmd, ROOT))
        if list(cmd) == ['drbdadm', '--version']:
            return ('DRBD_KERNEL_VERSION_CODE=%s\nDRBDADM_VERSION_CODE='
                    '0x091600\nDRBDADM_VERSION=9.22.0\n' % self.kernel), ''
        if list(cmd) == ['drbdsetup', 'status', '--json']:
            if not self.kernel.startswith('0x09'):
                raise AssertionError('drbdsetup status --json needs DRBD 9')
            return self._json(), ''
        return self._drbdadm(cmd)

    def _drbdadm(self, cmd):
        forms = {('drbdadm', '--', '--force', 'create-md'): 'create-md',
                 ('drbdadm', '--', '--clear-bitmap', 'new-current-uuid'):
                 'clear-bitmap',
                 ('drbdadm', 'primary', '--force'): 'force-primary'}
        verb = forms.get(tuple(cmd[:-1]))
        if verb is None and len(cmd) == 3 and cmd[0] == 'drbdadm':
            verb = cmd[1]
        name = cmd[-1]
        if verb not in ('create-md', 'clear-bitmap', 'force-primary', 'up',
                        'down', 'adjust', 'resize', 'primary', 'secondary',
                        'connect', 'disconnect'):
            raise AssertionError('unexpected command %s' % (cmd,))
        if name not in self.configured:
            self._fail(cmd, 10, "'%s' not defined in your config (for this "
                                "host)." % name)
        state = self.up.get(name)
        if verb == 'up':
            if state is not None:
                self._fail(cmd, 10, '%s: Failure: (161) Minor or volume '
                                    'exists already (delete it first)' % name)
            self.up[name] = {'role': 'Secondary', 'disk': 'Inconsistent'}
        elif verb == 'down':
            if state is None and not self.down_unknown_ok:
                self._fail(cmd, 10, '%s: Failure: (158) Unknown resource'
                           % name)
            self.up.pop(name, None)
        elif verb == 'create-md':
            pass
        elif state is None:
            self._fail(cmd, 10, '%d: Failure: (127) Device minor not '
                                'allocated' % self.configured[name])
        elif verb == 'primary' and state['disk'] != 'UpToDate':
            self._fail(cmd, 17, '%d: State change failed: (-2) Need access '
                                'to UpToDate data' % self.configured[name])
        elif verb in ('primary', 'force-primary'):
            state.update(role='Primary', disk='UpToDate')
        elif verb == 'secondary':
            state['role'] = 'Secondary'
        elif verb == 'clear-bitmap':
            state['disk'] = 'UpToDate'
        return '', ''

    def _proc(self):
        lines = ['version: 8.4.11 (api:1/proto:86-101)']
        for name, minor in sorted(self.configured.items(),
                                  key=lambda item: item[1]):
            state = self.up.get(name)
            if state is None:
                lines.append('%2d: cs:Unconfigured' % minor)
                continue
            lines.append('%2d: cs:WFConnection ro:%s/Unknown ds:%s/DUnknown '
                         'C r-----' % (minor, state['role'], state['disk']))
            lines.append('    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 '
                         'ap:0 ep:1 wo:f oos:0')
        return '\n'.join(lines) + '\n'

    def _json(self):
        return json.dumps([
            {'name': name, 'role': state['role'], 'suspended': False,
             'devices': [{'volume': 0, 'minor': self.configured[name],
                          'disk-state': state['disk'], 'size': 1024}],
             'connections': [{'name': 'peer', 'connection-state':
                              'Connecting', 'peer-role': 'Unknown',
                              'peer_devices': []}]}
            for name, state in sorted(self.up.items())])


class DrbdAdmTestCase(test.TestCase):

    def setUp(self):
        super(DrbdAdmTestCase, self).setUp()
        self.host = FakeDrbdHost(configured={A: 1, B: 2})
        self.adm = drbdadm.DrbdAdm(self.host, root_helper=ROOT,
                                   host='hci-0001@RBS')

    def _states(self, mapping=None):
        mapping = mapping or {1: A, 2: B}
        return {name: status.to_dict()
                for name, status in self.adm.status_all(mapping).items()}

    def test_version(self):
        version = self.adm.version()
        self.assertEqual('8.4.11', version.kernel_text)
        self.assertEqual((9, 22, 0), version.utils)

    def test_up_is_idempotent(self):
        self.adm.create_md(A)
        self.adm.up(A)
        self.adm.up(A)
        states = self._states()
        self.assertEqual(('Secondary', 'Inconsistent'),
                         (states[A]['role'], states[A]['disk']))
        self.assertEqual('Connecting', states[A]['peers'][0]['connection'])
        self.assertEqual({'name': B, 'minor': 2, 'role': 'Unknown',
                          'disk': 'Diskless', 'size_bytes': None,
                          'peers': []}, states[B])

    def test_down_is_idempotent(self):
        self.adm.up(A)
        self.adm.down(A)
        self.adm.down(A)
        self.host.down_unknown_ok = False
        self.adm.down(A)
        self.assertFalse(drbd.ResourceStatus.from_dict(
            self._states()[A]).is_up)

    def test_not_configured(self):
        error = self.assertRaises(exception.ResourceNotFound, self.adm.up, C)
        self.assertIn('hci-0001@RBS', str(error))
        self.assertRaises(exception.ResourceNotFound, self.adm.down, C)

    def test_invalid_name_never_runs(self):
        self.assertRaises(exception.InvalidName, self.adm.up, '-all')

    def test_roles(self):
        self.adm.up(A)
        error = self.assertRaises(exception.DrbdCommandError,
                                  self.adm.primary, A)
        self.assertEqual(17, error.kwargs['code'])
        self.assertIn('Need access to UpToDate data', str(error))
        self.assertIn('drbdadm primary %s' % A, str(error))
        self.assertEqual('Secondary', self._states()[A]['role'])
        self.adm.primary(A, force=True)
        self.assertEqual(('Primary', 'UpToDate'),
                         (self._states()[A]['role'],
                          self._states()[A]['disk']))
        self.adm.secondary(A)
        self.adm.primary(A)
        self.assertEqual('Primary', self._states()[A]['role'])

    def test_secret_never_in_errors(self):
        def failing(*cmd, **kwargs):
            raise processutils.ProcessExecutionError(
                exit_code=10, stderr=(
                    "%s: Failure: (102) Local address(port) already in use.\n"
                    "Command 'drbdsetup-84 connect %s ipv4:10.0.0.1:7001 "
                    "ipv4:10.0.0.2:7001 --cram-hmac-alg=sha256 "
                    "--shared-secret=T0PS3CRET --protocol=C' terminated "
                    "with exit code 10\nshared-secret \"T0PS3CRET\";"
                    % (A, A)))
        adm = drbdadm.DrbdAdm(failing, root_helper=ROOT)
        error = self.assertRaises(exception.DrbdCommandError, adm.up, A)
        self.assertNotIn('T0PS3CRET', str(error))
        self.assertNotIn('T0PS3CRET', repr(error.kwargs))
        self.assertTrue(error.__suppress_context__)
        self.assertIn('--shared-secret=***', str(error))
        self.assertIn('already in use', str(error))

    def test_clear_bitmap(self):
        self.adm.up(A)
        self.adm.clear_bitmap(A)
        self.assertEqual('UpToDate', self._states()[A]['disk'])

    def test_commands_on_a_resource_not_up_fail(self):
        for command in (self.adm.resize, self.adm.adjust, self.adm.connect,
                        self.adm.disconnect, self.adm.secondary):
            error = self.assertRaises(exception.DrbdCommandError, command, A)
            self.assertIn('(127)', str(error))

    def test_drbd9_status(self):
        self.host.kernel = '0x090208'
        self.adm.up(B)
        self.adm.clear_bitmap(B)
        states = self._states({1: A, 2: B, 3: C})
        self.assertEqual({A, B, C}, set(states))
        self.assertEqual((2, 'UpToDate', 1024 * 1024),
                         (states[B]['minor'], states[B]['disk'],
                          states[B]['size_bytes']))
        self.assertEqual('peer', states[B]['peers'][0]['node_name'])
        self.assertEqual(('Unknown', 'Diskless', []),
                         (states[C]['role'], states[C]['disk'],
                          states[C]['peers']))

    def test_module_not_loaded(self):
        self.host.kernel = '0x000000'
        states = self._states()
        self.assertEqual({A, B}, set(states))
        self.assertFalse(any(drbd.ResourceStatus.from_dict(s).is_up
                             for s in states.values()))
