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
"""The user's runbook and the volume lifecycle, driven by the real CLIs.

``python tools/cloud/e2e.py [runbook|lifecycle|bad-input|all]`` against the
cloud that ``cloud.py start`` runs.  Every step prints the command as an
operator types it and the table it prints; the state behind it is then
checked twice: what Cinder says (its API) and what each storage host holds
(the simulated hosts' LVs, DRBD resources and roles, resource files and LIO
targets).  Data goes through iSCSI as the connection info Cinder hands out
says: the initiator of this script logs in to the target named there, on
the host whose portal it is, if that target lets this initiator in.

The exit status is non-zero on the first mismatch, which is printed with
what was expected and what was found.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import cloud

P = cloud.PROJECT
BIN = cloud.VENV_BIN
OS = [os.path.join(BIN, 'openstack'), '--os-auth-type', 'admin_token',
      '--os-token', 'admin:' + P, '--os-endpoint', cloud.API_URL,
      '--os-volume-api-version', '3.64']
CINDER = [os.path.join(BIN, 'cinder'), '--os-auth-type', 'noauth',
          '--os-endpoint', cloud.API_URL, '--os-user-id', 'admin',
          '--os-project-id', P, '--os-volume-api-version', '3.64']
MANAGE = [os.path.join(BIN, 'cinder-manage'), '--config-file',
          cloud.path('etc', 'cinder.conf')]
INITIATOR = 'iqn.2026-12.org.ev3.cloud:client'
H1, H2 = (h for h, _ip in cloud.HOSTS)
B1, B2 = ('%s@%s' % (h, cloud.BACKEND) for h in (H1, H2))
POOL1, POOL2 = ('%s#%s' % (b, cloud.POOL) for b in (B1, B2))


class Mismatch(Exception):
    """A state differs from what the runbook says it must be."""


def say(text):
    print(text, flush=True)


def step(title):
    say('\n=== %s' % title)


def expect(what, expected, found):
    if expected != found:
        raise Mismatch('%s: expected %r, found %r' % (what, expected, found))
    say('  ok: %s = %r' % (what, found))


def run(argv, shown, check=True):
    """Run a CLI; print it as typed and what it printed."""
    say('$ ' + shown)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env,
                          universal_newlines=True)
    out = proc.stdout.rstrip()
    err = '\n'.join(line for line in proc.stderr.splitlines()
                    if 'Warning' not in line and 'warn' not in line
                    and line.strip())
    if out:
        say(out)
    if err:
        say(err)
    if check and proc.returncode != 0:
        raise Mismatch('"%s" exited %d' % (shown, proc.returncode))
    return proc.returncode, out, err


def openstack(args, check=True):
    return run(OS + args, 'openstack ' + ' '.join(args), check=check)


def cinder(args, check=True):
    return run(CINDER + args, 'cinder ' + ' '.join(args), check=check)


def manage(args):
    return run(MANAGE + args, 'cinder-manage ' + ' '.join(args))


# -- Cinder's API -------------------------------------------------------------

def api(method, suffix, body=None, version='3.64'):
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(
        cloud.API_URL + suffix, data=data, method=method,
        headers={'X-Auth-Token': 'admin:' + P,
                 'Content-Type': 'application/json',
                 'OpenStack-API-Version': 'volume ' + version})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode('utf-8')
    return json.loads(text) if text else None


def volume(volume_id):
    return api('GET', '/volumes/%s' % volume_id)['volume']


def service(host):
    """The cinder-volume service ``host`` as the API shows it."""
    for entry in api('GET', '/os-services?withReplication=true')[
            'services']:
        if entry['binary'] == 'cinder-volume' and entry['host'] == host:
            return {'state': entry['state'],
                    'disabled': entry['status'] == 'disabled',
                    'disabled_reason': entry['disabled_reason'] or '',
                    'replication_status': entry['replication_status'],
                    'active_backend_id': entry['active_backend_id'] or '',
                    'frozen': entry['frozen']}
    raise Mismatch('no cinder-volume service %s' % host)


def wait(what, check, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(0.5)
    raise Mismatch('timed out after %d s waiting for %s (last: %r)'
                   % (timeout, what, last))


def wait_volume(volume_id, status, timeout=120):
    def check():
        found = volume(volume_id)
        if found['status'] == status:
            return True
        if found['status'] in ('error', 'error_deleting', 'error_extending'):
            raise Mismatch('volume %s went to %s (wanted %s)'
                           % (volume_id, found['status'], status))
        return found['status']
    wait('volume %s %s' % (volume_id, status), check, timeout)
    return volume(volume_id)


def wait_gone(volume_id, timeout=120):
    def check():
        try:
            found = volume(volume_id)
        except urllib.error.HTTPError as exc:
            return exc.code == 404 or exc.code
        if found['status'] == 'error_deleting':
            raise Mismatch('volume %s: error_deleting' % volume_id)
        return found['status']
    wait('volume %s deleted' % volume_id, check, timeout)


def wait_service(host, **wanted):
    def check():
        row = service(host)
        return all(row[k] == v for k, v in wanted.items()) or row
    wait('service %s %r' % (host, wanted), check, 180)
    say('  ok: %s %s' % (host, ', '.join('%s=%s' % kv for kv in
                                         sorted(wanted.items()))))


# -- the storage hosts --------------------------------------------------------

def sim_cluster():
    return cloud.sim_api().SimCluster(cloud.path('sim'))


def holdings(host, name):
    """What ``host`` holds of resource (LV) ``name``."""
    sim_host = sim_cluster().host(host)
    drbd = sim_host.drbd().get(name)
    paths = {'/dev/volumes/%s' % name}
    if drbd is not None:
        paths.add('/dev/drbd%d' % drbd['minor'])
    return {'lv': name in sim_host.lvs(),
            'drbd': None if drbd is None else (drbd['role'], drbd['disk']),
            'file': name in sim_host.resource_file_names(),
            'targets': sorted(iqn for iqn, t in sim_host.targets().items()
                              if t['path'] in paths or name in iqn)}


def expect_nothing_left(name):
    for host in (H1, H2):
        found = holdings(host, name)
        expect('%s holds of %s' % (host, name),
               {'lv': False, 'drbd': None, 'file': False, 'targets': []},
               found)


class Attachment(object):
    """An attachment made through Cinder's API and an iSCSI login."""

    def __init__(self, volume_id):
        self.volume_id = volume_id
        code, out, _err = cinder(
            ['attachment-create', '--connect', 'True', '--initiator',
             INITIATOR, '--ip', '127.0.0.1', '--host', 'client',
             volume_id])
        self.id = _field(out, 'id')
        info = api('GET', '/attachments/%s' % self.id)['attachment']
        self.info = info['connection_info']
        cinder(['attachment-complete', self.id])
        self.host, self.path = self._login()
        say('  iSCSI login: %s lun %s at %s -> %s:%s' % (
            self.info['target_iqn'], self.info['target_lun'],
            self.info['target_portal'], self.host, self.path))

    def _login(self):
        iqn, portal = self.info['target_iqn'], self.info['target_portal']
        cluster = sim_cluster()
        for host, ip in cloud.HOSTS:
            sim_host = cluster.host(host)
            if not sim_host.alive():
                continue
            target = sim_host.targets().get(iqn)
            if target is None:
                continue
            if portal not in target['portals'] and \
                    '0.0.0.0:3260' not in target['portals']:
                continue
            if not portal.startswith(ip + ':'):
                continue
            if INITIATOR not in target['initiators']:
                raise Mismatch('target %s on %s refuses initiator %s'
                               % (iqn, host, INITIATOR))
            return host, target['path']
        raise Mismatch('no live host serves target %s at %s' % (iqn, portal))

    def write(self, offset, data):
        sim_cluster().host(self.host).write(self.path, offset, data)

    def read(self, offset, length):
        return sim_cluster().host(self.host).read(self.path, offset, length)

    def delete(self):
        cinder(['attachment-delete', self.id])


