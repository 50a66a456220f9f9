#!/usr/bin/env python3
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
"""ev3 demo: a replicated volume's life on simulated storage hosts.

Starts two (or three, ``--hosts 3``, DRBD 9) simulated storage hosts, each
with the real ev3 driver and its real signed peer API on 127.0.0.1, then
creates, attaches, writes, extends, detaches and deletes a replicated volume,
printing what every host holds after each step.  Only LVM, DRBD and LIO are
simulated (cinder/tests/unit/volume/drivers/ovt/sim).
"""

import warnings

warnings.simplefilter('ignore')

# Patch first, as cinder-volume does, so that every later import is green.
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from cinder.db import migration  # noqa: E402
from cinder import objects  # noqa: E402

objects.register_all()

from cinder.tests.unit.volume.drivers.ovt import harness  # noqa: E402

GiB = harness.GiB
CONNECTOR = {'initiator': 'iqn.1993-08.org.debian:01:demo-client',
             'ip': '127.0.0.9', 'host': 'demo-client', 'multipath': False}


def show(lab, title):
    """Print every host's LVs, DRBD resources and iSCSI targets."""
    print('\n=== %s ===' % title)
    for node in lab.nodes:
        held = node.holdings()
        print('  %s (%s)' % (node.name, node.backend_id))
        lvs = ', '.join('%s %.2f GiB' % (name, info['size_bytes'] / GiB)
                        for name, info in sorted(held['lvs'].items()))
        print('    LVs     : %s' % (lvs or '-'))
        if not held['drbd']:
            print('    DRBD    : -')
        for name, res in sorted(held['drbd'].items()):
            peers = '; '.join('%s %s %s/%s%s' % (
                peer, p.get('replication') or p.get('connection'),
                p.get('role'), p.get('disk'),
                '' if p.get('sync_percent') in (None, 100.0)
                else ' %.0f%% in sync' % p['sync_percent'])
                for peer, p in sorted(res.get('peers', {}).items()))
            size = res.get('size_bytes')
            print('    DRBD    : %s minor %s %s/%s %s | peers: %s' % (
                name, res.get('minor'), res.get('role'), res.get('disk'),
                '%.2f GiB' % (size / GiB) if size else '-', peers or '-'))
        print('    files   : %s' % (', '.join(held['files']) or '-'))
        if not held['targets']:
            print('    targets : -')
        for iqn, target in sorted(held['targets'].items()):
            print('    target  : %s -> %s (initiators: %s)' % (
                iqn, target['path'],
                ', '.join(target.get('initiators', [])) or '-'))


def database(folder):
    """A throw-away Cinder database, as cinder-volume would have."""
    harness.CONF.set_override('connection', 'sqlite:///%s/cinder.sqlite'
                              % folder, group='database')
    migration.db_sync()
    harness.CONF.set_override('lock_path', folder, group='oslo_concurrency')


def runbook(lab):
    """The operator runbook: standby, disaster, failover, recovery."""
    first, second = lab.node(0), lab.node(1)
    print('\n--- the operator runbook ---')
    print('$ cinder failover-host hci-0002@RBS --backend_id hci-0001@RBS')
    print('  -> %r' % (second.driver.failover_host(
        lab.ctx, [], secondary_id='hci-0001@RBS'),))
    volume = lab.volume(size=1)
    first.driver.create_volume(volume)
    lab.cluster.finish_syncs()
    volume.update(first.driver.create_export(lab.ctx, volume, CONNECTOR))
    data = b'acknowledged before the crash\n'
    first.sim.write(first.driver.local_path(volume), 0, data)
    show(lab, 'a replicated volume in use on hci-0001, data written')
    first.crash()
    print('\n*** hci-0001 crashed (its service and kernel state are gone)')
    print('$ cinder failover-host hci-0002@RBS --backend_id default')
    print('  -> %r' % (second.driver.failover_host(
        lab.ctx, [], secondary_id='default'),))
    print('$ cinder freeze-host hci-0002@RBS')
    second.driver.freeze_backend(lab.ctx)
    print('$ cinder-manage volume update_host --currenthost hci-0001@RBS#ev3 '
          '--newhost hci-0002@RBS#ev3')
    volume.host = 'hci-0002@RBS#ev3'
    volume.update(second.driver.create_export(lab.ctx, volume, CONNECTOR))
    read = second.sim.read(second.driver.local_path(volume), 0, len(data))
    show(lab, 'hci-0002 is Primary and exports the volume; it reads %r'
         % read)
    if read != data:
        print('ERROR: the acknowledged data is not on hci-0002')
        return 1
    later = b'written through hci-0002 after the failover\n'
    second.sim.write(second.driver.local_path(volume), 4096, later)
    first.restart()
    show(lab, 'hci-0001 is back: Secondary, resynchronising what it missed '
              '(never promoted at start-up)')
    lab.cluster.finish_syncs()
    got = first.sim.read('/dev/volumes/%s' % volume.name, 4096, len(later))
    print('\n  hci-0001 replica after the resync holds: %r' % got)
    if got != later:
        print('ERROR: hci-0001 did not receive the writes it missed')
        return 1
    print('$ cinder thaw-host hci-0002@RBS')
    second.driver.thaw_backend(lab.ctx)
    print('$ cinder failover-host hci-0001@RBS --backend_id hci-0002@RBS')
    print('  -> %r' % (first.driver.failover_host(
        lab.ctx, [], secondary_id='hci-0002@RBS'),))
    show(lab, 'roles swapped: hci-0002 primary, hci-0001 standby, in sync')
    second.driver.remove_export(lab.ctx, volume)
    second.driver.delete_volume(volume)
    return 0


