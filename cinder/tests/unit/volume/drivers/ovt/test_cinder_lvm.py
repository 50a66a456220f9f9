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
"""Cinder's own LVM driver tests, re-run against ReplicatedVolumeDriver.

With no ``replication_device`` configured the ev3 driver must behave as
Cinder's LVM driver, so ``cinder.tests.unit.volume.drivers.test_lvm_driver``
runs here unchanged: its two test cases are subclassed, and in ``setUp`` the
test module's ``lvm`` name is replaced by a proxy module whose
``LVMVolumeDriver`` is the ev3 driver (``cinder.volume.drivers.lvm`` itself is
never patched: the ev3 class calls it through ``super()``).

A test whose expectation changes by design is listed in
``SKIPPED_BY_DESIGN`` with the design decision that changes it; nothing else
is skipped.

The module also checks that Cinder's driver discovery (the one its
compliance tests and documentation use) finds the driver.
"""

import json
import os
import subprocess
import sys
import types

import cinder
from cinder import interface
from cinder.interface import volume_driver
from cinder.tests.unit import test
from cinder.tests.unit.volume.drivers import test_lvm_driver
from cinder.volume.drivers import lvm
from cinder.volume.drivers.ovt import ev3
from cinder.volume.drivers.ovt import options

DRIVER_FQN = 'cinder.volume.drivers.ovt.ev3.ReplicatedVolumeDriver'

# {test name: the design decision that changes Cinder's expectation}.
# Test names are those of test_lvm_driver's two test cases (ddt-expanded
# names included). Keep each reason a sentence naming the decision.
SKIPPED_BY_DESIGN = {
}


def _lvm_proxy():
    """A stand-in for the ``lvm`` module with ev3 as ``LVMVolumeDriver``."""
    proxy = types.ModuleType(lvm.__name__, lvm.__doc__)
    proxy.LVMVolumeDriver = ev3.ReplicatedVolumeDriver

    def __getattr__(name):
        return getattr(lvm, name)

    proxy.__getattr__ = __getattr__
    return proxy


def _skipped_by_design(name, reason):
    def test_skipped(self):
        self.skipTest('ev3 design: %s' % reason)
    test_skipped.__name__ = name
    test_skipped.__doc__ = 'Skipped by design: %s' % reason
    return test_skipped


class _ReplicatedDriverMixin(object):
    """Runs the inherited LVM tests with ReplicatedVolumeDriver."""

    driver_name = DRIVER_FQN

    def setUp(self):
        super(_ReplicatedDriverMixin, self).setUp()
        self.patch('cinder.tests.unit.volume.drivers.test_lvm_driver.lvm',
                   new=_lvm_proxy())

    def test_runs_the_replicated_driver(self):
        """The inherited tests see ev3 wherever they say LVMVolumeDriver."""
        self.assertIs(ev3.ReplicatedVolumeDriver,
                      test_lvm_driver.lvm.LVMVolumeDriver)
        self.assertIsInstance(self.volume.driver, ev3.ReplicatedVolumeDriver)
        # Cinder's own class is untouched: ev3 reaches it through super().
        real = sys.modules['cinder.volume.drivers.lvm'].LVMVolumeDriver
        self.assertIsNot(ev3.ReplicatedVolumeDriver, real)
        self.assertTrue(issubclass(ev3.ReplicatedVolumeDriver, real))


class LVMVolumeDriverTestCase(_ReplicatedDriverMixin,
                              test_lvm_driver.LVMVolumeDriverTestCase):
    """Cinder's LVMVolumeDriverTestCase against ReplicatedVolumeDriver."""


class LVMISCSITestCase(_ReplicatedDriverMixin,
                       test_lvm_driver.LVMISCSITestCase):
    """Cinder's LVMISCSITestCase against ReplicatedVolumeDriver."""