def _field(table, name):
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) >= 2 and cells[0] == name:
            return cells[1]
    raise Mismatch('no %r in the table printed' % name)


def create_volume(name, size=1, vtype='RBS', extra=()):
    _code, out, _err = openstack(['volume', 'create', '--type', vtype,
                                  '--size', str(size)] + list(extra) + [name])
    volume_id = _field(out, 'id')
    return wait_volume(volume_id, 'available')


def ensure_type(name, properties):
    """``openstack volume type create`` unless the type exists."""
    types = api('GET', '/types')['volume_types']
    if any(t['name'] == name for t in types):
        say('(volume type %s exists)' % name)
        return
    args = ['volume', 'type', 'create', name]
    for key, value in sorted(properties.items()):
        args += ['--property', '%s=%s' % (key, value)]
    openstack(args)


# -- volume services stopped and started --------------------------------------

def stop_host(host):
    """The storage host fails: its cinder-volume and its kernel state."""
    cloud.stop_process('cinder-volume-' + host, sig=9, wait=10)
    sim_cluster().crash(host)
    say('*** %s is down: its cinder-volume killed, its simulated kernel '
        'state lost (disks stay)' % host)
    wait_service('%s@%s' % (host, cloud.BACKEND), state='down')


def start_host(host):
    sim_cluster().boot(host)
    cloud.start_volume_service(host)
    say('*** %s is back: booted, cinder-volume started' % host)
    wait_service('%s@%s' % (host, cloud.BACKEND), state='up')
    time.sleep(2 * 3)


