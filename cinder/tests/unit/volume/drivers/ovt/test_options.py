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
"""Tests of option validation: one clear message naming option and fix."""

import ddt

from cinder.tests.unit import test
from cinder.volume import configuration
from cinder.volume import driver as volume_driver
from cinder.volume.drivers import lvm
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import options

GROUP = 'ev3_options_test'
GOOD_DEVICE = {'backend_id': 'hci-0002@RBS', 'ip': '10.0.10.22',
               'port': '7000', 'volume_group': 'volumes'}


@ddt.ddt
class LoadSettingsTestCase(test.TestCase):

    def _conf(self, **values):
        conf = configuration.Configuration(volume_driver.volume_opts,
                                           config_group=GROUP)
        conf.append_config_values(lvm.volume_opts)
        conf.append_config_values(options.ev3_opts)
        base = {'volume_group': 'volumes', 'backend_id': 'hci-0001@RBS',
                'backend_ip': '10.0.10.21', 'backend_port': 7000,
                'replication_internal_secret': 'a' * 32,
                'replication_device': [GOOD_DEVICE]}
        base.update(values)
        for key, value in base.items():
            if value is None:
                continue
            self.override_config(key, value, group=GROUP)
        return conf

    def test_good_configuration(self):
        settings = options.load_settings(self._conf(), 'hci-0001@RBS')
        self.assertTrue(settings.replicated)
        self.assertEqual('C', settings.protocol)
        self.assertEqual(
            (options.Peer('hci-0002@RBS', '10.0.10.22', 7000, 'volumes'),),
            settings.peers)
        self.assertEqual(100, settings.resync_rate_mib)
        self.assertEqual(7001, settings.starting_port)
        self.assertNotIn('a' * 32, repr(settings))

    @ddt.data(('async', 'A'), ('semi-sync', 'B'), ('full-sync', 'C'))
    @ddt.unpack
    def test_mode_to_protocol(self, mode, protocol):
        settings = options.load_settings(
            self._conf(replication_mode=mode), 'x@y')
        self.assertEqual(protocol, settings.protocol)

    def test_no_replication_device_is_plain_lvm(self):
        settings = options.load_settings(
            self._conf(replication_device=[], replication_internal_secret=None,
                       backend_ip=None), 'hci-0001@RBS')
        self.assertFalse(settings.replicated)

    def test_backend_id_defaults_to_service_host(self):
        settings = options.load_settings(
            self._conf(backend_id=None), 'hci-0009@RBS')
        self.assertEqual('hci-0009@RBS', settings.backend_id)

    def test_port_and_volume_group_default(self):
        settings = options.load_settings(
            self._conf(replication_device=[{'backend_id': 'hci-0002@RBS',
                                            'ip': '10.0.10.22'}]), 'a@b')
        self.assertEqual(7000, settings.peers[0].port)
        self.assertEqual('volumes', settings.peers[0].volume_group)

    @ddt.data(
        ({'replication_internal_secret': None},
         'replication_internal_secret', 'is required'),
        ({'replication_internal_secret': 'short'},
         'replication_internal_secret', 'shorter than 16'),
        ({'backend_ip': None}, 'backend_ip', 'is required'),
        ({'backend_ip': 'storage.example'}, 'backend_ip', 'not an IP'),
        ({'replication_device': [{'backend_id': 'hci-0002@RBS'}]},
         'replication_device (entry 1)', 'no valid ip'),
        ({'replication_device': [dict(GOOD_DEVICE, ip='10.0.10.x')]},
         'replication_device (entry 1)', 'no valid ip'),
        ({'replication_device': [dict(GOOD_DEVICE, port='70000')]},
         'replication_device (entry 1)', 'invalid port'),
        ({'replication_device': [dict(GOOD_DEVICE, colour='blue')]},
         'replication_device (entry 1)', 'unknown key(s) colour'),
        ({'replication_device': [dict(GOOD_DEVICE, backend_id='')]},
         'replication_device (entry 1)', 'no valid backend_id'),
        ({'replication_device': [dict(GOOD_DEVICE, volume_group='../x')]},
         'replication_device (entry 1)', 'invalid volume_group'),
        ({'replication_device': [dict(GOOD_DEVICE,
                                      backend_id='hci-0001@RBS')]},
         'replication_device', "names this host's own backend_id"),
        ({'replication_device': [GOOD_DEVICE, dict(GOOD_DEVICE,
                                                   ip='10.0.10.23')]},
         'replication_device', 'names a peer twice'),
        ({'replication_device': [dict(GOOD_DEVICE, ip='10.0.10.21')]},
         'replication_device', 'repeats an address'),
    )
    @ddt.unpack
    def test_bad_configuration_is_named(self, values, option, problem):
        conf = self._conf(**values)
        err = self.assertRaises(exception.ConfigError,
                                options.load_settings, conf, 'hci-0001@RBS')
        message = str(err)
        self.assertIn('option %s' % option, message)
        self.assertIn(problem, message)
        self.assertIn('Fix:', message)
        self.assertIn('[%s]' % GROUP, message)

    def test_mode_choices_are_enforced_by_oslo(self):
        conf = self._conf()
        self.assertRaises(ValueError, self.override_config,
                          'replication_mode', 'sometimes', group=GROUP)
        self.assertEqual('full-sync', conf.replication_mode)

    def test_list_opts_documents_every_option(self):
        (group, opts), = options.list_opts()
        names = {o.name for o in opts}
        self.assertLessEqual({'backend_id', 'backend_ip', 'backend_port',
                              'replication_internal_secret',
                              'replication_mode', 'replication_resync_rate',
                              'replication_starting_port'}, names)
        secret = [o for o in opts if o.name == 'replication_internal_secret']
        self.assertTrue(secret[0].secret)
        for opt in opts:
            self.assertGreater(len(opt.help), 20, opt.name)
