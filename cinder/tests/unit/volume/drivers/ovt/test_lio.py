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
"""Tests of Ev3LioAdm against a fake cinder-rtstool that keeps targets."""

import copy
import threading
import time

from oslo_concurrency import processutils

from cinder import context
from cinder import exception as cinder_exception
from cinder.tests.unit import test
from cinder.tests.unit import utils as test_utils
from cinder.volume import configuration as conf
from cinder.volume import driver
from cinder.volume.drivers.ovt import lio

PREFIX = 'iqn.2010-10.org.openstack:'


class FakeRtstool(object):
    """Targets of one host's LIO, changed only by cinder-rtstool."""

    def __init__(self, root_helper):
        self.root_helper = root_helper
        self.targets = {}       # iqn -> {'path', 'acl', 'portals', 'chap'}
        self.saved = {}
        self.verified = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0

    def __call__(self, *cmd, **kwargs):
        if cmd[0] != 'cinder-rtstool':
            raise AssertionError('unexpected command %s' % (cmd,))
        if cmd[1] == 'verify':
            self.verified = True
            return '', ''
        if not kwargs.get('run_as_root') or (
                kwargs.get('root_helper') != self.root_helper):
            raise AssertionError('%s must run as root' % (cmd,))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            return getattr(self, '_' + cmd[1].replace('-', '_'))(*cmd[2:])
        finally:
            self.in_flight -= 1

    def _fail(self, message):
        raise processutils.ProcessExecutionError(exit_code=1, stderr=message)

    def _create(self, path, iqn, user, password, iser, *options):
        if iqn in self.targets:
            self._fail('target %s exists' % iqn)
        portals = [opt[2:] for opt in options if opt.startswith('-a')]
        self.targets[iqn] = {'path': path, 'acl': set(),
                             'chap': (user, password), 'portals': portals}
        return '', ''

    def _delete(self, iqn):
        if iqn not in self.targets:
            self._fail('no target %s' % iqn)
        del self.targets[iqn]
        return '', ''

    def _get_targets(self):
        return ''.join(iqn + '\n' for iqn in sorted(self.targets)), ''

    def _add_initiator(self, iqn, user, password, initiator):
        self.targets[iqn]['acl'].add(initiator)
        return '', ''

    def _delete_initiator(self, iqn, initiator):
        self.targets[iqn]['acl'].discard(initiator)
        return '', ''

    def _save(self):
        self.saved = copy.deepcopy(self.targets)
        return '', ''

    def _restore(self):
        self.targets = copy.deepcopy(self.saved)
        return '', ''


class Ev3LioAdmTestCase(test.TestCase):

    def setUp(self):
        super(Ev3LioAdmTestCase, self).setUp()
        self.ctxt = context.get_admin_context()
        self.configuration = conf.Configuration(driver.volume_opts,
                                                config_group='ev3lio')
        self.override_config('target_ip_address', '10.0.251.21', 'ev3lio')
        self.override_config('target_secondary_ip_addresses',
                             ['10.0.252.21'], 'ev3lio')
        self.override_config('target_helper', 'lioadm', 'ev3lio')
        root_helper = 'sudo cinder-rootwrap %s' % (
            self.configuration.safe_get('rootwrap_config') or
            conf.CONF.rootwrap_config)
        self.rtstool = FakeRtstool(root_helper)
        self.target = lio.Ev3LioAdm(configuration=self.configuration,
                                    executor=self.rtstool)
        self.volume = test_utils.create_volume(self.ctxt)
        self.iqn = PREFIX + self.volume.name

    def test_verified_through_the_executor(self):
        self.assertTrue(self.rtstool.verified)

    def test_broken_rtstool_fails_construction(self):
        def broken(*cmd, **kwargs):
            raise processutils.ProcessExecutionError(exit_code=1)
        self.assertRaises(processutils.ProcessExecutionError, lio.Ev3LioAdm,
                          configuration=self.configuration, executor=broken)

    def test_export_lifecycle(self):
        update = self.target.create_export(self.ctxt, self.volume,
                                           '/dev/drbd1001')
        target = self.rtstool.targets[self.iqn]
        self.assertEqual('/dev/drbd1001', target['path'])
        self.assertEqual(['10.0.251.21,10.0.252.21'], target['portals'])
        self.assertEqual(self.rtstool.targets, self.rtstool.saved)
        self.assertIn(self.iqn, update['location'])

        self.volume.provider_location = update['location']
        self.volume.provider_auth = update['auth']
        self.volume.save()
        connector = {'initiator': 'iqn.1993-08.org.debian:01:abc'}
        info = self.target.initialize_connection(self.volume, connector)
        self.assertEqual({'iqn.1993-08.org.debian:01:abc'}, target['acl'])
        self.assertEqual(self.iqn, info['data']['target_iqn'])
        self.target.terminate_connection(self.volume, connector)
        self.assertEqual(set(), target['acl'])

        self.target.remove_export(self.ctxt, self.volume)
        self.assertEqual({}, self.rtstool.targets)
        self.assertEqual({}, self.rtstool.saved)

    def test_create_failure_is_cinders_error(self):
        self.target.create_export(self.ctxt, self.volume, '/dev/drbd1001')
        self.assertRaises(cinder_exception.ISCSITargetCreateFailed,
                          self.target.create_iscsi_target, self.iqn, 0, 0,
                          '/dev/drbd1002')
        self.assertEqual('/dev/drbd1001',
                         self.rtstool.targets[self.iqn]['path'])

    def test_ensure_export_restores_saved_targets(self):
        self.target.create_export(self.ctxt, self.volume, '/dev/drbd1001')
        self.rtstool.targets = {}          # a reboot of the target host
        self.target.ensure_export(self.ctxt, self.volume, '/dev/drbd1001')
        self.assertEqual([self.iqn], list(self.rtstool.targets))

    def test_calls_are_serialised_by_the_lioadm_lock(self):
        self.rtstool.delay = 0.01
        threads = [threading.Thread(target=self.target._get_targets)
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(1, self.rtstool.max_in_flight)