def resource_of(volume_id):
    found = volume(volume_id)
    return 'volume-%s' % (found.get('os-vol-mig-status-attr:name_id') or
                          volume_id)


# -- the runbook --------------------------------------------------------------

def standby_then_back(volume_id, primary, standby, data, later_offset):
    """The disaster half of the runbook, with ``primary`` failing."""
    bp, bs = ('%s@%s' % (h, cloud.BACKEND) for h in (primary, standby))
    name = resource_of(volume_id)
    step('%s fails' % primary)
    stop_host(primary)
    openstack(['volume', 'service', 'list', '--long'])
    step('the standby %s takes over' % standby)
    cinder(['failover-host', bs, '--backend_id', 'default'])
    wait_service(bs, replication_status='enabled', active_backend_id='')
    expect('%s role of %s' % (standby, name), ('Primary', 'UpToDate'),
           holdings(standby, name)['drbd'])
    cinder(['freeze-host', bs])
    wait_service(bs, frozen=True, disabled=True, disabled_reason='frozen')
    manage(['volume', 'update_host', '--currenthost', '%s#%s' % (
        bp, cloud.POOL), '--newhost', '%s#%s' % (bs, cloud.POOL)])
    openstack(['volume', 'service', 'list', '--long'])
    openstack(['volume', 'show', volume_id])
    expect('volume host', '%s#%s' % (bs, cloud.POOL),
           volume(volume_id)['os-vol-host-attr:host'])
    step('the user reaches the volume through %s' % standby)
    attachment = Attachment(volume_id)
    expect('host serving the volume', standby, attachment.host)
    expect('data written before the failure', data,
           attachment.read(0, len(data)))
    later = ('written through %s while %s was down\n'
             % (standby, primary)).encode('ascii')
    attachment.write(later_offset, later)
    attachment.delete()
    step('%s comes back' % primary)
    start_host(primary)
    wait('%s resynchronised' % name, lambda: holdings(primary, name)['drbd']
         == ('Secondary', 'UpToDate') or holdings(primary, name)['drbd'], 120)
    expect('%s role after restart' % primary, ('Secondary', 'UpToDate'),
           holdings(primary, name)['drbd'])
    expect('%s copy of the later write' % primary, later,
           sim_cluster().host(primary).read(
               '/dev/volumes/%s' % name, later_offset, len(later)))
    openstack(['volume', 'service', 'list', '--long'])
    step('back to normal: %s active, %s standby' % (standby, primary))
    cinder(['thaw-host', bs])
    wait_service(bs, frozen=False)
    cinder(['failover-host', bp, '--backend_id', bs])
    wait_service(bp, replication_status='failed-over', active_backend_id=bs,
                 disabled=True, disabled_reason='failed-over')
    openstack(['volume', 'service', 'list', '--long'])
    return later