_CASES = (LVMVolumeDriverTestCase, LVMISCSITestCase)
for _name, _reason in SKIPPED_BY_DESIGN.items():
    for _case in _CASES:
        if hasattr(_case, _name):
            setattr(_case, _name, _skipped_by_design(_name, _reason))


class SkipListTestCase(test.TestCase):
    """The by-design skip list names only tests that exist."""

    def test_every_skipped_test_exists_in_cinder(self):
        parents = (test_lvm_driver.LVMVolumeDriverTestCase,
                   test_lvm_driver.LVMISCSITestCase)
        unknown = [name for name in SKIPPED_BY_DESIGN
                   if not any(name.startswith('test_') and
                              hasattr(parent, name) for parent in parents)]
        self.assertEqual([], unknown)

    def test_every_skip_has_a_reason(self):
        self.assertEqual(
            [], [name for name, reason in SKIPPED_BY_DESIGN.items()
                 if len(reason.strip()) < 20])


# Run in a fresh interpreter so that the driver is registered only if the
# walk over cinder/volume/drivers imports it. cinder.tests.unit.test
# registers the options some other drivers need, as in Cinder's compliance
# tests.
_DISCOVERY_SCRIPT = '''
import json
import sys
from cinder.tests.unit import test  # noqa
from cinder.interface import util
from cinder.interface import volume_driver
found = []
for info in util.get_volume_drivers():
    if info.class_fqn.startswith('cinder.volume.drivers.ovt.'):
        found.append({
            'class_fqn': info.class_fqn,
            'version': info.version,
            'ci_wiki_name': info.ci_wiki_name,
            'options': sorted(o.name for o in info.driver_options),
            'core': issubclass(info.cls, volume_driver.VolumeDriverCore),
        })
error = None
if not found:
    # The walk swallows import errors: say why the driver is missing.
    try:
        __import__('cinder.volume.drivers.ovt.ev3')
    except Exception as exc:
        error = repr(exc)
json.dump({'found': found, 'error': error}, sys.stdout)
'''


class DriverDiscoveryTestCase(test.TestCase):
    """Cinder's compliance discovery finds ReplicatedVolumeDriver."""

    def _site_packages(self):
        return os.path.dirname(os.path.dirname(os.path.abspath(
            cinder.__file__)))

    def test_registered_by_the_interface_decorator(self):
        self.assertIn(ev3.ReplicatedVolumeDriver,
                      interface._volume_register)
        self.assertTrue(issubclass(ev3.ReplicatedVolumeDriver,
                                   volume_driver.VolumeDriverCore))

    def test_found_by_get_volume_drivers(self):
        site = self._site_packages()
        driver_dir = os.path.join(site, 'cinder', 'volume', 'drivers', 'ovt')
        if os.path.islink(driver_dir):
            self.skipTest('%s is a symlink (a development install); Cinder '
                          'walks cinder/volume/drivers with os.walk, which '
                          'does not follow symlinks' % driver_dir)
        # get_volume_drivers() walks cinder/volume/drivers relative to the
        # current directory: run it from the Cinder install.
        proc = subprocess.run(
            [sys.executable, '-W', 'ignore', '-c', _DISCOVERY_SCRIPT],
            cwd=site, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=300, check=False)
        self.assertEqual(0, proc.returncode, proc.stderr[-4000:])
        report = json.loads(proc.stdout)
        found = report['found']
        self.assertEqual([DRIVER_FQN], [d['class_fqn'] for d in found],
                         'import error: %s' % report['error'])
        info = found[0]
        self.assertTrue(info['core'])
        self.assertEqual(ev3.ReplicatedVolumeDriver.VERSION, info['version'])
        self.assertEqual(ev3.ReplicatedVolumeDriver.CI_WIKI_NAME,
                         info['ci_wiki_name'])
        ev3_names = set(opt.name for opt in options.ev3_opts)
        self.assertTrue(ev3_names.issubset(info['options']),
                        ev3_names - set(info['options']))
        self.assertIn('volume_group', info['options'])
