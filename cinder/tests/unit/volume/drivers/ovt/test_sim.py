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
"""Tests of the simulated storage hosts (LVM, DRBD, LIO) as state outcomes."""

import errno
import json
import os
import subprocess

import fixtures
from oslo_concurrency import processutils
import testtools

from cinder.brick.local_dev import lvm as brick_lvm
from cinder.tests.unit.volume.drivers.ovt import sim
from cinder.tests.unit.volume.drivers.ovt.sim import devices as sim_devices
from cinder.tests.unit.volume.drivers.ovt.sim import drbd as sim_drbd
from cinder.volume.drivers.ovt import drbd as ovt_drbd

MiB = 1024 * 1024
GiB = 1024 * MiB
ROOT = {'run_as_root': True}


def resource_text(name, minor, port, hosts, size_k=None, rate='100M',
                  net='', disk='', nine=False, vg='volumes'):
    """A resource file like the driver writes (8.4 or 9 syntax)."""
    lines = ['# ev3-resource: {"name": "%s"}' % name,
             'resource %s {' % name,
             '    net {', '        protocol C;',
             '        cram-hmac-alg sha256;',
             '        shared-secret "s3cr3t";',
             '        after-sb-0pri disconnect;', net, '    }',
             '    disk {', '        resync-rate %s;' % rate,
             '        c-max-rate %s;' % rate]
    if size_k:
        lines.append('        size %dK;' % size_k)
    lines += [disk, '    }']
    for index, host in enumerate(hosts):
        lines.append('    on %s {' % host)
        if nine:
            lines.append('        node-id %d;' % index)
        lines += ['        device /dev/drbd%d minor %d;' % (minor, minor),
                  '        disk /dev/%s/%s;' % (vg, name),
                  '        address 10.0.0.%d:%d;' % (index + 1, port),
                  '        meta-disk internal;', '    }']
    if nine:
        lines.append('    connection-mesh { hosts %s; }' % ' '.join(hosts))
    lines.append('}')
    return '\n'.join(lines) + '\n'


class SimTestCase(testtools.TestCase):
    """A cluster of two DRBD 8.4 hosts in a temporary state directory."""

    def setUp(self):
        super(SimTestCase, self).setUp()
        self.state_dir = self.useFixture(fixtures.TempDir()).path
        self.clock = sim.ManualClock()
        self.cluster = sim.SimCluster(self.state_dir, clock=self.clock)
        self.a = self.cluster.add_host('hci-1', vg_size_gib=10)
        self.b = self.cluster.add_host('hci-2', vg_size_gib=10)

    def lvcreate(self, host, name, size='64m', thin=False):
        if thin:
            host.execute('env', 'LC_ALL=C', 'lvcreate', '-T', '-V', size,
                         '-n', name, 'volumes/volumes-pool', **ROOT)
        else:
            host.execute('env', 'LC_ALL=C', 'lvcreate', '-n', name,
                         'volumes', '-L', size, **ROOT)

    def replica(self, name='r0', minor=1, port=7001, size='64m', hosts=None,
                thin=False, up=True, **kwargs):
        """LV + resource file + create-md (+ up) on each host."""
        hosts = hosts or [self.a, self.b]
        text = resource_text(name, minor, port, [h.name for h in hosts],
                             **kwargs)
        for host in hosts:
            self.lvcreate(host, name, size, thin)
            host.resource_files.write(name, text)
            host.execute('drbdadm', '--', '--force', 'create-md', name,
                         **ROOT)
            if up:
                host.execute('drbdadm', 'up', name, **ROOT)
        return text

    def adm(self, host, *args):
        return host.execute('drbdadm', *args, **ROOT)

    def refused(self, host, *cmd, **kwargs):
        kwargs.setdefault('run_as_root', True)
        return self.assertRaises(processutils.ProcessExecutionError,
                                 host.execute, *cmd, **kwargs)

    def peer(self, host, res='r0'):
        return list(host.drbd()[res]['peers'].values())[0]


class ExecutorTest(SimTestCase):
    """processutils.execute semantics, refusals, faults, sharing."""

    def test_returns_output_and_raises_like_processutils(self):
        out, err = self.a.execute('env', 'LC_ALL=C', 'vgs', '--noheadings',
                                  '-o', 'name', 'volumes', **ROOT)
        self.assertEqual(('  volumes\n', ''), (out, err))
        exc = self.refused(self.a, 'env', 'LC_ALL=C', 'vgs', 'nope')
        self.assertEqual(5, exc.exit_code)
        self.assertIn('Volume group "nope" not found', exc.stderr)
        self.assertIn('vgs nope', exc.cmd)
        out, err = self.a.execute('vgs', 'nope', check_exit_code=False,
                                  **ROOT)
        self.assertIn('not found', err)
        self.a.execute('vgs', 'nope', check_exit_code=[0, 5], **ROOT)
        out, _err = self.a.execute('lvm', 'version', binary=True)
        self.assertIn(b'LVM version:     2.03.16', out)
        self.assertRaises(processutils.UnknownArgumentError,
                          self.a.execute, 'lvs', bogus_kwarg=1)

    def test_unknown_commands_and_options_are_refused(self):
        self.assertEqual(127, self.refused(self.a, 'mkfs', '/dev/x')
                         .exit_code)
        exc = self.refused(self.a, 'lvs', '--bogus')
        self.assertEqual(3, exc.exit_code)
        self.assertIn("unrecognized option '--bogus'", exc.stderr)
        self.assertIn("Unknown command 'frobnicate'",
                      self.refused(self.a, 'drbdadm', 'frobnicate', 'r0')
                      .stderr)
        self.assertIn('unrecognized operand',
                      self.refused(self.a, 'dd', 'if=/dev/zero', 'of=/x',
                                   'bogus=1').stderr)
        self.assertIn('Unrecognised field: nope',
                      self.refused(self.a, 'lvs', '-o', 'nope').stderr)
        self.refused(self.a, 'blockdev', '--rereadpt', '/dev/volumes/x')
        self.assertIn('Usage:', self.refused(self.a, 'cinder-rtstool',
                                             'frob').stdout)

    def test_privileged_tools_need_root(self):
        exc = self.refused(self.a, 'lvs', run_as_root=False)
        self.assertIn('Permission denied', exc.stderr)
        self.refused(self.a, 'drbdadm', 'up', 'r0', run_as_root=False)
        self.refused(self.a, 'cinder-rtstool', 'get-targets',
                     run_as_root=False)
        self.refused(self.a, 'dd', 'if=/dev/zero', 'of=/dev/volumes/x',
                     run_as_root=False)
        self.assertEqual(('', ''), self.a.execute('cinder-rtstool',
                                                  'verify'))
        self.assertIn('LVM version', self.a.execute('env', 'LC_ALL=C', 'lvm',
                                                    'version')[0])

    def test_state_is_shared_by_cluster_objects(self):
        other = sim.SimCluster(self.state_dir, clock=self.clock)
        self.lvcreate(self.a, 'volume-1')
        self.assertIn('volume-1', other.host('hci-1').lvs())
        other.host('hci-1').execute('lvremove', '-f', 'volumes/volume-1',
                                    **ROOT)
        self.assertNotIn('volume-1', self.a.lvs())
        self.assertEqual(['hci-1', 'hci-2'], other.hosts())

    def test_fail_next_fails_one_matching_command(self):
        self.cluster.fail_next('hci-1', ['lvcreate'], 'boom\n', 5)
        self.lvcreate(self.b, 'volume-1')
        exc = self.assertRaises(processutils.ProcessExecutionError,
                                self.lvcreate, self.a, 'volume-1')
        self.assertEqual((5, 'boom\n'), (exc.exit_code, exc.stderr))
        self.assertNotIn('volume-1', self.a.lvs())
        self.lvcreate(self.a, 'volume-1')
        self.assertIn('volume-1', self.a.lvs())

    def test_crashed_host_refuses_commands(self):
        self.cluster.crash('hci-1')
        exc = self.refused(self.a, 'lvs', check_exit_code=False)
        self.assertEqual(255, exc.exit_code)
        self.assertRaises(OSError, self.a.write, '/dev/volumes/x', 0, b'x')
        self.cluster.boot('hci-1')
        self.a.execute('lvs', **ROOT)