def runbook():
    step('volume type RBS (the README)')
    ensure_type('RBS', {'volume_backend_name': cloud.POOL,
                        'replication_enabled': '<is> True'})
    openstack(['volume', 'service', 'list', '--long'])
    step('failover policy: %s is the standby of %s' % (B2, B1))
    cinder(['failover-host', B2, '--backend_id', B1])
    wait_service(B2, replication_status='failed-over', active_backend_id=B1,
                 disabled=True, disabled_reason='failed-over')
    openstack(['volume', 'service', 'list', '--long'])
    step('a replicated volume')
    openstack(['volume', 'type', 'list'])
    created = create_volume('replicated', size=10)
    volume_id = created['id']
    openstack(['volume', 'show', volume_id])
    expect('host', POOL1, created['os-vol-host-attr:host'])
    wait('replication_status enabled', lambda: volume(volume_id)[
        'replication_status'] == 'enabled' or volume(volume_id)[
        'replication_status'], 60)
    name = resource_of(volume_id)
    expect('%s holds' % H1, ('Primary', 'UpToDate'),
           holdings(H1, name)['drbd'])
    expect('%s holds' % H2, ('Secondary', 'UpToDate'),
           holdings(H2, name)['drbd'])
    attachment = Attachment(volume_id)
    expect('host serving the volume', H1, attachment.host)
    data = b'acknowledged by hci-0001 before its failure\n'
    attachment.write(0, data)
    attachment.delete()
    later = standby_then_back(volume_id, H1, H2, data, 4096)
    step('and the same the other way back')
    latest = standby_then_back(volume_id, H2, H1, data, 8192)
    step('the original state: %s active, %s standby' % (B1, B2))
    expect('volume host', POOL1, volume(volume_id)['os-vol-host-attr:host'])
    attachment = Attachment(volume_id)
    expect('host serving the volume', H1, attachment.host)
    for offset, blob in ((0, data), (4096, later), (8192, latest)):
        expect('data at %d' % offset, blob, attachment.read(offset,
                                                            len(blob)))
    attachment.delete()
    openstack(['volume', 'delete', volume_id])
    wait_gone(volume_id)
    expect_nothing_left(name)


# -- the rest of the lifecycle ------------------------------------------------

def snapshot(snapshot_id):
    return api('GET', '/snapshots/%s' % snapshot_id)['snapshot']


def wait_snapshot(snapshot_id, status='available'):
    def check():
        found = snapshot(snapshot_id)['status']
        if found == 'error':
            raise Mismatch('snapshot %s: error' % snapshot_id)
        return found == status or found
    wait('snapshot %s %s' % (snapshot_id, status), check, 120)


def snapshot_lvs(host):
    return sorted(n for n in sim_cluster().host(host).lvs()
                  if n.startswith('_snapshot-'))


def expect_replicated(volume_id, size_gib):
    """Primary on hci-0001, UpToDate Secondary on hci-0002, exact size."""
    name = resource_of(volume_id)
    wait('%s in sync on both hosts' % name, lambda: (
        holdings(H1, name)['drbd'], holdings(H2, name)['drbd']) == (
        ('Primary', 'UpToDate'), ('Secondary', 'UpToDate')) or (
        holdings(H1, name)['drbd'], holdings(H2, name)['drbd']), 120)
    for host in (H1, H2):
        found = sim_cluster().host(host).drbd()[name]
        expect('%s DRBD size of %s' % (host, name), size_gib * 1024 ** 3,
               found['size_bytes'])
    # Cinder learns the end of a resync at its next replication status
    # poll (get_replication_error_status).
    wait('replication_status of %s enabled' % volume_id, lambda: volume(
        volume_id)['replication_status'] == 'enabled' or volume(
        volume_id)['replication_status'], 180)
    say('  ok: replication_status of %s = enabled' % volume_id)


