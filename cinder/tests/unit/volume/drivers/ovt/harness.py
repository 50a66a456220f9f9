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
"""Replicated backends on simulated storage hosts, for tests and the demo.

``Lab`` starts one :class:`ReplicatedVolumeDriver` per simulated host, each
with its real peer API on 127.0.0.1, configured the way an operator would
configure cinder.conf (backend_id, backend_ip/port, replication_device,
shared secret).  Only the storage tools are simulated.

A crashed host's peer API either refuses connections (``Node.crash()``:
its server is stopped, the port on 127.0.0.1 is closed) or stays silent
(``Node.crash(silent=True)``: :class:`SilentPort` holds the port, and the
kernel drops every connection attempt, as for a host that died hard).
"""

import os
import socket
import tempfile
import uuid

from oslo_config import cfg

from cinder import context
from cinder import objects
from cinder.tests.unit import fake_volume
from cinder.tests.unit.volume.drivers.ovt import sim
from cinder.volume import configuration
from cinder.volume import driver as volume_driver
from cinder.volume.drivers import lvm
from cinder.volume.drivers.ovt import ev3
from cinder.volume.drivers.ovt import options

CONF = cfg.CONF
SECRET = 'ev3-test-secret-0123456789abcdef'
GiB = 1024 ** 3


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    sock = socket.socket()
    try:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


class SilentPort(object):
    """A port on 127.0.0.1 where connection attempts go unanswered.

    What a peer sees of a host that died hard (its VM killed): no SYN-ACK,
    no reset, so its connect times out.  A listening socket with a backlog
    of 0 whose accept queue is filled by connections never accepted makes
    the Linux kernel drop further SYNs on that port.  Filling stops at the
    first connection attempt that times out, which proves the port silent;
    a kernel that keeps accepting raises ``RuntimeError``.
    """

    MAX_QUEUED = 8
    PROBE_TIMEOUT_S = 0.5

    def __init__(self, port):
        self.port = port
        self._queued = []
        self._listener = socket.socket()
        try:
            self._listener.setsockopt(socket.SOL_SOCKET,
                                      socket.SO_REUSEADDR, 1)
            self._listener.bind(('127.0.0.1', port))
            self._listener.listen(0)
            self._fill()
        except Exception:
            self.close()
            raise

    def _fill(self):
        for _ in range(self.MAX_QUEUED):
            client = socket.socket()
            client.settimeout(self.PROBE_TIMEOUT_S)
            try:
                client.connect(('127.0.0.1', self.port))
            except socket.timeout:
                client.close()
                return
            except Exception:
                client.close()
                raise
            self._queued.append(client)
        raise RuntimeError('127.0.0.1:%d still answers connections with %d '
                           'queued: this kernel does not drop SYNs on a full '
                           'accept queue' % (self.port, len(self._queued)))

    def close(self):
        """Free the port: close the listener, then the queued clients."""
        self._listener.close()
        for client in self._queued:
            client.close()
        del self._queued[:]


class Node(object):
    """One simulated storage host with its cinder-volume driver."""

    def __init__(self, lab, index):
        self.lab = lab
        self.name = 'hci-%04d' % (index + 1)
        self.backend_id = '%s@RBS' % self.name
        self.group = 'ev3_%s_%s' % (lab.tag, self.name.replace('-', '_'))
        self.port = free_port()
        self.driver = None
        self.silent_port = None

    @property
    def sim(self):
        """This host's simulated tools."""
        return self.lab.cluster.host(self.name)

    def configure(self, peers, secret, extra):
        values = {
            'volume_backend_name': 'ev3',
            'volume_group': 'volumes',
            'lvm_type': self.lab.lvm_type,
            'target_helper': 'lioadm',
            'target_protocol': 'iscsi',
            'target_ip_address': '127.0.0.1',
            'target_secondary_ip_addresses': ['127.0.0.2'],
            'backend_id': self.backend_id,
            'backend_ip': '127.0.0.1',
            'backend_port': self.port,
            'replication_internal_secret': secret,
            'replication_mode': 'full-sync',
            'ev3_connect_timeout': 5,
            'ev3_api_timeout': 10,
            'replication_device': [
                {'backend_id': p.backend_id, 'ip': '127.0.0.1',
                 'port': str(p.port), 'volume_group': 'volumes'}
                for p in peers],
        }
        values.update(extra)
        conf = configuration.Configuration(volume_driver.volume_opts,
                                           config_group=self.group)
        conf.append_config_values(lvm.volume_opts)
        conf.append_config_values(volume_driver.iser_opts)
        conf.append_config_values(options.ev3_opts)
        for key, value in values.items():
            CONF.set_override(key, value, group=self.group)
            self.lab.overrides.append((key, self.group))
        return conf

    def start(self, peers, secret=SECRET, active_backend_id=None, **extra):
        """Build and set up the driver as cinder-volume would."""
        self.unsilence()
        conf = self.configure(peers, secret, extra)
        self.driver = ev3.ReplicatedVolumeDriver(
            configuration=conf, host=self.backend_id,
            active_backend_id=active_backend_id,
            execute=self.sim.execute, root_helper=self.sim.root_helper,
            resource_files=self.sim.resource_files, node_name=self.name,
            state_path=os.path.join(self.lab.state_dir,
                                    '%s-state.json' % self.name))
        self.driver.do_setup(self.lab.ctx)
        self.driver.check_for_setup_error()
        return self.driver

    def stop(self):
        """Stop the driver's peer API (the cinder-volume process ends)."""
        if self.driver is not None:
            self.driver.stop_peer_api()

    def crash(self, silent=False):
        """The whole host dies: its service and its kernel state.

        Its peer API port refuses connections at once, unless ``silent``:
        then connection attempts time out, as they do when a real host is
        killed (each peer request then costs its client about 14 s of
        connect timeouts and retries).
        """
        self.stop()
        self.lab.cluster.crash(self.name)
        if silent and self.silent_port is None:
            self.silent_port = SilentPort(self.port)

    def unsilence(self):
        """Free the port a silent crash holds; quiet if none."""
        if self.silent_port is not None:
            self.silent_port.close()
            self.silent_port = None

    def restart(self, active_backend_id=None, **extra):
        """Boot the host again and start its cinder-volume."""
        self.lab.cluster.boot(self.name)
        peers = [p for p in self.lab.nodes if p is not self]
        return self.start(peers, active_backend_id=active_backend_id,
                          **extra)

    def roles(self):
        """{resource: role} as this host's DRBD reports it."""
        return {name: res['role']
                for name, res in self.holdings()['drbd'].items()}

    # -- what the host holds

    def holdings(self):
        """Plain data: the LVs, DRBD resources, files and targets here."""
        return {'lvs': self.sim.lvs(), 'drbd': self.sim.drbd(),
                'files': sorted(self.sim.resource_file_names()),
                'targets': self.sim.targets()}


