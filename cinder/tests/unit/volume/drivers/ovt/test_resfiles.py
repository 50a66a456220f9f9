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
"""Tests of the resource file writer against a temporary directory."""

import os
import stat

import fixtures
from oslo_concurrency import processutils

from cinder.tests.unit import test
from cinder.volume.drivers.ovt import drbd
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import resfiles

A = 'volume-0b5c3f7e-6a3d-4c1e-9f00-1234567890ab'
B = 'volume-1b5c3f7e-6a3d-4c1e-9f00-1234567890ab'
GiB = 1024 ** 3
ROOT_HELPER = 'sudo cinder-rootwrap /etc/cinder/rootwrap.conf'
V84 = drbd.DrbdVersion(kernel=(8, 4, 11), utils=(9, 22, 0))


def text_of(name, size=1024 ** 3):
    nodes = tuple(drbd.Node(backend_id='hci-000%d@RBS' % n,
                            node_name='hci-000%d' % n, node_id=n,
                            address='10.0.10.2%d' % n, port=7001,
                            minor=1001, volume_group='volumes')
                  for n in (1, 2))
    return drbd.render(drbd.Resource(
        name=name, nodes=nodes, protocol=drbd.Protocol.C,
        resync_rate_mib=100, size_bytes=size, thin=False,
        shared_secret='s3cret'), V84)


class FileFunctionsTestCase(test.TestCase):

    def setUp(self):
        super(FileFunctionsTestCase, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_write_read_remove(self):
        resfiles.write_file(self.dir, A, text_of(A))
        resfiles.write_file(self.dir, B, text_of(B))
        self.assertEqual({A: text_of(A), B: text_of(B)},
                         resfiles.read_files(self.dir))
        resfiles.remove_file(self.dir, A)
        resfiles.remove_file(self.dir, A)
        self.assertEqual([B], list(resfiles.read_files(self.dir)))
        self.assertEqual([B + '.res'], os.listdir(self.dir))

    def test_mode_0640_and_no_temp_left(self):
        resfiles.write_file(self.dir, A, text_of(A))
        resfiles.write_file(self.dir, A, text_of(A, size=2 * 1024 ** 3))
        path = os.path.join(self.dir, A + '.res')
        self.assertEqual(0o640, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual([A + '.res'], os.listdir(self.dir))
        self.assertEqual(2 * 1024 ** 3, drbd.parse_header(
            resfiles.read_files(self.dir)[A])['size_bytes'])

    def test_failed_write_keeps_old_file(self):
        resfiles.write_file(self.dir, A, text_of(A))
        self.useFixture(fixtures.MonkeyPatch(
            'os.replace', _raise(OSError('disk full'))))
        self.assertRaises(OSError, resfiles.write_file, self.dir, A,
                          text_of(A, size=2 * 1024 ** 3))
        self.assertEqual([A + '.res'], os.listdir(self.dir))
        self.assertEqual({A: text_of(A)}, resfiles.read_files(self.dir))

    def test_only_ev3_files_are_read(self):
        resfiles.write_file(self.dir, A, text_of(A))
        others = {'global_common.conf': 'global {}\n',
                  'r0.res': 'resource r0 {}\n',
                  B + '.res': 'resource %s {}\n' % B,
                  '.%s.abc.tmp' % B: text_of(B)}
        for entry, text in others.items():
            with open(os.path.join(self.dir, entry), 'w') as handle:
                handle.write(text)
        os.symlink(os.path.join(self.dir, A + '.res'),
                   os.path.join(self.dir, 'volume-2b5c3f7e-6a3d-4c1e-9f00-'
                                          '1234567890ab.res'))
        self.assertEqual([A], list(resfiles.read_files(self.dir)))

    def test_missing_directory_reads_empty(self):
        self.assertEqual({}, resfiles.read_files(
            os.path.join(self.dir, 'absent')))

    def test_refuses_bad_names_and_foreign_text(self):
        for name in ('../etc/passwd', 'r0', A + '/x', A.upper()):
            self.assertRaises(exception.InvalidName, resfiles.write_file,
                              self.dir, name, text_of(A))
            self.assertRaises(exception.InvalidName, resfiles.remove_file,
                              self.dir, name)
        for text in ('resource %s {}\n' % A, text_of(B), 'x' * 70000):
            self.assertRaises(exception.InvalidName, resfiles.write_file,
                              self.dir, A, text)
        self.assertEqual([], os.listdir(self.dir))


class RootwrapResourceFilesTestCase(test.TestCase):
    """The root-helper writer, running the real coreutils on a temp dir."""

    def setUp(self):
        super(RootwrapResourceFilesTestCase, self).setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.fail_tool = None
        self.files = resfiles.RootwrapResourceFiles(
            self._execute, ROOT_HELPER,
            directory=self.dir)

    def _execute(self, *cmd, **kwargs):
        # The root helper is this test's own user: run the command itself.
        self.assertTrue(kwargs.pop('run_as_root'))
        self.assertEqual(ROOT_HELPER, kwargs.pop('root_helper'))
        if cmd[0] == self.fail_tool:
            raise processutils.ProcessExecutionError(
                exit_code=1, stderr='%s: No space left on device' % cmd[0],
                cmd=' '.join(cmd))
        return processutils.execute(*cmd, **kwargs)

    def test_round_trip_with_mode_and_group(self):
        self.files.write(A, text_of(A))
        path = os.path.join(self.dir, A + '.res')
        self.assertEqual(0o640, stat.S_IMODE(os.stat(path).st_mode))
        self.assertEqual(os.getgid(), os.stat(path).st_gid)
        self.assertEqual({A: text_of(A)}, self.files.read_all())
        self.files.write(A, text_of(A, size=2 * 1024 ** 3))
        self.assertEqual([A + '.res'], os.listdir(self.dir))
        self.assertEqual(2 * 1024 ** 3, drbd.parse_header(
            self.files.read_all()[A])['size_bytes'])
        self.files.remove(A)
        self.files.remove(A)
        self.assertEqual({}, self.files.read_all())
        self.assertEqual([], os.listdir(self.dir))

    def test_failed_write_keeps_old_file_and_no_temp(self):
        self.files.write(A, text_of(A))
        self.fail_tool = 'sync'
        self.assertRaises(processutils.ProcessExecutionError,
                          self.files.write, A, text_of(A, size=2 * GiB))
        self.assertEqual({A: text_of(A)}, self.files.read_all())
        self.assertEqual([A + '.res'], os.listdir(self.dir))

    def test_bad_names_refused_before_any_command(self):
        for bad in ('../../etc/cron.d/x', 'volume-1', A + '/../x'):
            self.assertRaises(exception.InvalidName, self.files.write, bad,
                              text_of(A))
            self.assertRaises(exception.InvalidName, self.files.remove, bad)
        self.assertRaises(exception.InvalidName, self.files.write, A,
                          text_of(B))
        self.assertEqual([], os.listdir(self.dir))


def _raise(error):
    def fail(*args, **kwargs):
        raise error
    return fail