def run(hosts):
    drbd = '9.2.12' if hosts > 2 else '8.4.11'
    state = tempfile.mkdtemp(prefix='ev3-demo-')
    lab = harness.Lab(hosts=hosts, drbd_version=drbd, state_dir=state)
    routing = harness.sim.BrickRouting(lab.cluster)
    routing.setUp()
    try:
        lab.start()
        primary = lab.node(0).driver
        print('Started %d simulated hosts (DRBD %s); peer APIs on %s' % (
            hosts, drbd, ', '.join('127.0.0.1:%d' % n.port
                                   for n in lab.nodes)))
        show(lab, 'empty hosts')

        volume = lab.volume(size=1)
        primary.create_volume(volume)
        show(lab, 'created replicated volume %s (1 GiB, thick): initial '
                  'sync running' % volume.id)
        lab.cluster.finish_syncs()
        show(lab, 'initial sync finished')

        volume.update(primary.create_export(lab.ctx, volume, CONNECTOR))
        info = primary.initialize_connection(volume, CONNECTOR)
        print('\n  connection info: %s %s portals %s' % (
            info['driver_volume_type'], info['data']['target_iqn'],
            ', '.join(info['data'].get('target_portals',
                                       [info['data']['target_portal']]))))
        device = primary.local_path(volume)
        lab.node(0).sim.write(device, 0, b'hello from ev3\n')
        show(lab, 'attached; the guest wrote through %s' % device)

        primary.extend_volume(volume, 2)
        volume.size = 2
        lab.cluster.finish_syncs()
        show(lab, 'extended to 2 GiB while attached')
        for node in lab.nodes:
            lv = '/dev/volumes/%s' % volume.name
            print('  %s replica starts with: %r' % (
                node.name, node.sim.read(lv, 0, 15)))

        primary.terminate_connection(volume, CONNECTOR)
        primary.remove_export(lab.ctx, volume)
        show(lab, 'detached')

        primary.delete_volume(volume)
        show(lab, 'deleted: nothing left on any host')
        leftovers = [n.name for n in lab.nodes
                     if volume.name in n.holdings()['lvs']
                     or volume.name in n.holdings()['drbd']]
        if leftovers:
            print('ERROR: volume left on %s' % ', '.join(leftovers))
            return 1
        if hosts == 2 and runbook(lab) != 0:
            return 1
        print('\nDemo complete.')
        return 0
    finally:
        lab.stop()
        routing.cleanUp()
        shutil.rmtree(state, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, choices=(2, 3), default=2)
    parser.add_argument('--verbose', action='store_true',
                        help='show the driver\'s log')
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose
                        else logging.CRITICAL)
    for name in ('cinder', 'oslo_db', 'alembic'):
        logging.getLogger(name).setLevel(logging.INFO if args.verbose
                                         else logging.CRITICAL)
    folder = tempfile.mkdtemp(prefix='ev3-demo-db-')
    try:
        database(folder)
        status = run(args.hosts)
        if status == 0 and args.hosts == 2:
            print('\n--- the same with three hosts (DRBD 9) ---')
            status = run(3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