class Lab(object):
    """N simulated hosts, each the replication peer of all others."""

    def __init__(self, hosts=2, drbd_version='8.4.11', lvm_type='default',
                 vg_size_gib=100, state_dir=None):
        self.tag = uuid.uuid4().hex[:8]
        self.state_dir = state_dir or tempfile.mkdtemp(prefix='ev3-lab-')
        self.lvm_type = lvm_type
        self.clock = sim.ManualClock()
        self.cluster = sim.SimCluster(os.path.join(self.state_dir, 'sim'),
                                      clock=self.clock)
        self.nodes = []
        for i in range(hosts):
            node = Node(self, i)
            # The OS may hand the same free port out twice in a row.
            while node.port in {n.port for n in self.nodes}:
                node.port = free_port()
            self.nodes.append(node)
        for node in self.nodes:
            self.cluster.add_host(node.name, vg='volumes',
                                  vg_size_gib=vg_size_gib,
                                  drbd_version=drbd_version)
        self.ctx = context.get_admin_context()
        self.overrides = []
        self.replicated_type = objects.VolumeType(
            id=str(uuid.uuid4()), name='RBS',
            extra_specs={'volume_backend_name': 'ev3',
                         'replication_enabled': '<is> True'})
        self.plain_type = objects.VolumeType(
            id=str(uuid.uuid4()), name='plain',
            extra_specs={'volume_backend_name': 'ev3'})

    def node(self, index):
        """The index-th host (0 is the primary in the examples)."""
        return self.nodes[index]

    def start(self, secrets=None, **extra):
        """Start every host's driver; ``secrets`` may give one per host."""
        for i, node in enumerate(self.nodes):
            peers = [p for p in self.nodes if p is not node]
            secret = secrets[i] if secrets else SECRET
            node.start(peers, secret=secret, **extra)
        return self

    def stop(self):
        """Stop every peer API, free silent ports, drop the overrides."""
        try:
            for node in self.nodes:
                node.stop()
        finally:
            for node in self.nodes:
                node.unsilence()
            for key, group in self.overrides:
                CONF.clear_override(key, group=group)
            del self.overrides[:]

    def volume(self, size=1, replicated=True, **updates):
        """A Cinder volume object as the manager hands it to the driver."""
        vtype = self.replicated_type if replicated else self.plain_type
        vol = fake_volume.fake_volume_obj(
            self.ctx, id=str(uuid.uuid4()), size=size,
            volume_type_id=vtype.id,
            host=self.nodes[0].backend_id + '#ev3', **updates)
        vol.volume_type = vtype
        return vol

    def db_volume(self, size=1):
        """A replicated volume saved in Cinder's database.

        For what Cinder reads back by id (replication status updates).
        """
        vol = objects.Volume(
            context=self.ctx, size=size,
            host=self.nodes[0].backend_id + '#ev3',
            volume_type_id=self.replicated_type.id, status='creating',
            replication_status='enabled', project_id='p', user_id='u')
        vol.create()
        vol.volume_type = self.replicated_type
        return vol

    def holdings(self):
        """{host: holdings} for every host."""
        return {node.name: node.holdings() for node in self.nodes}
