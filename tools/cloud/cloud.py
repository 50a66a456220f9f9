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
"""A real Cinder on one machine, running ev3 on two simulated storage hosts.

``python tools/cloud/cloud.py start|stop|status|env`` (``tools/cloud.sh``
wraps it).  ``start`` runs, all on 127.0.0.0/8 with ports and data
directories of its own under the run folder (``$EV3_CLOUD_DIR``, default
``<repo>/.cloud``):

- MariaDB and RabbitMQ (with its own epmd), started by hand;
- ``cinder-manage db sync``, cinder-api (noauth), cinder-scheduler;
- two cinder-volume services, ``hci-0001@RBS`` and ``hci-0002@RBS``, each
  loading ``cinder.volume.drivers.ovt.ev3.ReplicatedVolumeDriver`` with the
  user's README configuration (backend_id, backend_ip on 127.0.0.21 and
  127.0.0.22, replication_device naming the other, the shared secret).

Each storage host is simulated (see ``cinder/tests/unit/volume/drivers/ovt
/sim``): its cinder-volume runs in a mount and UTS namespace of its own
(``unshare``) where the host name is the storage host's and ``/etc/drbd.d``
is that host's folder, with the simulated LVM/DRBD/LIO tools first on
``PATH``.  Privileged commands take the production path: Cinder's
``cinder-rootwrap`` with Cinder's volume.filters and ev3.filters, privsep
for the resource files.

Every process started is recorded in ``<run>/pids``; ``stop`` ends them by
PID (their process groups) and leaves the logs in ``<run>/logs``.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUN = os.path.abspath(os.environ.get('EV3_CLOUD_DIR',
                                     os.path.join(REPO, '.cloud')))
VENV_BIN = os.path.dirname(os.path.abspath(sys.executable))
PROJECT = '8d3c5a1e6f2b4c7d9e0a1b2c3d4e5f60'
SECRET = '4abcfe3b-367f-477d-89bd-283c4382e5f6'
HOSTS = (('hci-0001', '127.0.0.21'), ('hci-0002', '127.0.0.22'))
BACKEND = 'RBS'
POOL = 'ev3'
PEER_PORT = 7000
MYSQL_PORT = int(os.environ.get('EV3_CLOUD_MYSQL_PORT', '13306'))
AMQP_PORT = int(os.environ.get('EV3_CLOUD_AMQP_PORT', '15673'))
EPMD_PORT = AMQP_PORT + 1
DIST_PORT = AMQP_PORT + 2
API_PORT = int(os.environ.get('EV3_CLOUD_API_PORT', '18776'))
API_URL = 'http://127.0.0.1:%d/v3/%s' % (API_PORT, PROJECT)
VG_GIB = 100
SERVICE_DOWN_S = 15


def log(message, *args):
    print('cloud: ' + (message % args if args else message), flush=True)


class CloudError(Exception):
    """The local cloud could not do what was asked; the message says why."""


def path(*parts):
    return os.path.join(RUN, *parts)


# -- processes ----------------------------------------------------------------

def _pid_file(name):
    return path('pids', name + '.pid')


def spawn(name, argv, env=None, cwd=None):
    """Start ``argv`` in a session of its own; record its PID."""
    os.makedirs(path('pids'), exist_ok=True)
    os.makedirs(path('logs'), exist_ok=True)
    out = open(path('logs', name + '.out'), 'ab')
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, env=full_env,
                            cwd=cwd or RUN, start_new_session=True)
    out.close()
    with open(_pid_file(name), 'w') as handle:
        handle.write('%d\n' % proc.pid)
    log('started %s (pid %d)', name, proc.pid)
    return proc.pid


def recorded_pid(name):
    try:
        with open(_pid_file(name)) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def running(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().split(') ')[-1][:1] != 'Z'
    except OSError:
        return False


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_process(name, sig=signal.SIGTERM, wait=30.0):
    """Stop the process group started as ``name``; True if it was running.

    The group is the one ``spawn`` created for that PID (its session), so
    nothing else on the machine is signalled.
    """
    pid = recorded_pid(name)
    if pid is None:
        return False
    was = running(pid) or _group_alive(pid)
    if was:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while _group_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.2)
        if _group_alive(pid):
            log('%s (pid %d) did not stop in %.0f s: SIGKILL', name, pid,
                wait)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.5)
        _reap(pid)
        log('stopped %s (pid %d)', name, pid)
    os.unlink(_pid_file(name))
    return was


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_for(what, check, timeout, name=None):
    """Poll ``check()`` until true; CloudError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if name is not None and not running(recorded_pid(name)):
            raise CloudError('%s exited while waiting for %s; see %s'
                             % (name, what, path('logs', name + '.out')))
        try:
            if check():
                return
        except Exception:  # noqa: B902 - any failure means "not yet"
            pass
        time.sleep(0.3)
    raise CloudError('timed out after %d s waiting for %s' % (timeout, what))


