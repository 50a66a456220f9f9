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
"""The operator runbook on simulated hosts, step by step, with faults.

SPEC.md "The operator runbook": hci-0002 becomes the standby of hci-0001;
a replicated volume is created; hci-0001 dies; hci-0002 takes over, is
frozen, the volumes move to it (update_host), it serves the data; hci-0001
returns as Secondary and resynchronises; roles are swapped back.  Each
test asserts every host's DRBD roles and exports and what Cinder is told.
"""

from cinder import exception as cinder_exception
from cinder import objects
from cinder.tests.unit import test
from cinder.tests.unit.volume.drivers.ovt import test_lifecycle
from cinder.volume.drivers.ovt import exception
from cinder.volume.drivers.ovt import health

CONNECTOR = test_lifecycle.CONNECTOR
PATTERN = b'acknowledged write 0001\n' * 64


class RunbookTestCase(test_lifecycle.LabTestCase):

    def _set_policy(self):
        """Runbook 1: failover-host hci-0002 --backend_id hci-0001."""
        standby = self.lab.node(1).driver
        active, updates, groups = standby.failover_host(
            self.lab.ctx, [], secondary_id='hci-0001@RBS')
        self.assertEqual(('hci-0001@RBS', [], []), (active, updates, groups))
        return standby

    def _create_with_data(self):
        """Runbook 2: a replicated volume holding acknowledged writes."""
        return self.attached_volume_with(PATTERN)

    def test_whole_runbook_and_back(self):
        self.start_lab()
        standby = self._set_policy()
        volume = self._create_with_data()
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(1).roles())

        # 3. Disaster: hci-0001 dies; hci-0002 takes over.
        self.lab.node(0).crash()
        active, updates, groups = standby.failover_host(
            self.lab.ctx, [], secondary_id='default')
        self.assertEqual(('default', [], []), (active, updates, groups))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        standby.freeze_backend(self.lab.ctx)
        self.assertRaises(exception.HostFrozen, standby.create_volume,
                          self.lab.volume())
        # cinder-manage volume update_host moves the volume; attach there.
        volume.host = 'hci-0002@RBS#ev3'
        volume.update(standby.create_export(self.lab.ctx, volume,
                                            CONNECTOR))
        info = standby.initialize_connection(volume, CONNECTOR)
        self.assertEqual('iqn.2010-10.org.openstack:%s' % volume.name,
                         info['data']['target_iqn'])
        device = standby.local_path(volume)
        self.assertEqual(
            device, self.lab.node(1).holdings()['targets']
            [info['data']['target_iqn']]['path'])
        self.assertEqual(PATTERN,
                         self.lab.node(1).sim.read(device, 0, len(PATTERN)))
        self.lab.node(1).sim.write(device, 8192, b'written after failover')

        # 4. hci-0001 returns: Secondary, resyncs, never promoted.
        old = self.lab.node(0).restart()
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(0).roles())
        self.assertEqual({}, self.lab.node(0).holdings()['targets'])
        self.lab.cluster.finish_syncs()
        held = self.lab.node(0).holdings()['drbd'][volume.name]
        self.assertEqual('UpToDate', held['disk'])
        standby.thaw_backend(self.lab.ctx)
        active, _updates, _groups = old.failover_host(
            self.lab.ctx, [], secondary_id='hci-0002@RBS')
        self.assertEqual('hci-0002@RBS', active)
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
        lv = '/dev/volumes/%s' % volume.name
        for node in self.lab.nodes:
            self.assertEqual(b'written after failover',
                             node.sim.read(lv, 8192, 22), node.name)
            self.assertEqual(PATTERN, node.sim.read(lv, 0, len(PATTERN)))

    def test_peer_api_down_but_drbd_connected_refuses_promotion(self):
        """A partition of the API network only: no second Primary."""
        self.start_lab()
        standby = self._set_policy()
        volume = self._create_with_data()
        self.lab.node(0).stop()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                standby.failover_host,
                                self.lab.ctx, [], secondary_id='default')
        self.assertIn(volume.name, str(err))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(1).roles())

    def test_disaster_refuses_inconsistent_replica(self):
        self.start_lab()
        standby = self._set_policy()
        synced = self._create_with_data()
        fresh = self.lab.volume(size=1)
        self.primary.create_volume(fresh)   # thick: still syncing
        self.lab.node(0).crash()
        standby.failover_host(self.lab.ctx, [], secondary_id='default')
        roles = self.lab.node(1).roles()
        self.assertEqual('Primary', roles[synced.name])
        self.assertEqual('Secondary', roles[fresh.name])

    def test_wrong_backend_id_changes_nothing(self):
        self.start_lab()
        standby = self._set_policy()
        volume = self._create_with_data()
        before = self.lab.holdings()
        self.assertRaises(cinder_exception.InvalidReplicationTarget,
                          standby.failover_host, self.lab.ctx, [],
                          secondary_id='hci-0009@RBS')
        self.assertRaises(cinder_exception.InvalidReplicationTarget,
                          self.primary.failover_host, self.lab.ctx, [],
                          secondary_id='default')
        self.assertEqual(before, self.lab.holdings())
        self.assertEqual('Primary', self.lab.node(0).roles()[volume.name])

    def test_standby_refused_while_volume_in_use_on_it(self):
        """failover-host of the active host to its peer: in-use refused."""
        self.start_lab()
        volume = self._create_with_data()
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                self.primary.failover_host,
                                self.lab.ctx, [volume],
                                secondary_id='hci-0002@RBS')
        self.assertIn(volume.name, str(err))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(1).roles())

    def test_planned_switchover_of_detached_volume(self):
        self.start_lab()
        volume = self._create_with_data()
        self.primary.terminate_connection(volume, CONNECTOR)
        self.primary.remove_export(self.lab.ctx, volume)
        active, _u, _g = self.primary.failover_host(
            self.lab.ctx, [volume], secondary_id='hci-0002@RBS')
        self.assertEqual('hci-0002@RBS', active)
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())

    def test_frozen_state_survives_restart_and_refuses_peers(self):
        self.start_lab()
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        standby = self.lab.node(1).driver
        standby.freeze_backend(self.lab.ctx)
        fresh = self.lab.volume()
        err = self.assertRaises(exception.HostFrozen,
                                self.primary.create_volume, fresh)
        self.assertIn('hci-0002@RBS', str(err))
        self.assert_nothing_of(fresh)
        self.assertRaises(exception.HostFrozen, self.primary.extend_volume,
                          volume, 2)
        self.assert_replicated(volume, 1)
        # The frozen flag survives a restart of the frozen host's service.
        self.lab.node(1).stop()
        restarted = self.lab.node(1).start([self.lab.node(0)])
        self.assertRaises(exception.HostFrozen, self.primary.create_volume,
                          fresh)
        self.assertRaises(exception.HostFrozen, restarted.extend_volume,
                          volume, 2)
        # Data keeps flowing while frozen.
        device = self.primary.local_path(volume)
        self.lab.node(0).sim.write(device, 0, b'still serving')
        restarted.thaw_backend(self.lab.ctx)
        restarted.thaw_backend(self.lab.ctx)
        self.primary.create_volume(fresh)
        self.assertIn(fresh.name, self.lab.node(1).holdings()['drbd'])
        self.primary.extend_volume(volume, 2)
        self.lab.cluster.finish_syncs()
        self.assert_replicated(volume, 2)


