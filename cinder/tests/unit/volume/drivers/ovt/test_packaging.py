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
"""The ev3-cinder-driver wheel ships the driver and nothing of Cinder.

These tests build a wheel from the source tree named by ``EV3_SOURCE_DIR``
(tools/run-tests.sh sets it) and inspect it; without that variable they are
skipped. The wheel is built from a clean copy of the tree, so stale build
output never hides a packaging mistake.
"""

import atexit
import configparser
import functools
import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

import fixtures
from oslo_config import cfg
from oslo_rootwrap import wrapper
import testtools
import yaml

from cinder.volume.drivers.ovt import options

DIST_NAME = 'ev3-cinder-driver'
VERSION = '0.1.0'
DIST_INFO = 'ev3_cinder_driver-%s.dist-info/' % VERSION
FILTERS_DATA = ('ev3_cinder_driver-%s.data/data/etc/cinder/rootwrap.d/'
                'ev3.filters' % VERSION)
PACKAGE_DIRS = ('cinder/volume/drivers/ovt/',
                'cinder/tests/unit/volume/drivers/ovt/')
ENTRY_POINT = 'cinder.volume.drivers.ovt.options:list_opts'
# The option names operators rely on (SPEC.md, LESSONS.md).
SPEC_OPTIONS = ('backend_id', 'backend_ip', 'backend_port',
                'replication_internal_secret', 'replication_mode',
                'replication_resync_rate', 'replication_starting_port')
# Left out of the copy the wheel is built from.
_PATTERNS = shutil.ignore_patterns('.git', '.venv', '.tox', '.stestr',
                                   '.cloud', 'run', 'build', 'dist',
                                   '*.egg-info', '__pycache__', '*.pyc', 'doc',
                                   'releasenotes')


def _IGNORED(directory, entries):
    # Run folders of the local cloud and the lab hold sockets: skip every
    # entry that is neither a file, a directory nor a link.
    ignored = set(_PATTERNS(directory, entries))
    for entry in entries:
        mode = os.lstat(os.path.join(directory, entry)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or
                stat.S_ISLNK(mode)):
            ignored.add(entry)
    return ignored


def _source_dir():
    path = os.environ.get('EV3_SOURCE_DIR')
    if path and os.path.isfile(os.path.join(path, 'setup.cfg')):
        return path
    return None


SKIP_REASON = ('EV3_SOURCE_DIR does not name the ev3 source tree (the '
               'directory holding setup.cfg); tools/run-tests.sh sets it')


def _build_isolation_args():
    """Build offline with the venv's setuptools when it can make wheels."""
    try:
        setuptools_version = importlib.metadata.version('setuptools')
    except importlib.metadata.PackageNotFoundError:
        return []
    major = int(setuptools_version.split('.')[0])
    if major >= 71 or importlib.util.find_spec('wheel') is not None:
        return ['--no-build-isolation']
    return []


@functools.lru_cache(maxsize=None)
def _built_wheel():
    """Build the wheel once per test process.

    Returns (wheel path, names in the wheel, the source copy it was built
    from).
    """
    workdir = tempfile.mkdtemp(prefix='ev3-wheel-')
    atexit.register(shutil.rmtree, workdir, True)
    src = os.path.join(workdir, 'src')
    shutil.copytree(_source_dir(), src, ignore=_IGNORED, symlinks=True)
    out = os.path.join(workdir, 'dist')
    cmd = ([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
            '--disable-pip-version-check', '--quiet', '-w', out] +
           _build_isolation_args() + [src])
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        raise AssertionError('wheel build failed: %s\n%s'
                             % (' '.join(cmd), proc.stdout[-4000:]))
    wheels = [n for n in os.listdir(out) if n.endswith('.whl')]
    if len(wheels) != 1:
        raise AssertionError('expected one wheel, got %s' % wheels)
    path = os.path.join(out, wheels[0])
    with zipfile.ZipFile(path) as archive:
        names = tuple(archive.namelist())
    return path, names, src