def read_through_cinder(volume_id, length):
    attachment = Attachment(volume_id)
    try:
        return attachment.read(0, length)
    finally:
        attachment.delete()


def ensure_policy():
    """hci-0002 the standby of hci-0001, as the runbook's first step."""
    if service(B2)['replication_status'] == 'failed-over':
        return
    step('failover policy: %s is the standby of %s' % (B2, B1))
    cinder(['failover-host', B2, '--backend_id', B1])
    wait_service(B2, replication_status='failed-over', active_backend_id=B1,
                 disabled=True, disabled_reason='failed-over')


def lifecycle():
    ensure_policy()
    ensure_type('RBS', {'volume_backend_name': cloud.POOL,
                        'replication_enabled': '<is> True'})
    ensure_type('PLAIN', {'volume_backend_name': cloud.POOL})
    step('a replicated volume with data')
    origin = create_volume('origin', size=1)['id']
    expect_replicated(origin, 1)
    data = b'the origin volume, before its snapshot\n'
    attachment = Attachment(origin)
    attachment.write(0, data)
    attachment.delete()

    step('snapshot create / list')
    _code, out, _err = openstack(['volume', 'snapshot', 'create', '--volume',
                                  origin, 'snap'])
    snap = _field(out, 'id')
    wait_snapshot(snap)
    openstack(['volume', 'snapshot', 'list'])
    for host in (H1, H2):
        expect('%s holds snapshot LV _snapshot-%s' % (host, snap), True,
               '_snapshot-%s' % snap in snapshot_lvs(host))

    step('volume from snapshot (larger) and clone')
    from_snap = create_volume('from-snap', size=2,
                              extra=['--snapshot', snap])['id']
    expect_replicated(from_snap, 2)
    expect('data of the volume from the snapshot', data,
           read_through_cinder(from_snap, len(data)))
    clone = create_volume('clone', size=1, extra=['--source', origin])['id']
    expect_replicated(clone, 1)
    expect('data of the clone', data, read_through_cinder(clone, len(data)))

    step('extend')
    openstack(['volume', 'set', '--size', '3', origin])
    wait('extended', lambda: volume(origin)['size'] == 3 or
         volume(origin)['size'], 120)
    wait_volume(origin, 'available')
    expect_replicated(origin, 3)

    step('retype: replicated -> not replicated -> replicated')
    openstack(['volume', 'set', '--type', 'PLAIN', '--retype-policy',
               'never', clone])
    wait('retyped to PLAIN', lambda: volume(clone)['volume_type'] ==
         'PLAIN' or volume(clone)['volume_type'], 120)
    wait_volume(clone, 'available')
    name = resource_of(clone)
    expect('replication_status', 'disabled',
           volume(clone)['replication_status'])
    expect('%s holds of %s' % (H2, name),
           {'lv': False, 'drbd': None, 'file': False, 'targets': []},
           holdings(H2, name))
    expect('data after retype off', data,
           read_through_cinder(clone, len(data)))
    openstack(['volume', 'set', '--type', 'RBS', '--retype-policy',
               'never', clone])
    wait('retyped to RBS', lambda: volume(clone)['volume_type'] ==
         'RBS' or volume(clone)['volume_type'], 120)
    wait_volume(clone, 'available')
    expect_replicated(clone, 1)
    expect('data after retype on', data,
           read_through_cinder(clone, len(data)))

    step('a volume of a type without replication')
    plain = create_volume('plain', size=1, vtype='PLAIN')['id']
    name = resource_of(plain)
    # Cinder leaves replication_status unset (None) for a volume whose
    # type does not ask for replication, as it does on any backend.
    expect('replication_status is not enabled', True,
           volume(plain)['replication_status'] in (None, 'disabled'))
    expect('%s holds the plain volume' % H1, True, holdings(H1, name)['lv'])
    expect('%s holds of the plain volume' % H2,
           {'lv': False, 'drbd': None, 'file': False, 'targets': []},
           holdings(H2, name))

    step('delete everything')
    openstack(['volume', 'snapshot', 'delete', snap])
    lv = '_snapshot-%s' % snap
    wait('snapshot deleted everywhere', lambda: lv not in (
        snapshot_lvs(H1) + snapshot_lvs(H2)) or 'still there', 120)
    for volume_id in (from_snap, clone, plain, origin):
        name = resource_of(volume_id)
        openstack(['volume', 'delete', volume_id])
        wait_gone(volume_id)
        expect_nothing_left(name)