class HealthTestCase(test_lifecycle.LabTestCase):

    def _cinder_round(self):
        """What the manager's periodic status report does."""
        stats = self.primary.get_volume_stats(refresh=True)
        if stats.get('replication_status') != 'error':
            return stats, []
        _groups, updates = self.primary.get_replication_error_status(
            self.lab.ctx, [])
        for update in updates:
            volume = objects.Volume.get_by_id(self.lab.ctx,
                                              update['volume_id'])
            volume.update(update)
            volume.save()
        return stats, updates

    def test_resync_progress_then_healthy(self):
        self.start_lab()
        volume = self.lab.db_volume()
        self.primary.create_volume(volume)
        stats, updates = self._cinder_round()
        pool = stats['pools'][0]
        self.assertIn(volume.name, pool['ev3_resyncing'])
        self.assertLess(pool['ev3_resyncing'][volume.name], 100.0)
        self.assertEqual([{'volume_id': volume.id,
                           'replication_status': 'enabling'}], updates)
        first = pool['ev3_resyncing'][volume.name]
        # 1 GiB at replication_resync_rate 100 MiB/s: half-way after ~5 s.
        self.lab.clock.advance(5)
        stats, updates = self._cinder_round()
        halfway = stats['pools'][0]['ev3_resyncing'][volume.name]
        self.assertGreater(halfway, first)
        self.assertTrue(30.0 < halfway < 70.0, halfway)
        self.assertEqual([], updates)
        self.lab.cluster.finish_syncs()
        stats, updates = self._cinder_round()
        self.assertEqual({}, stats['pools'][0]['ev3_resyncing'])
        self.assertEqual([{'volume_id': volume.id,
                           'replication_status': 'enabled'}], updates)
        stats, updates = self._cinder_round()
        self.assertNotEqual('error', stats.get('replication_status'))
        self.assertEqual([], updates)

    def test_lost_peer_is_an_error_with_advice(self):
        self.start_lab()
        volume = self.lab.db_volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        self.lab.node(1).crash()
        stats, updates = self._cinder_round()
        self.assertEqual(1, stats['pools'][0]['ev3_degraded_volumes'])
        self.assertEqual([{'volume_id': volume.id,
                           'replication_status': 'error'}], updates)
        state, reason, _pct = self.primary._health[volume.name]
        self.assertEqual('error', state)
        self.assertIn('not connected', reason)