@testtools.skipUnless(_source_dir(), SKIP_REASON)
class WheelTestCase(testtools.TestCase):
    """The wheel built from the source tree."""

    def setUp(self):
        super(WheelTestCase, self).setUp()
        self.wheel, self.names, self.src = _built_wheel()

    def _read(self, name):
        with zipfile.ZipFile(self.wheel) as archive:
            return archive.read(name).decode('utf-8')

    def test_wheel_name_and_version(self):
        self.assertEqual('ev3_cinder_driver-%s-py3-none-any.whl' % VERSION,
                         os.path.basename(self.wheel))
        metadata = self._read(DIST_INFO + 'METADATA')
        self.assertIn('Name: %s\n' % DIST_NAME, metadata)
        self.assertIn('Version: %s\n' % VERSION, metadata)
        self.assertIn('Requires-Python: >=3.9', metadata)
        self.assertNotIn('Requires-Dist: cinder', metadata.lower())

    def test_only_ev3_files(self):
        foreign = [name for name in self.names
                   if not name.startswith(PACKAGE_DIRS + (DIST_INFO,))
                   and name != FILTERS_DATA]
        self.assertEqual([], foreign)
        self.assertNotIn('cinder/__init__.py', self.names)

    def test_every_source_module_is_shipped(self):
        src = self.src
        expected = set()
        for package_dir in PACKAGE_DIRS:
            for root, dirs, files in os.walk(os.path.join(src, package_dir)):
                dirs[:] = [d for d in dirs if d != '__pycache__']
                for name in files:
                    if name.endswith('.py'):
                        rel = os.path.relpath(os.path.join(root, name), src)
                        expected.add(rel.replace(os.sep, '/'))
        self.assertIn('cinder/volume/drivers/ovt/ev3.py', expected)
        self.assertEqual(set(), expected - set(self.names))

    def test_rootwrap_filters_shipped_as_data(self):
        self.assertIn(FILTERS_DATA, self.names)
        with open(os.path.join(self.src, 'etc', 'cinder', 'rootwrap.d',
                               'ev3.filters')) as source:
            self.assertEqual(source.read(), self._read(FILTERS_DATA))

    def test_oslo_config_entry_point(self):
        parser = configparser.ConfigParser()
        parser.read_string(self._read(DIST_INFO + 'entry_points.txt'))
        self.assertEqual(ENTRY_POINT, parser.get('oslo.config.opts', 'ev3'))
        module_name, attr = ENTRY_POINT.split(':')
        list_opts = getattr(importlib.import_module(module_name), attr)
        _assert_list_opts(self, list_opts())


def _assert_list_opts(case, listed):
    """list_opts() returns [(group, [Opt])] with every SPEC option."""
    case.assertIsInstance(listed, list)
    opts = {}
    for group, group_opts in listed:
        case.assertIsInstance(group, str)
        for opt in group_opts:
            case.assertIsInstance(opt, cfg.Opt)
            opts[opt.name] = opt
    case.assertEqual([], [name for name in SPEC_OPTIONS if name not in opts])
    case.assertTrue(opts['replication_internal_secret'].secret)
    for opt in opts.values():
        case.assertTrue(opt.help, 'option %s has no help' % opt.name)


class InstalledDistributionTestCase(testtools.TestCase):
    """What ``pip install .`` left in this environment."""

    def setUp(self):
        super(InstalledDistributionTestCase, self).setUp()
        try:
            self.dist = importlib.metadata.distribution(DIST_NAME)
        except importlib.metadata.PackageNotFoundError:
            self.skipTest('%s is not installed here (a development venv '
                          'with symlinks); tools/run-tests.sh installs it'
                          % DIST_NAME)

    def test_entry_point_loads_list_opts(self):
        points = [ep for ep in self.dist.entry_points
                  if ep.group == 'oslo.config.opts' and ep.name == 'ev3']
        self.assertEqual([ENTRY_POINT], [ep.value for ep in points])
        list_opts = points[0].load()
        self.assertIs(options.list_opts, list_opts)
        _assert_list_opts(self, list_opts())

    def test_tests_run_from_the_installed_copy(self):
        installed = [str(f) for f in self.dist.files]
        self.assertIn('cinder/volume/drivers/ovt/ev3.py', installed)
        self.assertNotIn('cinder/__init__.py', installed)
        here = os.path.realpath(__file__)
        self.assertEqual(
            os.path.realpath(str(self.dist.locate_file(
                'cinder/tests/unit/volume/drivers/ovt/test_packaging.py'))),
            here)