class LvmTest(SimTestCase):
    """LVM tools: sizes, free space, reports, snapshots."""

    def vg_free(self, host):
        out, _err = host.execute('env', 'LC_ALL=C', 'vgs', '--noheadings',
                                 '--unit=g', '-o', 'name,size,free,lv_count,'
                                 'uuid', '--separator', ':', '--nosuffix',
                                 'volumes', **ROOT)
        fields = out.strip().split(':')
        return float(fields[2]), int(fields[3])

    def test_sizes_round_up_to_extents_and_free_space_is_enforced(self):
        free, count = self.vg_free(self.a)
        self.assertEqual((10.0, 0), (free, count))
        _out, err = self.a.execute('lvcreate', '-n', 'v1', 'volumes', '-L',
                                   '1.5m', **ROOT)
        self.assertIn('Rounding up size to full physical extent 4.00 MiB',
                      err)
        self.a.execute('lvcreate', '-n', 'v2', 'volumes', '-L', '2g', **ROOT)
        self.a.execute('lvcreate', '-n', 'v3', 'volumes', '-L', '1024M',
                       **ROOT)
        sizes = {n: v['size_bytes'] for n, v in self.a.lvs().items()}
        self.assertEqual({'v1': 4 * MiB, 'v2': 2 * GiB, 'v3': GiB}, sizes)
        free, count = self.vg_free(self.a)
        self.assertEqual(3, count)
        # one extent holds the PV's metadata, v1 takes one more
        self.assertAlmostEqual(10.0 - 3.0 - 8.0 / 1024, free, places=2)
        exc = self.refused(self.a, 'lvcreate', '-n', 'big', 'volumes', '-L',
                           '8g')
        self.assertEqual(5, exc.exit_code)
        self.assertIn('insufficient free space', exc.stderr)
        self.assertNotIn('big', self.a.lvs())
        self.assertIn('already exists', self.refused(
            self.a, 'lvcreate', '-n', 'v1', 'volumes', '-L', '4m').stderr)
        self.assertIn('reserved', self.refused(
            self.a, 'lvcreate', '-n', 'snapshot-1', 'volumes', '-L',
            '4m').stderr)

    def test_reports_have_lvm_layout(self):
        self.lvcreate(self.a, 'volume-1', '1g')
        out, _err = self.a.execute('env', 'LC_ALL=C', 'lvs', '--noheadings',
                                   '--unit=g', '-o', 'vg_name,name,size',
                                   '--nosuffix', '--readonly', 'volumes',
                                   **ROOT)
        self.assertEqual('  volumes volume-1 1.00\n', out)
        out, _err = self.a.execute('lvs', '-o', 'lv_name,lv_size', **ROOT)
        self.assertEqual('  LV       LSize\n  volume-1 1.00g\n', out)
        out, _err = self.a.execute('env', 'LC_ALL=C', 'pvs', '--noheadings',
                                   '--unit=g', '-o',
                                   'vg_name,name,size,free', '--separator',
                                   '|', '--nosuffix',
                                   '--ignoreskippedcluster', **ROOT)
        self.assertEqual('  volumes|/dev/vdb|10.00|9.00\n', out)
        attr = self.a.execute('lvdisplay', '--noheading', '-C', '-o', 'Attr',
                              'volumes/volume-1', **ROOT)[0]
        self.assertEqual('-wi-a-----', attr.strip())
        exc = self.refused(self.a, 'env', 'LC_ALL=C', 'lvs', '--noheadings',
                           'volumes/nope')
        self.assertIn('Failed to find logical volume "volumes/nope"',
                      exc.stderr)

    def test_thick_snapshot_keeps_origin_data(self):
        self.lvcreate(self.a, 'vol', '8m')
        garbage = self.a.read('/dev/volumes/vol', 8192, 16)
        self.assertNotEqual(bytes(16), garbage)
        self.assertEqual(garbage, self.a.read('/dev/volumes/vol', 8192, 16))
        self.a.write('/dev/volumes/vol', 0, b'before')
        self.a.execute('lvcreate', '--name', 'snap', '--snapshot',
                       'volumes/vol', '-L', '8m', **ROOT)
        self.a.write('/dev/mapper/volumes-vol', 0, b'after!')
        self.assertEqual(b'before', self.a.read('/dev/volumes/snap', 0, 6))
        self.assertEqual(b'after!', self.a.read('/dev/volumes/vol', 0, 6))
        self.assertEqual(garbage, self.a.read('/dev/volumes/snap', 8192, 16))
        attrs = self.a.execute('lvs', '--noheadings', '-o', 'name,attr,origin',
                               **ROOT)[0].split()
        self.assertEqual(['snap', 'swi-a-s---', 'vol', 'vol', 'owi-a-s---'],
                         attrs)
        exc = self.refused(self.a, 'lvextend', '-L', '12m', 'volumes/vol')
        self.assertIn('only while inactive', exc.stderr)
        self.a.execute('lvconvert', '--merge', 'volumes/snap', **ROOT)
        self.assertEqual(b'before', self.a.read('/dev/volumes/vol', 0, 6))
        self.assertEqual(['vol'], list(self.a.lvs()))

    def test_thin_volumes_read_zeros_and_fill_the_pool(self):
        host = self.cluster.add_host('thin-1', vg_size_gib=10, lvm_thin=True)
        pool = host.lvs()['volumes-pool']
        self.assertEqual('thin-pool', pool['type'])
        self.lvcreate(host, 'vol', '1g', thin=True)
        self.assertEqual(bytes(4096), host.read('/dev/volumes/vol', 0, 4096))
        host.write('/dev/volumes/vol', 0, b'x' * (8 * MiB))
        out, _err = host.execute('env', 'LC_ALL=C', 'lvs', '--noheadings',
                                 '--unit=g', '-o', 'size,data_percent',
                                 '--separator', ':', '--nosuffix',
                                 '/dev/volumes/volumes-pool', **ROOT)
        size, percent = (float(x) for x in out.strip().split(':'))
        self.assertAlmostEqual(8.0 / 1024 / size * 100, percent, places=2)
        host.execute('lvcreate', '--name', 'snap', '--snapshot',
                     'volumes/vol', **ROOT)
        self.assertFalse(host.lvs()['snap']['active'])
        self.assertRaises(OSError, host.read, '/dev/volumes/snap', 0, 1)
        host.execute('lvchange', '-a', 'y', '--yes', '-K', 'volumes/snap',
                     **ROOT)
        self.assertEqual(b'xx', host.read('/dev/volumes/snap', 0, 2))

    def test_lvremove_and_lvextend(self):
        self.lvcreate(self.a, 'vol', '8m')
        self.a.execute('env', 'LC_ALL=C', 'lvextend', '-L', '16m',
                       'volumes/vol', **ROOT)
        self.assertEqual(16 * MiB, self.a.lvs()['vol']['size_bytes'])
        self.assertIn('matches existing size', self.refused(
            self.a, 'lvextend', '-L', '16m', 'volumes/vol').stderr)
        self.assertIn('Insufficient free space', self.refused(
            self.a, 'lvextend', '-L', '20g', 'volumes/vol').stderr)
        self.a.hold('/dev/volumes/vol')
        self.assertIn('in use', self.refused(
            self.a, 'lvremove', '-f', 'volumes/vol').stderr)
        self.a.release('/dev/volumes/vol')
        self.a.execute('lvremove', '--config',
                       'activation { retry_deactivation = 1} ', '-f',
                       'volumes/vol', **ROOT)
        self.assertEqual({}, self.a.lvs())
        self.assertIn('Failed to find', self.refused(
            self.a, 'lvremove', '-f', 'volumes/vol').stderr)
        self.lvcreate(self.a, 'old', '8m')
        self.a.write('/dev/volumes/old', 0, b'data')
        self.a.execute('lvrename', 'volumes', 'old', 'new', **ROOT)
        self.assertEqual(b'data', self.a.read('/dev/volumes/new', 0, 4))