def bad_input():
    ensure_policy()
    ensure_type('RBS', {'volume_backend_name': cloud.POOL,
                        'replication_enabled': '<is> True'})
    step('bad input: failover-host to an unknown backend id')
    before = service(B2)
    cinder(['failover-host', B2, '--backend_id', 'nosuch@RBS'])
    wait('the failover to end', lambda: service(B2)['replication_status']
         not in ('failing-over',) or service(B2), 60)
    time.sleep(3)
    after = service(B2)
    for key in ('replication_status', 'active_backend_id', 'disabled_reason'):
        expect('%s of %s after the refused failover' % (key, B2),
               before[key], after[key])

    step('bad input: delete while frozen')
    victim = create_volume('frozen-victim', size=1)['id']
    name = resource_of(victim)
    cinder(['freeze-host', B1])
    wait_service(B1, frozen=True)
    code, _out, err = openstack(['volume', 'delete', victim], check=False)
    expect('exit status of the refused delete', 1, code)
    expect('volume status', 'available', volume(victim)['status'])
    for host in (H1, H2):
        expect('%s still holds %s' % (host, name), True,
               holdings(host, name)['lv'] and
               holdings(host, name)['drbd'] is not None)
    cinder(['thaw-host', B1])
    wait_service(B1, frozen=False)
    openstack(['volume', 'delete', victim])
    wait_gone(victim)
    expect_nothing_left(name)

    step('bad input: a replicated volume while the peer host is down')
    stop_host(H2)
    _code, out, _err = openstack(['volume', 'create', '--type', 'RBS',
                                  '--size', '1', 'lonely'])
    lonely = _field(out, 'id')
    wait('the create to fail', lambda: volume(lonely)['status'] == 'error'
         or volume(lonely)['status'], 180)
    openstack(['volume', 'show', lonely])
    reason = _log_lines(H1, lonely)
    say('  hci-0001.log: %s' % (reason[-1] if reason else '(nothing)'))
    if not any(H2 in line or B2 in line for line in reason):
        raise Mismatch('the log of %s does not name the peer %s for %s'
                       % (H1, B2, lonely))
    expect_nothing_left('volume-%s' % lonely)
    start_host(H2)
    openstack(['volume', 'delete', lonely])
    wait_gone(lonely)


def _log_lines(host, volume_id):
    with open(cloud.path('logs', host + '.log')) as handle:
        return [line.rstrip() for line in handle
                if volume_id in line and (' ERROR ' in line or
                                          ' WARNING ' in line)]


def concurrent(count=20):
    ensure_policy()
    ensure_type('RBS', {'volume_backend_name': cloud.POOL,
                        'replication_enabled': '<is> True'})
    step('%d replicated volumes created at once' % count)
    procs = []
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    say('$ for i in $(seq %d); do openstack volume create --type RBS '
        '--size 1 many-$i & done' % count)
    for index in range(count):
        procs.append(subprocess.Popen(
            OS + ['volume', 'create', '--type', 'RBS', '--size', '1',
                  '-f', 'value', '-c', 'id', 'many-%d' % index],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            universal_newlines=True))
    ids = []
    for proc in procs:
        out, _err = proc.communicate()
        if proc.returncode != 0:
            raise Mismatch('a concurrent volume create exited %d'
                           % proc.returncode)
        ids.append(out.strip())
    for volume_id in ids:
        wait_volume(volume_id, 'available', timeout=300)
    openstack(['volume', 'list'])
    names = [resource_of(v) for v in ids]
    from cinder.volume.drivers.ovt import drbd as ev3_drbd
    for host in (H1, H2):
        sim_host = sim_cluster().host(host)
        kernel = sim_host.drbd()
        files = sim_host.resource_files.read_all()
        minors = sorted(kernel[n]['minor'] for n in names)
        ports = sorted({node['port'] for n in names
                        for node in ev3_drbd.parse_header(files[n])['nodes']
                        if node['node_name'] == host})
        expect('%s: distinct DRBD minors of the %d volumes' % (host, count),
               count, len(set(minors)))
        expect('%s: distinct DRBD ports of the %d volumes' % (host, count),
               count, len(ports))
        say('  %s minors %s..%s, ports %s..%s' % (host, minors[0],
                                                  minors[-1], ports[0],
                                                  ports[-1]))
    for volume_id in ids:
        expect_replicated(volume_id, 1)
    procs = [subprocess.Popen(OS + ['volume', 'delete', v],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)
             for v in ids]
    for proc in procs:
        proc.wait()
    for volume_id, name in zip(ids, names):
        wait_gone(volume_id, timeout=300)
        expect_nothing_left(name)