UUID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'


class RootwrapFiltersTestCase(testtools.TestCase):
    """ev3.filters allows exactly the commands the driver runs as root."""

    EXEC_DIRS = ['/sbin', '/usr/sbin', '/bin', '/usr/bin', '/usr/local/bin',
                 '/usr/local/sbin']

    def _filters_file(self):
        installed = os.path.join(sys.prefix, 'etc', 'cinder', 'rootwrap.d',
                                 'ev3.filters')
        if os.path.isfile(installed):
            return installed
        src = _source_dir()
        if src:
            return os.path.join(src, 'etc', 'cinder', 'rootwrap.d',
                                'ev3.filters')
        self.skipTest('ev3.filters is neither installed as %s nor in '
                      'EV3_SOURCE_DIR' % installed)

    def setUp(self):
        super(RootwrapFiltersTestCase, self).setUp()
        # Load ev3.filters alone: Cinder's volume.filters, installed beside
        # it, allows far more (any dd, for one).
        filters_dir = self.useFixture(fixtures.TempDir()).path
        shutil.copy(self._filters_file(), filters_dir)
        self.filters = wrapper.load_filters([filters_dir])
        self.assertGreater(len(self.filters), 0)

    def _allowed(self, *cmd):
        try:
            wrapper.match_filter(self.filters, list(cmd),
                                 exec_dirs=self.EXEC_DIRS)
        except wrapper.NoFilterMatched:
            return False
        except wrapper.FilterMatchNotExecutable:
            # Matched; the tool is just not installed on this machine.
            return True
        return True

    def test_driver_commands_allowed(self):
        for cmd in (
                ('drbdadm', 'up', 'volume-1'),
                ('drbdsetup', 'status', '--json'),
                ('blockdev', '--getsize64', '/dev/drbd1000'),
                ('blockdev', '--getsize64', '/dev/volumes/volume-1'),
                ('dd', 'if=/dev/zero', 'of=/dev/drbd12', 'bs=1M',
                 'count=1024', 'oflag=direct'),
                ('dd', 'if=/dev/volumes/_snapshot-%s' % UUID,
                 'of=/dev/volumes/volume-%s' % UUID, 'bs=1M', 'count=1024',
                 'iflag=direct', 'oflag=direct'),
                ('dd', 'if=/dev/volumes/_snapshot-%s' % UUID,
                 'of=/dev/drbd7', 'bs=1M', 'count=1024', 'iflag=direct',
                 'oflag=direct'),
                ('env', 'LC_ALL=C', 'lvcreate', '-n', 'volume-1', 'volumes'),
                ('env', 'LC_ALL=C', 'lvs', '--noheadings'),
                ('lvremove', '-f', 'volumes/volume-1'),
                ('cinder-rtstool', 'verify'),
                ('install', '-m', '0640', '-g', '117', '/dev/null',
                 '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('tee', '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('sync', '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('mv', '-f', '/etc/drbd.d/.volume-%s.res.tmp' % UUID,
                 '/etc/drbd.d/volume-%s.res' % UUID),
                ('sync', '/etc/drbd.d'),
                ('rm', '-f', '/etc/drbd.d/volume-%s.res' % UUID),
                ('rm', '-f', '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('cat', '/etc/drbd.d/volume-%s.res' % UUID)):
            self.assertTrue(self._allowed(*cmd), cmd)

    def test_other_devices_refused(self):
        for cmd in (
                ('dd', 'if=/dev/zero', 'of=/dev/sda', 'bs=1M', 'count=1',
                 'oflag=direct'),
                ('dd', 'if=/dev/drbd1', 'of=/dev/drbd2', 'bs=1M', 'count=1',
                 'oflag=direct'),
                ('dd', 'if=/dev/volumes/_snapshot-%s' % UUID, 'of=/dev/sda',
                 'bs=1M', 'count=1', 'iflag=direct', 'oflag=direct'),
                ('dd', 'if=/dev/sda', 'of=/dev/volumes/volume-%s' % UUID,
                 'bs=1M', 'count=1', 'iflag=direct', 'oflag=direct'),
                ('dd', 'if=/dev/volumes/../../dev/sda/volume-%s' % UUID,
                 'of=/dev/volumes/volume-%s' % UUID, 'bs=1M', 'count=1',
                 'iflag=direct', 'oflag=direct'),
                ('blockdev', '--getsize64', '/dev/../sda'),
                ('blockdev', '--setrw', '/dev/drbd1'),
                ('blockdev', '--getsize64', '/dev/volumes/../../sda'),
                ('tee', '/etc/cron.d/volume-%s.res' % UUID),
                ('tee', '/etc/drbd.d/../cron.d/x'),
                ('tee', '-a', '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('install', '-m', '4755', '-g', '0', '/dev/null',
                 '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('install', '-m', '0640', '-g', '0', '/bin/sh',
                 '/etc/drbd.d/.volume-%s.res.tmp' % UUID),
                ('mv', '-f', '/etc/drbd.d/.volume-%s.res.tmp' % UUID,
                 '/etc/drbd.conf'),
                ('rm', '-f', '/etc/drbd.d/global_common.conf'),
                ('rm', '-rf', '/etc/drbd.d'),
                ('cat', '/etc/shadow')):
            self.assertFalse(self._allowed(*cmd), cmd)


@testtools.skipUnless(_source_dir(), SKIP_REASON)
class DocumentationTestCase(testtools.TestCase):
    """README, docs and release notes keep up with the code."""

    def _text(self, *path):
        with open(os.path.join(_source_dir(), *path),
                  encoding='utf-8') as handle:
            return handle.read()

    def _section(self, text, title):
        lines = text.splitlines()
        start = lines.index(title) + 2
        end = len(lines)
        for i in range(start, len(lines) - 1):
            if lines[i + 1] and set(lines[i + 1]) == {'='} and lines[i]:
                end = i
                break
        return lines[start:end]

    def test_quick_start_has_exactly_two_commands(self):
        section = self._section(self._text('README.rst'),
                                'Quick start on a fresh Debian 12 machine')
        commands = [line.strip() for line in section
                    if line.startswith('    ') and line.strip()]
        self.assertEqual(['bash tools/cloud.sh demo',
                          'bash tools/run-tests.sh'],
                         commands)

    def test_every_option_documented(self):
        names = [opt.name for _group, opts in options.list_opts()
                 for opt in opts]
        for path in (('README.rst',),
                     ('doc', 'source', 'configuration.rst')):
            text = self._text(*path)
            self.assertEqual(
                [], [n for n in names if '``%s``' % n not in text],
                'options missing from %s' % os.path.join(*path))

    def test_docs_index_links_every_page(self):
        index = self._text('doc', 'source', 'index.rst')
        for page in ('install', 'configuration', 'runbook',
                     'contributor/internals'):
            self.assertIn('\n   %s\n' % page, index)
        self.assertIn('.. show-options:: ev3',
                      self._text('doc', 'source', 'configuration.rst'))

    def test_release_note_describes_the_driver(self):
        notes_dir = os.path.join(_source_dir(), 'releasenotes', 'notes')
        notes = [n for n in os.listdir(notes_dir)
                 if n.startswith('ev3-replicated-driver-')]
        self.assertEqual(1, len(notes), notes)
        self.assertRegex(notes[0],
                         r'^ev3-replicated-driver-[0-9a-f]{16}\.yaml$')
        note = yaml.safe_load(self._text('releasenotes', 'notes', notes[0]))
        self.assertTrue(note['prelude'].strip())
        features = '\n'.join(note['features'])
        self.assertIn('ReplicatedVolumeDriver', features)
        for name in SPEC_OPTIONS:
            self.assertIn('``%s``' % name, features)