class ReplicaHealthTestCase(test.TestCase):

    def _status(self, role='Primary', disk='UpToDate', peers=None):
        return {'name': 'volume-x', 'role': role, 'disk': disk,
                'peers': [] if peers is None else peers}

    def _peer(self, connection='Connected', replication='Established',
              disk='UpToDate', percent=None):
        return {'node_name': 'hci-0002', 'connection': connection,
                'role': 'Secondary', 'disk': disk,
                'replication': replication, 'sync_percent': percent}

    def test_states(self):
        cases = [
            (self._status(peers=[self._peer()]), 'enabled'),
            (self._status(peers=[self._peer(
                replication='SyncSource', disk='Inconsistent',
                percent=42.0)]), 'enabling'),
            (self._status(role='Unknown', disk='Diskless'), 'error'),
            (self._status(disk='Outdated', peers=[self._peer()]), 'error'),
            (self._status(peers=[self._peer(
                connection='StandAlone', replication='Off')]), 'error'),
            (self._status(peers=[]), 'error'),
            (self._status(peers=[self._peer(disk='Outdated')]), 'error'),
        ]
        for status, expected in cases:
            self.assertEqual(expected,
                             health.replica_health(status, 1)[0], status)
        _state, reason, _pct = health.replica_health(
            self._status(peers=[self._peer(connection='StandAlone')]), 1)
        self.assertIn('discard-my-data', reason)
        self.assertEqual(42.0, health.replica_health(cases[1][0], 1)[2])


class WitnessTestCase(test_lifecycle.LabTestCase):
    """A full partition: the old primary is silent but alive for Cinder."""

    def _service(self, backend_id):
        service = objects.Service(context=self.lab.ctx, host=backend_id,
                                  binary='cinder-volume',
                                  topic='cinder-volume', report_count=1)
        service.create()
        service.report_count = 2
        service.save()   # sets updated_at: a fresh heartbeat
        return service

    def test_full_partition_with_live_service_is_refused(self):
        self.start_lab()
        standby = self.lab.node(1).driver
        standby.failover_host(self.lab.ctx, [], secondary_id='hci-0001@RBS')
        volume = self.lab.volume()
        self.primary.create_volume(volume)
        self.lab.cluster.finish_syncs()
        service = self._service('hci-0001@RBS')
        self.assertTrue(service.is_up)
        # Storage network cut both ways; hci-0001 is alive and Primary.
        self.lab.node(0).stop()
        self.lab.cluster.partition('hci-0001', 'hci-0002')
        err = self.assertRaises(cinder_exception.InvalidReplicationTarget,
                                standby.failover_host, self.lab.ctx, [],
                                secondary_id='default')
        self.assertIn('cinder-volume is up', str(err))
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(0).roles())
        self.assertEqual({volume.name: 'Secondary'},
                         self.lab.node(1).roles())
        # Once Cinder sees it down (it really died), the disaster proceeds.
        service.destroy()
        self.lab.cluster.crash('hci-0001')
        standby.failover_host(self.lab.ctx, [], secondary_id='default')
        self.assertEqual({volume.name: 'Primary'}, self.lab.node(1).roles())