def migrate():
    """A plain volume moved between the two hosts, both ways."""
    if service(B2)['disabled'] or service(B1)['disabled']:
        raise Mismatch('migrate needs both backends enabled: run it on a '
                       'fresh cloud, before any failover-host')
    ensure_type('PLAIN', {'volume_backend_name': cloud.POOL})
    step('migrate a volume without replication between the hosts')
    moved = create_volume('moving', size=1, vtype='PLAIN')['id']
    data = b'a plain volume that changes hosts\n'
    attachment = Attachment(moved)
    attachment.write(0, data)
    attachment.delete()
    name = resource_of(moved)
    for _round in range(2):
        source = volume(moved)['os-vol-host-attr:host'].split('@')[0]
        dest = H2 if source == H1 else H1
        openstack(['volume', 'migrate', '--host', '%s@%s#%s' % (
            dest, cloud.BACKEND, cloud.POOL), moved])
        wait('migration of %s' % moved, lambda: volume(moved)[
            'os-vol-mig-status-attr:migstat'] in ('success', 'error') or
            volume(moved)['os-vol-mig-status-attr:migstat'], 300)
        openstack(['volume', 'show', moved])
        expect('migration status', 'success',
               volume(moved)['os-vol-mig-status-attr:migstat'])
        expect('host', '%s@%s#%s' % (dest, cloud.BACKEND, cloud.POOL),
               volume(moved)['os-vol-host-attr:host'])
        name = resource_of(moved)
        expect('%s holds of %s' % (source, name),
               {'lv': False, 'drbd': None, 'file': False, 'targets': []},
               holdings(source, name))
        expect('%s holds %s as a plain LV' % (dest, name),
               {'lv': True, 'drbd': None, 'file': False, 'targets': []},
               holdings(dest, name))
        expect('data after the move', data,
               read_through_cinder(moved, len(data)))
    openstack(['volume', 'delete', moved])
    wait_gone(moved)
    expect_nothing_left(name)


PARTS = {'migrate': migrate, 'runbook': runbook, 'lifecycle': lifecycle,
         'bad-input': bad_input, 'concurrent': concurrent}
# migrate first: it needs both backends enabled, which the failover policy
# of the others ends.
ORDER = ('migrate', 'runbook', 'lifecycle', 'bad-input', 'concurrent')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('parts', nargs='*', default='all',
                        choices=ORDER + ('all',),
                        help='parts to run in order (default: all); each '
                             'sets the failover policy (hci-0002 standby) '
                             'when the cloud has none yet')
    args = parser.parse_args(argv)
    parts = ORDER if not args.parts or 'all' in args.parts else args.parts
    began = time.monotonic()
    timings = []
    try:
        for part in parts:
            start = time.monotonic()
            PARTS[part]()
            timings.append((part, time.monotonic() - start))
    except Mismatch as exc:
        say('\nE2E FAILED: %s' % exc)
        return 1
    say('\n' + ', '.join('%s %.0f s' % t for t in timings))
    say('E2E passed in %.0f s' % (time.monotonic() - began))
    return 0


if __name__ == '__main__':
    sys.exit(main())