def port_open(port, host='127.0.0.1'):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# -- MariaDB, RabbitMQ --------------------------------------------------------

def _mysql_bin(*names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise CloudError('none of %s is installed (apt-get install '
                     'mariadb-server)' % ', '.join(names))


def start_mariadb():
    data = path('mysql', 'data')
    sock = path('mysql', 'mysqld.sock')
    if not os.path.isdir(os.path.join(data, 'mysql')):
        os.makedirs(data, exist_ok=True)
        subprocess.run([_mysql_bin('mariadb-install-db', 'mysql_install_db'),
                        '--no-defaults', '--datadir=' + data, '--user=root',
                        '--auth-root-authentication-method=normal',
                        '--skip-test-db'], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spawn('mariadb', [_mysql_bin('mariadbd', 'mysqld'), '--no-defaults',
                      '--datadir=' + data, '--user=root',
                      '--bind-address=127.0.0.1', '--port=%d' % MYSQL_PORT,
                      '--socket=' + sock, '--skip-name-resolve',
                      '--log-error=' + path('logs', 'mariadb.log'),
                      '--max-connections=500'])
    wait_for('MariaDB on 127.0.0.1:%d' % MYSQL_PORT,
             lambda: port_open(MYSQL_PORT) and os.path.exists(sock), 60,
             name='mariadb')
    sql = ("CREATE DATABASE IF NOT EXISTS cinder; "
           "CREATE USER IF NOT EXISTS 'cinder'@'127.0.0.1' IDENTIFIED BY "
           "'cinder'; GRANT ALL ON cinder.* TO 'cinder'@'127.0.0.1';")
    subprocess.run([_mysql_bin('mariadb', 'mysql'), '--no-defaults',
                    '-S', sock, '-uroot', '-e', sql], check=True)


def start_rabbitmq():
    base = path('rabbitmq')
    for sub in ('mnesia', 'log', 'home'):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    epmd = shutil.which('epmd') or '/usr/lib/erlang/bin/epmd'
    if not os.path.exists(epmd):
        raise CloudError('epmd not found (apt-get install rabbitmq-server)')
    spawn('epmd', [epmd, '-address', '127.0.0.1', '-port', str(EPMD_PORT)])
    wait_for('epmd on 127.0.0.1:%d' % EPMD_PORT,
             lambda: port_open(EPMD_PORT), 20, name='epmd')
    server = '/usr/lib/rabbitmq/bin/rabbitmq-server'
    if not os.path.exists(server):
        raise CloudError('%s not found (apt-get install rabbitmq-server)'
                         % server)
    with open(os.path.join(base, 'enabled_plugins'), 'w') as handle:
        handle.write('[].\n')
    spawn('rabbitmq', [server], env={
        'HOME': os.path.join(base, 'home'),
        'RABBITMQ_NODENAME': 'ev3cloud@localhost',
        'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
        'RABBITMQ_NODE_PORT': str(AMQP_PORT),
        'RABBITMQ_DIST_PORT': str(DIST_PORT),
        'ERL_EPMD_ADDRESS': '127.0.0.1',
        'ERL_EPMD_PORT': str(EPMD_PORT),
        'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
        'RABBITMQ_LOG_BASE': os.path.join(base, 'log'),
        'RABBITMQ_ENABLED_PLUGINS_FILE':
            os.path.join(base, 'enabled_plugins'),
        'RABBITMQ_CONFIG_FILE': os.path.join(base, 'rabbitmq'),
        'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
            '-kernel inet_dist_use_interface {127,0,0,1}'})
    wait_for('RabbitMQ on 127.0.0.1:%d' % AMQP_PORT,
             lambda: port_open(AMQP_PORT), 90, name='rabbitmq')


# -- configuration ------------------------------------------------------------

def _ini(sections):
    lines = []
    for section, options in sections:
        lines.append('[%s]' % section)
        for key, value in options:
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


def common_options(name):
    return [
        ('auth_strategy', 'noauth'),
        ('transport_url', 'rabbit://guest:guest@127.0.0.1:%d/' % AMQP_PORT),
        ('log_file', path('logs', name + '.log')),
        ('debug', 'True'),
        ('state_path', path('state', name)),
        ('api_paste_config', path('etc', 'api-paste.ini')),
        ('osapi_volume_listen', '127.0.0.1'),
        ('osapi_volume_listen_port', str(API_PORT)),
        ('osapi_volume_workers', '1'),
        ('storage_availability_zone', 'AZ01'),
        ('default_availability_zone', 'AZ01'),
        ('report_interval', '3'),
        ('service_down_time', str(SERVICE_DOWN_S)),
        ('periodic_interval', '5'),
        ('backend_stats_polling_interval', '5'),
        ('scheduler_driver_init_wait_time', '3'),
        ('host', name if name != 'cinder' else HOSTS[0][0]),
        ('use_default_quota_class', 'false'),
        ('quota_volumes', '-1'),
        ('quota_snapshots', '-1'),
        ('quota_gigabytes', '-1'),
        ('quota_backups', '-1'),
        ('az_cache_duration', '0'),
        ('enable_v3_api', 'true'),
        ('glance_api_servers', 'http://127.0.0.1:9'),
    ]


def shared_sections(name, extra=()):
    return [
        ('DEFAULT', common_options(name) + list(extra)),
        ('database', [('connection', 'mysql+pymysql://cinder:cinder@'
                       '127.0.0.1:%d/cinder' % MYSQL_PORT)]),
        ('oslo_concurrency', [('lock_path', path('state', name, 'lock'))]),
        ('coordination', [('backend_url',
                           'file://' + path('state', name, 'coord'))]),
        ('oslo_messaging_rabbit', [('heartbeat_timeout_threshold', '0')]),
    ]


def backend_options(host, ip, peer, peer_ip):
    return [
        ('target_helper', 'lioadm'),
        ('target_protocol', 'iscsi'),
        ('target_ip_address', ip),
        ('volume_backend_name', POOL),
        ('volume_driver',
         'cinder.volume.drivers.ovt.ev3.ReplicatedVolumeDriver'),
        ('volume_group', 'volumes'),
        ('lvm_type', 'thin'),
        ('backend_id', '%s@%s' % (host, BACKEND)),
        ('backend_ip', ip),
        ('backend_port', str(PEER_PORT)),
        ('replication_internal_secret', SECRET),
        ('replication_mode', 'full-sync'),
        ('replication_device', 'backend_id:%s@%s,ip:%s,port:%d,'
                               'volume_group:volumes'
         % (peer, BACKEND, peer_ip, PEER_PORT)),
    ]


def write(file_path, text, mode=0o644):
    os.makedirs(os.path.dirname(file_path), exist_ok=True)
    with open(file_path, 'w') as handle:
        handle.write(text)
    os.chmod(file_path, mode)


def api_paste():
    """Cinder's api-paste.ini with the token filter before noauth."""
    source = os.path.join(os.path.dirname(VENV_BIN), 'etc', 'cinder',
                          'api-paste.ini')
    with open(source) as handle:
        text = handle.read()
    old = 'osprofiler noauth apiv3'
    if old not in text:
        raise CloudError('unexpected %s: no "%s" pipeline' % (source, old))
    text = text.replace(old, 'osprofiler ev3token noauth apiv3')
    text += ('\n[filter:ev3token]\npaste.filter_factory = '
             'ev3cloud_token:filter_factory\nproject = %s\n' % PROJECT)
    return text


SUDO_SHIM = '''#!/bin/sh
# Local cloud only: the services run as root, so sudo just hands over.
while [ "$#" -gt 0 ]; do
    case "$1" in
        -n|-E|-H) shift ;;
        --) shift; break ;;
        -*) echo "sudo (ev3 cloud shim): unsupported option $1" >&2; exit 1 ;;
        *) break ;;
    esac
done
exec "$@"
'''


def prepare_host(sim, host):
    """Simulated storage host ``host``: VG, shims, rootwrap config."""
    shims = path('hosts', host, 'bin')
    sim.install_shims(shims, path('sim'), host)
    write(os.path.join(shims, 'sudo'), SUDO_SHIM, 0o755)
    filters = path('hosts', host, 'rootwrap.d')
    os.makedirs(filters, exist_ok=True)
    shutil.copy(os.path.join(os.path.dirname(VENV_BIN), 'etc', 'cinder',
                             'rootwrap.d', 'volume.filters'), filters)
    shutil.copy(os.path.join(REPO, 'etc', 'cinder', 'rootwrap.d',
                             'ev3.filters'), filters)
    write(path('hosts', host, 'rootwrap.conf'), _ini([('DEFAULT', [
        ('filters_path', filters),
        ('exec_dirs', ','.join([shims, VENV_BIN, '/sbin', '/usr/sbin',
                                '/bin', '/usr/bin'])),
        ('use_syslog', 'False')])]))


def write_configs():
    write(path('etc', 'api-paste.ini'), api_paste())
    write(path('etc', 'cinder.conf'), _ini(shared_sections('cinder')))
    for (host, ip), (peer, peer_ip) in zip(HOSTS, reversed(HOSTS)):
        sections = shared_sections(host, extra=[
            ('enabled_backends', BACKEND),
            ('rootwrap_config', path('hosts', host, 'rootwrap.conf'))])
        sections.append((BACKEND, backend_options(host, ip, peer, peer_ip)))
        write(path('etc', 'cinder-%s.conf' % host), _ini(sections))
    for name in ['cinder'] + [h for h, _ip in HOSTS]:
        os.makedirs(path('state', name, 'lock'), exist_ok=True)


# -- Cinder services ----------------------------------------------------------

def cinder_env():
    return {'PYTHONPATH': HERE, 'PATH': VENV_BIN + ':' +
            os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}


def host_env(host):
    shims = path('hosts', host, 'bin')
    return {'PYTHONPATH': HERE,
            'PATH': ':'.join([shims, VENV_BIN, '/usr/local/sbin',
                              '/usr/local/bin', '/usr/sbin', '/usr/bin',
                              '/sbin', '/bin'])}


def start_volume_service(host):
    """cinder-volume of ``host`` in its own mount and UTS namespace."""
    drbd_dir = path('sim', host, 'etc', 'drbd.d')
    os.makedirs('/etc/drbd.d', exist_ok=True)
    script = ('mount --bind "$1" /etc/drbd.d && hostname "$2" && '
              'exec "$3" --config-file "$4"')
    spawn('cinder-volume-' + host,
          ['unshare', '--mount', '--uts', '--propagation', 'private',
           'sh', '-c', script, 'ev3-host', drbd_dir, host,
           os.path.join(VENV_BIN, 'cinder-volume'),
           path('etc', 'cinder-%s.conf' % host)],
          env=host_env(host))


def sim_api():
    """The simulator package of the installed ev3 (its test tree)."""
    from cinder.tests.unit.volume.drivers.ovt import sim
    return sim


def start():
    if recorded_pid('cinder-api') and running(recorded_pid('cinder-api')):
        raise CloudError('the cloud in %s is running; "stop" it first' % RUN)
    if os.geteuid() != 0:
        raise CloudError('run as root: the storage hosts need mount and UTS '
                         'namespaces')
    for sub in ('sim', 'state', 'hosts', 'etc', 'mysql', 'rabbitmq'):
        shutil.rmtree(path(sub), ignore_errors=True)
    shutil.rmtree(path('logs'), ignore_errors=True)
    began = time.monotonic()
    sim = sim_api()
    cluster = sim.SimCluster(path('sim'))
    for host, _ip in HOSTS:
        cluster.add_host(host, vg='volumes', vg_size_gib=VG_GIB,
                         drbd_version='8.4.11', lvm_thin=True)
        prepare_host(sim, host)
    write_configs()
    try:
        start_mariadb()
        start_rabbitmq()
        conf = path('etc', 'cinder.conf')
        subprocess.run([os.path.join(VENV_BIN, 'cinder-manage'),
                        '--config-file', conf, 'db', 'sync'], check=True,
                       env=dict(os.environ, **cinder_env()),
                       stdout=subprocess.DEVNULL)
        spawn('cinder-api', [os.path.join(VENV_BIN, 'cinder-api'),
                             '--config-file', conf], env=cinder_env())
        spawn('cinder-scheduler', [os.path.join(VENV_BIN,
                                                'cinder-scheduler'),
                                   '--config-file', conf], env=cinder_env())
        for host, _ip in HOSTS:
            start_volume_service(host)
        wait_for('cinder-api on 127.0.0.1:%d' % API_PORT,
                 lambda: port_open(API_PORT), 90, name='cinder-api')
        wait_for('all services up', lambda: all_up(
            ['cinder-scheduler'] + ['cinder-volume@' + h for h, _ip in HOSTS]),
            120)
    except BaseException:
        log('start failed; stopping what was started (logs stay in %s)',
            path('logs'))
        stop()
        raise
    log('up in %.0f s', time.monotonic() - began)
    print(usage())


def api_get(suffix):
    request = urllib.request.Request(
        API_URL + suffix, headers={'X-Auth-Token': 'admin:' + PROJECT,
                                   'OpenStack-API-Version': 'volume 3.0'})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode('utf-8'))


def services():
    return api_get('/os-services?withReplication=true')['services']


def all_up(names):
    """True when every ``binary[@host]`` in ``names`` is up and reported."""
    found = services()
    for name in names:
        binary, _sep, host = name.partition('@')
        matches = [s for s in found if s['binary'] == binary and
                   (not host or s['host'] == '%s@%s' % (host, BACKEND))]
        if not matches or any(s['state'] != 'up' for s in matches):
            return False
        # A volume service reports its replication capability once its
        # driver is set up and its first stats are in (init_host_with_rpc);
        # failover-host is refused before that.
        if binary == 'cinder-volume' and any(
                s.get('replication_status') in (None, 'not-capable')
                for s in matches):
            return False
    return True


def clirc():
    """Aliases for the CLIs against this cloud (noauth), as shell text."""
    values = {'bin': VENV_BIN, 'url': API_URL, 'project': PROJECT,
              'conf': path('etc', 'cinder.conf')}
    lines = [
        "alias cinder='%(bin)s/cinder --os-auth-type noauth --os-endpoint "
        "%(url)s --os-user-id admin --os-project-id %(project)s "
        "--os-volume-api-version 3.64'",
        "alias openstack='%(bin)s/openstack --os-auth-type admin_token "
        "--os-token admin:%(project)s --os-endpoint %(url)s "
        "--os-volume-api-version 3.64'",
        "alias cinder-manage='%(bin)s/cinder-manage --config-file "
        "%(conf)s'"]
    return ''.join(line % values + '\n' for line in lines)


def usage():
    write(path('clirc'), clirc())
    return '''
The local cloud is up (run folder %(run)s, logs in %(run)s/logs).
The CLIs of the venv, with noauth, are aliased in %(run)s/clirc:

  source %(run)s/clirc
  openstack volume service list --long
  cinder failover-host hci-0002@RBS --backend_id hci-0001@RBS
  openstack volume create --type RBS --size 10 replicated

Stop it:  bash tools/cloud.sh stop
''' % {'run': RUN}


ORDER = (['cinder-volume-' + h for h, _ip in HOSTS] +
         ['cinder-scheduler', 'cinder-api', 'rabbitmq', 'epmd', 'mariadb'])


def stop():
    for name in ORDER:
        stop_process(name)
    # A volume service may have been stopped and restarted under other
    # names by the end-to-end tests: stop whatever else is recorded.
    if os.path.isdir(path('pids')):
        for entry in sorted(os.listdir(path('pids'))):
            if entry.endswith('.pid'):
                stop_process(entry[:-4])
    log('stopped; logs are in %s', path('logs'))


def status():
    rows = []
    for name in ORDER:
        pid = recorded_pid(name)
        rows.append('%-26s %s' % (name, 'running (pid %d)' % pid
                                  if running(pid) else 'not running'))
    print('\n'.join(rows))
    try:
        for service in services():
            print('%-18s %-14s %-9s %s' % (service['binary'],
                                           service['host'],
                                           service['status'],
                                           service['state']))
    except (OSError, urllib.error.URLError) as exc:
        print('cinder-api does not answer: %s' % exc)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('command', choices=('start', 'stop', 'status',
                                            'usage'))
    args = parser.parse_args(argv)
    try:
        if args.command == 'start':
            start()
        elif args.command == 'stop':
            stop()
        elif args.command == 'status':
            status()
        else:
            print(usage())
    except CloudError as exc:
        log('ERROR: %s', exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