class DrbdTest(SimTestCase):
    """DRBD 8.4: roles, connections, resync, sizes, faults."""

    def test_version(self):
        out, _err = self.adm(self.a, '--version')
        self.assertIn('DRBD_KERNEL_VERSION_CODE=0x08040b\n', out)
        self.assertIn('DRBD_KERNEL_VERSION=8.4.11\n', out)
        self.assertIn('DRBDADM_VERSION=9.22.0\n', out)

    def test_new_resource_is_connected_inconsistent(self):
        self.replica()
        out, _err = self.a.execute('cat', '/proc/drbd')
        lines = out.splitlines()
        self.assertEqual('version: 8.4.11 (api:1/proto:86-101)', lines[0])
        self.assertIn(' 1: cs:Connected ro:Secondary/Secondary '
                      'ds:Inconsistent/Inconsistent C r-----', lines)
        status = self.a.drbd()['r0']
        self.assertEqual(('Secondary', 'Inconsistent', 1),
                         (status['role'], status['disk'], status['minor']))
        self.assertEqual({'connection': 'Connected', 'role': 'Secondary',
                          'disk': 'Inconsistent',
                          'replication': 'Established',
                          'sync_percent': None, 'out_of_sync_bytes': 0},
                         status['peers']['hci-2'])

    def test_primary_needs_uptodate_data(self):
        self.replica()
        exc = self.refused(self.a, 'drbdadm', 'primary', 'r0')
        self.assertEqual(17, exc.exit_code)
        self.assertIn('(-2) Need access to UpToDate data', exc.stderr)
        self.assertEqual('Secondary', self.a.drbd()['r0']['role'])

    def test_forced_primary_syncs_at_the_resync_rate(self):
        self.replica(size='64m', rate='10M')
        self.a.write('/dev/volumes/r0', 0, b'local-only')
        self.adm(self.a, 'primary', '--force', 'r0')
        self.assertEqual('SyncSource', self.peer(self.a)['replication'])
        self.assertEqual('SyncTarget', self.peer(self.b)['replication'])
        self.assertEqual('Inconsistent', self.b.drbd()['r0']['disk'])
        self.clock.advance(3)
        percent = self.peer(self.a)['sync_percent']
        usable = self.a.drbd()['r0']['size_bytes']
        self.assertAlmostEqual(3 * 10 * MiB * 100.0 / usable, percent,
                               places=0)
        out = self.a.execute('cat', '/proc/drbd')[0]
        self.assertIn("sync'ed:", out)
        self.assertIn('cs:SyncSource ro:Primary/Secondary '
                      'ds:UpToDate/Inconsistent', out)
        self.clock.advance(10)
        self.assertEqual('UpToDate', self.b.drbd()['r0']['disk'])
        self.assertEqual('Established', self.peer(self.a)['replication'])
        self.assertEqual(self.a.fingerprint('/dev/drbd1'),
                         self.b.fingerprint('/dev/drbd1'))
        self.assertEqual(b'local-only', self.b.read('/dev/volumes/r0', 0, 10))

    def test_finish_syncs_and_replicated_writes(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.a.write('/dev/drbd1', 4096, b'replicated')
        self.assertEqual(b'replicated',
                         self.b.read('/dev/volumes/r0', 4096, 10))
        self.assertEqual(('UpToDate', 'UpToDate'),
                         (self.a.drbd()['r0']['disk'],
                          self.b.drbd()['r0']['disk']))

    def test_clear_bitmap_skips_the_initial_sync_of_thin_replicas(self):
        t1 = self.cluster.add_host('t1', vg_size_gib=10, lvm_thin=True)
        t2 = self.cluster.add_host('t2', vg_size_gib=10, lvm_thin=True)
        self.replica(hosts=[t1, t2], thin=True)
        self.adm(t1, '--', '--clear-bitmap', 'new-current-uuid', 'r0')
        for host in (t1, t2):
            status = host.drbd()['r0']
            self.assertEqual('UpToDate', status['disk'])
            self.assertEqual(('Established', 'UpToDate'),
                             (self.peer(host)['replication'],
                              self.peer(host)['disk']))
        self.assertEqual(t1.fingerprint('/dev/drbd1'),
                         t2.fingerprint('/dev/drbd1'))
        self.adm(t2, 'primary', 'r0')

    def test_clear_bitmap_on_thick_replicas_leaves_different_data(self):
        self.replica()
        self.adm(self.a, '--', '--clear-bitmap', 'new-current-uuid', 'r0')
        self.assertEqual('UpToDate', self.b.drbd()['r0']['disk'])
        self.assertNotEqual(self.a.fingerprint('/dev/drbd1'),
                            self.b.fingerprint('/dev/drbd1'))

    def test_never_two_primaries(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        exc = self.refused(self.b, 'drbdadm', 'primary', 'r0')
        self.assertEqual(11, exc.exit_code)
        self.assertIn('(-1) Multiple primaries not allowed by config',
                      exc.stderr)

    def test_open_device_blocks_demotion_and_down(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.a.execute('cinder-rtstool', 'create', '/dev/drbd1',
                       'iqn.2010-10.org.openstack:r0', 'u', 'p', False,
                       **ROOT)
        for command in ('secondary', 'down'):
            exc = self.refused(self.a, 'drbdadm', command, 'r0')
            self.assertEqual(11, exc.exit_code)
            self.assertIn('(-12) Device is held open by someone', exc.stderr)
        self.assertIn('in use', self.refused(
            self.a, 'lvremove', '-f', 'volumes/r0').stderr)
        self.a.execute('cinder-rtstool', 'delete',
                       'iqn.2010-10.org.openstack:r0', **ROOT)
        self.adm(self.a, 'secondary', 'r0')
        self.adm(self.a, 'down', 'r0')
        self.assertEqual({}, self.a.drbd())
        self.assertEqual('Connecting', self.peer(self.b)['connection'])

    def test_secondary_device_cannot_be_opened(self):
        self.replica()
        exc = self.refused(self.b, 'dd', 'if=/dev/zero', 'of=/dev/drbd1',
                           'bs=1M', 'count=1', 'oflag=direct')
        self.assertIn('Read-only file system', exc.stderr)
        exc = self.refused(self.b, 'blockdev', '--getsize64', '/dev/drbd1')
        self.assertIn('Wrong medium type', exc.stderr)
        self.refused(self.b, 'cinder-rtstool', 'create', '/dev/drbd1',
                     'iqn.x:r0', 'u', 'p', 'False')
        self.assertEqual({}, self.b.targets())
        self.assertRaises(OSError, self.b.read, '/dev/drbd1', 0, 1)

    def test_metadata_arithmetic_and_size_option(self):
        self.assertEqual(36 * 1024 + 4096, sim.md_bytes(64 * MiB, 1))
        self.assertEqual(36 * 1024 + 32768, sim.md_bytes(GiB, 1))
        self.assertEqual(36 * 1024 + 65536, sim.md_bytes(GiB, 2))
        self.replica()
        usable = 64 * MiB - sim.md_bytes(64 * MiB, 1)
        self.assertEqual(usable, self.a.drbd()['r0']['size_bytes'])
        self.assertEqual('%d\n' % (64 * MiB), self.a.execute(
            'blockdev', '--getsize64', '/dev/volumes/r0', **ROOT)[0])
        self.adm(self.a, 'primary', '--force', 'r0')
        self.assertEqual('%d\n' % usable, self.a.execute(
            'blockdev', '--getsize64', '/dev/drbd1', **ROOT)[0])
        text = resource_text('r1', 2, 7002, ['hci-1', 'hci-2'],
                             size_k=32 * 1024)
        self.lvcreate(self.a, 'r1', '32m')
        self.a.resource_files.write('r1', text)
        self.adm(self.a, '--', '--force', 'create-md', 'r1')
        exc = self.refused(self.a, 'drbdadm', 'up', 'r1')
        self.assertIn('(111) Low.dev. smaller than requested DRBD-dev. size',
                      exc.stderr)
        self.a.execute('lvextend', '-L', '36m', 'volumes/r1', **ROOT)
        self.assertIn('(119) No valid meta-data signature found',
                      self.refused(self.a, 'drbdadm', 'up', 'r1').stderr)
        self.adm(self.a, '--', '--force', 'create-md', 'r1')
        self.adm(self.a, 'up', 'r1')
        self.assertEqual(32 * MiB, self.a.drbd()['r1']['size_bytes'])

    def test_up_needs_create_md_and_a_config(self):
        self.lvcreate(self.a, 'r0')
        self.a.resource_files.write('r0', resource_text(
            'r0', 1, 7001, ['hci-1', 'hci-2']))
        self.assertIn('No valid meta-data signature', self.refused(
            self.a, 'drbdadm', 'up', 'r0').stderr)
        exc = self.refused(self.a, 'drbdadm', 'up', 'nope')
        self.assertEqual(10, exc.exit_code)
        self.assertIn("'nope' not defined in your config", exc.stderr)
        self.adm(self.a, 'down', 'r0')

    def test_up_twice_and_minor_or_port_conflicts_are_refused(self):
        self.replica()
        self.assertIn('(161) Minor or volume exists already', self.refused(
            self.a, 'drbdadm', 'up', 'r0').stderr)
        self.lvcreate(self.a, 'r9')
        self.a.resource_files.write('r9', resource_text(
            'r9', 1, 7009, ['hci-1', 'hci-2']))
        exc = self.refused(self.a, 'drbdadm', 'adjust', 'r0')
        self.assertEqual(10, exc.exit_code)
        self.assertIn("conflicting use of device-minor 'minor 1'", exc.stderr)
        self.a.resource_files.remove('r9')
        self.adm(self.a, 'adjust', 'r0')

    def test_parse_errors_break_every_command(self):
        self.replica()
        text = resource_text('r2', 2, 7002, ['hci-1', 'hci-2'],
                             disk='        bogus-option 1;')
        self.a.resource_files.write('r2', text)
        exc = self.refused(self.a, 'drbdadm', 'adjust', 'r0')
        self.assertEqual(10, exc.exit_code)
        self.assertIn("/etc/drbd.d/r2.res:", exc.stderr)
        self.assertIn("Parse error: 'a disk option keyword' expected,\n\tbut "
                      "got 'bogus-option'", exc.stderr)
        self.a.resource_files.write('r2', resource_text(
            'r2', 2, 7002, ['hci-1', 'hci-2'], nine=True))
        self.assertIn("got 'node-id'", self.refused(
            self.a, 'drbdadm', 'adjust', 'r0').stderr)
        self.a.resource_files.remove('r2')
        self.adm(self.a, 'adjust', 'r0')
        self.assertIn('resource r0 {', self.adm(self.a, 'dump', 'r0')[0])

    def test_partition_then_heal_resyncs_the_changes(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.cluster.partition('hci-1', 'hci-2')
        self.assertEqual('Connecting', self.peer(self.a)['connection'])
        self.a.write('/dev/drbd1', 8192, b'while apart')
        self.assertEqual(4096, self.peer(self.a)['out_of_sync_bytes'])
        self.assertIn('cs:WFConnection ro:Primary/Unknown '
                      'ds:UpToDate/DUnknown',
                      self.a.execute('cat', '/proc/drbd')[0])
        self.assertNotEqual(b'while apart',
                            self.b.read('/dev/volumes/r0', 8192, 11))
        self.cluster.heal('hci-1', 'hci-2')
        self.assertEqual('SyncTarget', self.peer(self.b)['replication'])
        self.cluster.finish_syncs()
        self.assertEqual(b'while apart',
                         self.b.read('/dev/volumes/r0', 8192, 11))
        self.assertEqual('UpToDate', self.b.drbd()['r0']['disk'])

    def test_split_brain_goes_standalone(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.cluster.partition('hci-1', 'hci-2')
        self.adm(self.b, 'primary', 'r0')
        self.a.write('/dev/drbd1', 0, b'A')
        self.b.write('/dev/drbd1', 0, b'B')
        self.cluster.heal('hci-1', 'hci-2')
        for host in (self.a, self.b):
            self.assertEqual('StandAlone', self.peer(host)['connection'])
        self.assertIn('cs:StandAlone', self.b.execute('cat',
                                                      '/proc/drbd')[0])
        self.assertTrue(any('Split-Brain' in line
                            for line in self.a.kernel_log()))
        self.adm(self.b, 'secondary', 'r0')
        self.adm(self.b, 'connect', '--discard-my-data', 'r0')
        self.adm(self.a, 'connect', 'r0')
        self.assertEqual('SyncTarget', self.peer(self.b)['replication'])
        self.cluster.finish_syncs()
        self.assertEqual(b'A', self.b.read('/dev/volumes/r0', 0, 1))

    def test_crash_failover_and_return_as_sync_target(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.a.execute('cinder-rtstool', 'create', '/dev/drbd1', 'iqn.x:r0',
                       'u', 'p', 'False', **ROOT)
        self.a.execute('cinder-rtstool', 'save', **ROOT)
        self.cluster.crash('hci-1')
        self.assertEqual(('Connecting', 'Unknown', 'DUnknown'),
                         tuple(self.peer(self.b)[k] for k in (
                             'connection', 'role', 'disk')))
        self.assertEqual('UpToDate', self.b.drbd()['r0']['disk'])
        self.adm(self.b, 'primary', 'r0')
        self.b.write('/dev/drbd1', 0, b'after failover')
        self.cluster.boot('hci-1')
        self.assertEqual({}, self.a.drbd())
        self.assertEqual({}, self.a.targets())
        self.assertEqual(['iqn.x:r0'], self.a.saved_targets())
        self.assertIn('r0', self.a.lvs())
        self.adm(self.a, 'up', 'r0')
        self.assertEqual(('Secondary', 'SyncTarget'),
                         (self.a.drbd()['r0']['role'],
                          self.peer(self.a)['replication']))
        self.cluster.finish_syncs()
        self.assertEqual(b'after failover',
                         self.a.read('/dev/volumes/r0', 0, 14))

    def test_fencing_outdates_the_peer_on_graceful_disconnect(self):
        self.replica(disk='        fencing resource-only;')
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.adm(self.a, 'disconnect', 'r0')
        self.assertEqual('Outdated', self.b.drbd()['r0']['disk'])
        self.assertIn('Need access to UpToDate data', self.refused(
            self.b, 'drbdadm', 'primary', 'r0').stderr)
        self.adm(self.b, 'down', 'r0')
        self.adm(self.b, 'up', 'r0')
        self.assertEqual('Outdated', self.b.drbd()['r0']['disk'])
        self.adm(self.a, 'connect', 'r0')
        self.assertEqual(('UpToDate', 'Established'),
                         (self.b.drbd()['r0']['disk'],
                          self.peer(self.b)['replication']))

    def test_restart_without_peer_reports_uptodate_or_consistent(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        self.adm(self.a, 'secondary', 'r0')
        self.adm(self.a, 'down', 'r0')
        self.adm(self.b, 'down', 'r0')
        self.adm(self.b, 'up', 'r0')
        self.assertEqual('UpToDate', self.b.drbd()['r0']['disk'])
        text = resource_text('r0', 1, 7001, ['hci-1', 'hci-2'],
                             disk='        fencing resource-only;')
        self.b.resource_files.write('r0', text)
        self.adm(self.b, 'down', 'r0')
        self.adm(self.b, 'up', 'r0')
        self.assertEqual('Consistent', self.b.drbd()['r0']['disk'])

    def test_resize_grows_when_both_sides_allow_it(self):
        self.replica(size='64m', size_k=32 * 1024)
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        text = resource_text('r0', 1, 7001, ['hci-1', 'hci-2'],
                             size_k=96 * 1024)
        for host in (self.a, self.b):
            host.resource_files.write('r0', text)
        self.a.execute('lvextend', '-L', '100m', 'volumes/r0', **ROOT)
        self.assertIn('(111)', self.refused(self.a, 'drbdadm', 'resize',
                                            'r0').stderr)
        self.b.execute('lvextend', '-L', '100m', 'volumes/r0', **ROOT)
        self.adm(self.a, 'resize', 'r0')
        for host in (self.a, self.b):
            self.assertEqual(96 * MiB, host.drbd()['r0']['size_bytes'])
        self.assertEqual('SyncTarget', self.peer(self.b)['replication'])
        self.cluster.finish_syncs()
        self.assertEqual(self.a.fingerprint('/dev/drbd1'),
                         self.b.fingerprint('/dev/drbd1'))

    def test_dd_zeroes_through_drbd_and_stops_at_the_end(self):
        self.replica(size='8m')
        self.adm(self.a, 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        size = self.a.drbd()['r0']['size_bytes']
        _out, err = self.a.execute('dd', 'if=/dev/zero', 'of=/dev/drbd1',
                                   'bs=1M', 'count=%d' % (size // MiB),
                                   'oflag=direct', **ROOT)
        self.assertIn('7+0 records in', err)
        self.assertEqual(bytes(64), self.b.read('/dev/volumes/r0', 0, 64))
        exc = self.refused(self.a, 'dd', 'if=/dev/zero', 'of=/dev/drbd1',
                           'bs=1M', 'count=9')
        self.assertIn('No space left on device', exc.stderr)
        self.lvcreate(self.a, 'copy', '8m')
        self.a.write('/dev/drbd1', 0, b'clone me')
        self.a.execute('dd', 'if=/dev/drbd1', 'of=/dev/volumes/copy',
                       'count=%d' % size, 'bs=1M', 'iflag=count_bytes,direct',
                       'oflag=direct', **ROOT)
        self.assertEqual(b'clone me', self.a.read('/dev/volumes/copy', 0, 8))


class Drbd9Test(SimTestCase):
    """DRBD 9 hosts: three nodes, drbdsetup status --json."""

    def test_three_nodes_status_json(self):
        hosts = [self.cluster.add_host('n%d' % i, vg_size_gib=10,
                                       drbd_version='9.2.7')
                 for i in range(3)]
        self.assertIn('DRBD_KERNEL_VERSION_CODE=0x090207',
                      self.adm(hosts[0], '--version')[0])
        self.replica(hosts=hosts, nine=True)
        self.adm(hosts[0], 'primary', '--force', 'r0')
        self.clock.advance(0.1)
        data = json.loads(hosts[0].execute('drbdsetup', 'status', '--json',
                                           **ROOT)[0])
        self.assertEqual('r0', data[0]['name'])
        self.assertEqual('Primary', data[0]['role'])
        self.assertEqual(('UpToDate', 1), (data[0]['devices'][0]['disk-state'],
                                           data[0]['devices'][0]['minor']))
        peers = {c['name']: c for c in data[0]['connections']}
        self.assertEqual({'n1', 'n2'}, set(peers))
        device = peers['n1']['peer_devices'][0]
        self.assertEqual(('Connected', 'SyncSource', 'Inconsistent'),
                         (peers['n1']['connection-state'],
                          device['replication-state'],
                          device['peer-disk-state']))
        self.assertTrue(device['has-sync-details'])
        self.cluster.finish_syncs()
        for host in hosts[1:]:
            self.assertEqual('UpToDate', host.drbd()['r0']['disk'])
        self.refused(self.a, 'drbdsetup', 'status', '--json')
        self.assertIn('version: 9.2.7', hosts[0].execute('cat',
                                                         '/proc/drbd')[0])

    def _old_primary_returns(self):
        """n0 crashes, n1 takes over and writes, n0 comes back up."""
        hosts = [self.cluster.add_host('n%d' % i, vg_size_gib=10,
                                       drbd_version='9.2.12')
                 for i in range(3)]
        self.replica(hosts=hosts, nine=True)
        self.adm(hosts[0], 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        hosts[0].write('/dev/drbd1', 0, b'before')
        self.cluster.crash('n0')
        self.adm(hosts[1], 'primary', 'r0')
        hosts[1].write('/dev/drbd1', 8192, b'later')
        # n2 got the write too and knows that n0 misses it.
        self.assertEqual(4096, hosts[2].drbd()['r0']['peers']['n0'][
            'out_of_sync_bytes'])
        self.cluster.boot('n0')
        self.adm(hosts[0], 'up', 'r0')
        return hosts

    def test_returning_node_resyncs_from_one_peer_at_a_time(self):
        hosts = self._old_primary_returns()
        peers = hosts[0].drbd()['r0']['peers']
        self.assertEqual(('Inconsistent', 'SyncTarget', 'PausedSyncT'),
                         (hosts[0].drbd()['r0']['disk'],
                          peers['n1']['replication'],
                          peers['n2']['replication']))
        self.assertEqual('PausedSyncS', hosts[2].drbd()['r0']['peers'][
            'n0']['replication'])
        data = json.loads(hosts[0].execute('drbdsetup', 'status', '--json',
                                           **ROOT)[0])
        suspended = {c['name']: c['peer_devices'][0]['resync-suspended']
                     for c in data[0]['connections']}
        self.assertEqual({'n1': 'no', 'n2': 'dependency'}, suspended)
        # The resync of the one changed block ends; n2 has nothing to add.
        self.clock.advance(1)
        for host in hosts:
            status = host.drbd()['r0']
            self.assertEqual('UpToDate', status['disk'], host.name)
            for node, peer in status['peers'].items():
                self.assertEqual(('Established', 'UpToDate', 0),
                                 (peer['replication'], peer['disk'],
                                  peer['out_of_sync_bytes']),
                                 (host.name, node))
        self.assertFalse(any('Began resync' in line
                             for line in hosts[2].kernel_log()))
        prints = {h.fingerprint('/dev/drbd1') for h in hosts}
        self.assertEqual(1, len(prints))
        self.assertEqual(b'later', hosts[0].read('/dev/volumes/r0', 8192, 5))
        # Both in-sync peers have the same generation: a later outage of
        # n0 and a write on n1 are resynced again, from one peer.
        self.cluster.partition('n0', 'n1')
        self.cluster.partition('n0', 'n2')
        hosts[1].write('/dev/drbd1', 0, b'third')
        self.cluster.heal('n0', 'n1')
        self.cluster.heal('n0', 'n2')
        self.cluster.finish_syncs()
        self.assertEqual(b'third', hosts[0].read('/dev/volumes/r0', 0, 5))
        self.assertEqual(1, len({h.fingerprint('/dev/drbd1')
                                 for h in hosts}))

    def test_paused_resync_resumes_when_its_source_goes_away(self):
        hosts = self._old_primary_returns()
        self.cluster.crash('n1')
        # The next transaction resumes the resync from n2.
        peers = hosts[0].drbd()['r0']['peers']
        self.assertEqual('SyncTarget', peers['n2']['replication'])
        self.cluster.finish_syncs()
        self.assertEqual('UpToDate', hosts[0].drbd()['r0']['disk'])
        self.assertEqual('Established', hosts[0].drbd()['r0']['peers'][
            'n2']['replication'])
        self.assertEqual(hosts[2].fingerprint('/dev/drbd1'),
                         hosts[0].fingerprint('/dev/drbd1'))
        self.assertEqual(b'later', hosts[0].read('/dev/volumes/r0', 8192, 5))

    def test_resync_without_remembered_ranges_copies_everything(self):
        hosts = self._old_primary_returns()
        with self.cluster.transaction() as tx:
            ctx = sim_devices.Ctx(tx, 'n0', True)
            sim_drbd.Kernel(ctx).md('r0')['sync_from'] = None
        self.cluster.finish_syncs()
        self.assertEqual('UpToDate', hosts[0].drbd()['r0']['disk'])
        self.assertEqual(1, len({h.fingerprint('/dev/drbd1')
                                 for h in hosts}))


class LioTest(SimTestCase):
    """cinder-rtstool as Cinder's LioAdm runs it."""

    IQN = 'iqn.2010-10.org.openstack:volume-1'

    def test_target_lifecycle(self):
        self.lvcreate(self.a, 'volume-1')
        rts = ('cinder-rtstool',)
        self.a.execute(*rts + ('create', '/dev/volumes/volume-1', self.IQN,
                               'user', 'secret', False, '-p3260',
                               '-a10.0.0.1,fd00::1'), **ROOT)
        self.a.execute(*rts + ('create', '/dev/volumes/volume-1', self.IQN,
                               'user', 'secret', False), **ROOT)
        self.assertEqual('%s\n' % self.IQN,
                         self.a.execute(*rts + ('get-targets',), **ROOT)[0])
        self.a.execute(*rts + ('add-initiator', self.IQN, 'user', 'secret',
                               'iqn.1993-08.org.debian:01:c1'), **ROOT)
        target = self.a.targets()[self.IQN]
        self.assertEqual({'path': '/dev/volumes/volume-1',
                          'initiators': ['iqn.1993-08.org.debian:01:c1'],
                          'portals': ['10.0.0.1:3260', '[fd00::1]:3260']},
                         target)
        out, _err = self.a.execute(*rts + ('delete-initiator', self.IQN,
                                           'iqn.other'), **ROOT)
        self.assertEqual('delete_initiator: iqn.other ACL not found. '
                         'Continuing.\n', out)
        exc = self.refused(self.a, *rts + ('add-initiator', 'iqn.nope', 'u',
                                           'p', 'iqn.c'))
        self.assertIn('Could not find target iqn.nope', exc.stderr)
        self.assertIn('in use', self.refused(
            self.a, 'lvremove', '-f', 'volumes/volume-1').stderr)
        self.a.execute(*rts + ('save',), **ROOT)
        self.cluster.crash('hci-1')
        self.cluster.boot('hci-1')
        self.assertEqual('', self.a.execute(*rts + ('get-targets',),
                                            **ROOT)[0])
        self.a.execute(*rts + ('restore',), **ROOT)
        self.assertEqual([self.IQN], list(self.a.targets()))
        self.a.execute(*rts + ('delete', self.IQN), **ROOT)
        self.a.execute(*rts + ('delete', self.IQN), **ROOT)
        self.assertEqual({}, self.a.targets())

    def test_backing_lv_of_drbd_is_busy(self):
        self.replica()
        exc = self.refused(self.a, 'cinder-rtstool', 'create',
                           '/dev/volumes/r0', self.IQN, 'u', 'p', 'False')
        self.assertIn('Device or resource busy', exc.stderr)
        exc = self.refused(self.a, 'cinder-rtstool', 'create', '/dev/drbd7',
                           self.IQN, 'u', 'p', 'False')
        self.assertIn('Cannot find block device /dev/drbd7', exc.stderr)

    def test_restore_fails_for_a_secondary_drbd_device(self):
        self.replica()
        self.adm(self.a, 'primary', '--force', 'r0')
        self.a.execute('cinder-rtstool', 'create', '/dev/drbd1', self.IQN,
                       'u', 'p', 'False', **ROOT)
        self.a.execute('cinder-rtstool', 'save', **ROOT)
        self.cluster.crash('hci-1')
        self.cluster.boot('hci-1')
        self.adm(self.a, 'up', 'r0')
        exc = self.refused(self.a, 'cinder-rtstool', 'restore')
        self.assertIn('Read-only file system', exc.stderr)
        self.assertEqual({}, self.a.targets())


class BrickLvmTest(SimTestCase):
    """Cinder's brick LVM on simulated hosts under BrickRouting."""

    def setUp(self):
        super(BrickLvmTest, self).setUp()
        self.useFixture(sim.BrickRouting(self.cluster))

    def test_thick_volumes(self):
        vg = brick_lvm.LVM('volumes', self.a.root_helper,
                           executor=self.a.execute)
        vg.update_volume_group_info()
        self.assertEqual((10.0, 10.0), (vg.vg_size, vg.vg_free_space))
        vg.create_volume('volume-1', '1g')
        vg.extend_volume('volume-1', '2g')
        vg.create_lv_snapshot('_snapshot-1', 'volume-1')
        self.assertTrue(vg.lv_has_snapshot('volume-1'))
        self.assertTrue(vg.lv_is_snapshot('_snapshot-1'))
        self.assertEqual('volume-1', vg.lv_get_origin('_snapshot-1'))
        vg.update_volume_group_info()
        self.assertEqual(6.0, vg.vg_free_space)
        self.assertEqual({'vg': 'volumes', 'name': 'volume-1',
                          'size': '2.00'}, vg.get_volume('volume-1'))
        vg.delete('_snapshot-1')
        vg.rename_volume('volume-1', 'volume-2')
        vg.delete('volume-2')
        vg.update_volume_group_info()
        self.assertEqual(10.0, vg.vg_free_space)
        self.assertEqual([], vg.get_volumes())
        self.assertEqual({}, self.a.lvs())
        self.assertEqual('/dev/vdb', vg.pv_list[0]['name'])

    def test_thin_volumes(self):
        host = self.cluster.add_host('thin-1', vg_size_gib=10, lvm_thin=True)
        vg = brick_lvm.LVM('volumes', host.root_helper, lvm_type='thin',
                           executor=host.execute)
        vg.update_volume_group_info()
        pool_size = vg.vg_thin_pool_size
        self.assertTrue(9.0 < pool_size < 9.5)
        self.assertEqual(pool_size, vg.vg_thin_pool_free_space)
        vg.create_volume('volume-1', '2g', lv_type='thin')
        host.write('/dev/volumes/volume-1', 0, b'y' * (16 * MiB))
        vg.update_volume_group_info()
        self.assertEqual(2.0, vg.vg_provisioned_capacity)
        self.assertLess(vg.vg_thin_pool_free_space, pool_size)
        vg.create_lv_snapshot('_snapshot-1', 'volume-1', lv_type='thin')
        vg.activate_lv('_snapshot-1', is_snapshot=True)
        self.assertEqual(b'yy', host.read('/dev/volumes/_snapshot-1', 0, 2))

    def test_unrouted_calls_fail_loudly(self):
        self.assertRaises(sim.UnroutedCommand,
                          brick_lvm.LVM.get_all_volume_groups, 'sudo')
        self.assertRaises(sim.UnroutedCommand,
                          brick_lvm.LVM.get_lv_info, 'ev3-sim:nobody')
        self.lvcreate(self.a, 'same')
        self.lvcreate(self.b, 'same')
        vg = brick_lvm.LVM('volumes', self.a.root_helper,
                           executor=self.a.execute)
        self.assertRaises(NotImplementedError, vg.rename_volume, 'same',
                          'other')


class SuspendIoTest(SimTestCase):
    """drbdadm suspend-io / resume-io: frozen application I/O."""

    def setUp(self):
        super(SuspendIoTest, self).setUp()
        self.useFixture(sim.BrickRouting(self.cluster))

    def proc_status(self, host, minor=1, name='r0'):
        text = host.execute('cat', '/proc/drbd', **ROOT)[0]
        return text, ovt_drbd.parse_proc_drbd(text, {minor: name})[name]

    def primary_replica(self, hosts=None, thin=False, nine=False):
        hosts = hosts or [self.a, self.b]
        self.replica(size='8m', hosts=hosts, thin=thin, nine=nine)
        self.adm(hosts[0], 'primary', '--force', 'r0')
        self.cluster.finish_syncs()
        return hosts

    def assert_frozen(self, host, path='/dev/drbd1'):
        exc = self.assertRaises(OSError, host.write, path, 0, b'late')
        self.assertEqual(errno.EAGAIN, exc.errno)
        self.assertIn('I/O is suspended', str(exc))
        exc = self.assertRaises(OSError, host.read, path, 0, 4)
        self.assertEqual(errno.EAGAIN, exc.errno)
        exc = self.refused(host, 'dd', 'if=/dev/zero', 'of=%s' % path,
                           'bs=4096', 'count=1', 'oflag=direct')
        self.assertIn("dd: error writing '%s': I/O is suspended" % path,
                      exc.stderr)
        exc = self.refused(host, 'dd', 'if=%s' % path,
                           'of=/dev/volumes/copy', 'bs=4096', 'count=1')
        self.assertIn("dd: error reading '%s': I/O is suspended" % path,
                      exc.stderr)

    def test_suspend_freezes_io_and_shows_in_proc_drbd(self):
        self.primary_replica()
        self.lvcreate(self.a, 'copy', '8m')
        self.a.write('/dev/drbd1', 0, b'frozen')
        text, status = self.proc_status(self.a)
        self.assertIn(' C r-----', text)
        self.assertFalse(status.suspended)
        self.assertEqual(('', ''), self.adm(self.a, 'suspend-io', 'r0'))
        self.adm(self.a, 'suspend-io', 'r0')
        text, status = self.proc_status(self.a)
        self.assertIn(' 1: cs:Connected ro:Primary/Secondary '
                      'ds:UpToDate/UpToDate C s-----', text)
        self.assertTrue(status.suspended)
        self.assertEqual(ovt_drbd.Role.PRIMARY, status.role)
        self.assertTrue(self.a.drbd()['r0']['suspended'])
        self.assertFalse(self.b.drbd()['r0']['suspended'])
        self.assert_frozen(self.a)
        self.assertEqual(b'frozen', self.b.read('/dev/volumes/r0', 0, 6))
        self.adm(self.a, 'resume-io', 'r0')
        self.adm(self.a, 'resume-io', 'r0')
        _text, status = self.proc_status(self.a)
        self.assertFalse(status.suspended)
        self.a.write('/dev/drbd1', 0, b'thawed')
        self.assertEqual(b'thawed', self.b.read('/dev/volumes/r0', 0, 6))
        self.a.execute('dd', 'if=/dev/drbd1', 'of=/dev/volumes/copy',
                       'bs=4096', 'count=1', **ROOT)
        self.assertEqual(b'thawed', self.a.read('/dev/volumes/copy', 0, 6))

    def test_secondary_and_several_resources(self):
        self.replica(size='8m')
        self.replica(name='r1', minor=2, port=7002, size='8m')
        self.adm(self.b, 'suspend-io', 'r0', 'r1')
        self.assertEqual({'r0': True, 'r1': True},
                         {n: r['suspended']
                          for n, r in self.b.drbd().items()})
        text = self.b.execute('cat', '/proc/drbd', **ROOT)[0]
        statuses = ovt_drbd.parse_proc_drbd(text, {1: 'r0', 2: 'r1'})
        self.assertTrue(all(s.suspended for s in statuses.values()))
        self.adm(self.b, 'resume-io', 'r1')
        self.assertEqual({'r0': True, 'r1': False},
                         {n: r['suspended']
                          for n, r in self.b.drbd().items()})

    def test_unknown_resource_and_non_root_are_refused(self):
        self.replica(up=False)
        for command in ('suspend-io', 'resume-io'):
            exc = self.refused(self.a, 'drbdadm', command, 'r0')
            self.assertEqual(10, exc.exit_code)
            self.assertIn('1: Failure: (127) Device minor not allocated',
                          exc.stderr)
            self.assertIn("Command 'drbdsetup-84 %s 1'" % command,
                          exc.stderr)
            exc = self.refused(self.a, 'drbdadm', command, 'nope')
            self.assertIn("'nope' not defined in your config", exc.stderr)
            exc = self.refused(self.a, 'drbdadm', command, 'r0',
                               run_as_root=False)
            self.assertIn('You need to be root', exc.stderr)
        self.adm(self.a, 'up', 'r0')
        exc = self.refused(self.a, 'drbdadm', 'suspend-io', 'r0', 'nope')
        self.assertIn("'nope' not defined", exc.stderr)
        self.assertTrue(self.a.drbd()['r0']['suspended'])

    def test_crash_and_down_clear_the_suspension(self):
        self.primary_replica()
        self.adm(self.a, 'suspend-io', 'r0')
        self.cluster.crash('hci-1')
        self.cluster.boot('hci-1')
        self.adm(self.a, 'up', 'r0')
        self.assertFalse(self.a.drbd()['r0']['suspended'])
        self.adm(self.b, 'suspend-io', 'r0')
        self.adm(self.b, 'down', 'r0')
        self.adm(self.b, 'up', 'r0')
        _text, status = self.proc_status(self.b)
        self.assertFalse(status.suspended)

    def snapshot_while_suspended(self, hosts, lv_type):
        host = hosts[0]
        vg = brick_lvm.LVM(
            'volumes', host.root_helper, executor=host.execute,
            lvm_type='thin' if lv_type == 'thin' else 'default')
        host.write('/dev/drbd1', 0, b'as of suspend')
        self.adm(host, 'suspend-io', 'r0')
        self.assertRaises(OSError, host.write, '/dev/drbd1', 0, b'lost')
        vg.create_lv_snapshot('r0-snap', 'r0', lv_type=lv_type)
        vg.activate_lv('r0-snap', is_snapshot=True)
        self.adm(host, 'resume-io', 'r0')
        host.write('/dev/drbd1', 0, b'after resume!')
        self.assertEqual(b'as of suspend',
                         host.read('/dev/volumes/r0-snap', 0, 13))
        self.assertEqual(b'after resume!',
                         host.read('/dev/volumes/r0', 0, 13))
        self.assertEqual('r0', host.lvs()['r0-snap']['origin'])

    def test_thick_snapshot_of_backing_lv_while_suspended(self):
        self.snapshot_while_suspended(self.primary_replica(), 'default')

    def test_thin_snapshot_on_drbd9_while_suspended(self):
        hosts = [self.cluster.add_host('t%d' % i, vg_size_gib=10,
                                       lvm_thin=True, drbd_version='9.2.7')
                 for i in range(2)]
        self.primary_replica(hosts, thin=True, nine=True)
        self.adm(hosts[1], 'suspend-io', 'r0')
        data = json.loads(hosts[1].execute('drbdsetup', 'status', '--json',
                                           'r0', **ROOT)[0])
        self.assertEqual((True, True), (data[0]['suspended'],
                                        data[0]['suspended-user']))
        status = ovt_drbd.parse_status_json(json.dumps(data))['r0']
        self.assertTrue(status.suspended)
        self.adm(hosts[1], 'resume-io', 'r0')
        data = json.loads(hosts[1].execute('drbdsetup', 'status', '--json',
                                           **ROOT)[0])
        self.assertFalse(data[0]['suspended'])
        exc = self.refused(hosts[0], 'drbdadm', 'suspend-io', 'r0', 'r0x')
        self.assertIn("'r0x' not defined", exc.stderr)
        self.adm(hosts[0], 'resume-io', 'r0')
        self.snapshot_while_suspended(hosts, 'thin')


class CliTest(SimTestCase):
    """The simulator as executables for real processes."""

    def test_shims_run_as_subprocesses(self):
        self.replica()
        bin_dir = self.useFixture(fixtures.TempDir()).path
        sim.install_shims(bin_dir, self.state_dir, 'hci-1')
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ['PATH'])
        run = subprocess.run(['env', 'LC_ALL=C', 'lvs', '--noheadings', '-o',
                              'name', 'volumes'], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual((0, '  r0\n'), (run.returncode, run.stdout))
        run = subprocess.run(['cat', '/proc/drbd'], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertIn(' 1: cs:Connected', run.stdout)
        plain = os.path.join(bin_dir, 'plain.txt')
        with open(plain, 'w') as handle:
            handle.write('not drbd')
        run = subprocess.run(['cat', plain], env=env, capture_output=True,
                             text=True, timeout=60)
        self.assertEqual('not drbd', run.stdout)
        run = subprocess.run(['drbdadm', 'primary', 'r0'], env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(17, run.returncode)
        self.assertIn('Need access to UpToDate data', run.stderr)
        run = subprocess.run(['drbdadm', 'primary', '--force', 'r0'],
                             env=env, capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(0, run.returncode, run.stderr)
        self.assertEqual('Primary', self.a.drbd()['r0']['role'])
        self.assertEqual('SyncTarget', self.peer(self.b)['replication'])

    def test_module_main(self):
        self.useFixture(fixtures.EnvironmentVariable('EV3_SIM_STATE',
                                                     self.state_dir))
        self.useFixture(fixtures.EnvironmentVariable('EV3_SIM_HOST',
                                                     'hci-2'))
        from cinder.tests.unit.volume.drivers.ovt.sim import cli
        for name in ('stdout', 'stderr'):
            stream = self.useFixture(fixtures.StringStream(name)).stream
            self.useFixture(fixtures.MonkeyPatch('sys.' + name, stream))
        self.assertEqual(0, cli.main(['lvcreate', '-n', 'v', 'volumes',
                                      '-L', '4m']))
        self.assertIn('v', self.b.lvs())
        self.assertEqual(2, cli.main([]))
