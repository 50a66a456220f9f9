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
"""Stats read while a refresh is gathering the peers' facts.

Found by the local cloud (tools/cloud): cinder-volume reads the driver's
stats from several green threads; one of them published the LVM driver's
half of a refresh, without ``replication_enabled``, and the scheduler
dropped the backend for replicated types.
"""

from cinder.tests.unit.volume.drivers.ovt import test_lifecycle


class ConcurrentStatsTestCase(test_lifecycle.LabTestCase):

    def test_reader_during_refresh_sees_complete_stats(self):
        self.start_lab()
        driver = self.primary
        first = driver.get_volume_stats(refresh=True)
        self.assertTrue(first['replication_enabled'])
        seen = []
        refresh = driver.replicator.refresh

        def refresh_with_a_concurrent_reader():
            # What another green thread reads while the peers are asked.
            seen.append(driver.get_volume_stats(refresh=False))
            return refresh()

        driver.replicator.refresh = refresh_with_a_concurrent_reader
        second = driver.get_volume_stats(refresh=True)
        self.assertEqual(1, len(seen))
        self.assertTrue(seen[0]['replication_enabled'])
        self.assertTrue(seen[0]['pools'][0]['replication_enabled'])
        self.assertTrue(seen[0]['pools'][0]['location_info'].startswith(
            'ev3:'))
        self.assertTrue(second['replication_enabled'])
        self.assertIs(second, driver.get_volume_stats(refresh=False))
