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
"""Guest harness: the real ReplicatedVolumeDriver on a lab storage VM.

Runs as the ``cinder`` user with /etc/cinder/cinder.conf (written by the
lab controller the way the README configures a backend) and builds the
driver as cinder-volume does: Cinder's configuration for the backend
section, the root helper ``sudo cinder-rootwrap /etc/cinder/rootwrap.conf``
(also for privsep), Cinder's objects and an SQLite database made from
Cinder's models.  It answers one JSON request per connection on the Unix
socket /run/ev3/harness.sock; the guest agent forwards the controller's
requests to it.  Importing Cinder under software emulation takes long, so
the harness is started once and kept running.

Request: ``{"call": NAME, "volume": SPEC, ...}``; a volume SPEC is
``{"id", "size", "host", "provider_location", "provider_auth",
"attached_connectors"}`` as the controller (standing in for Cinder's
database) records it.  Reply:
``{"ok": true, "result": ..., "t": seconds}`` or ``{"ok": false, "kind":
exception class, "error": message, "trace": traceback}``.
"""

import json
import os
import shlex
import socket
import sys
import threading
import time
import traceback
import uuid

sys.path.insert(0, '/opt/ev3/lib')

# As cinder-volume (cinder/cmd/volume.py): eventlet first.
from cinder import monkey_patch  # noqa: E402
monkey_patch.patch()

from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402
from oslo_privsep import priv_context  # noqa: E402

from cinder.common import config  # noqa: E402,F401 - registers options
from cinder import context  # noqa: E402
from cinder.db import api as db_api  # noqa: E402
from cinder.db import models  # noqa: E402
from cinder import exception as cinder_exception  # noqa: E402
from cinder import objects  # noqa: E402

objects.register_all()

from cinder.tests.unit import fake_snapshot  # noqa: E402
from cinder.tests.unit import fake_volume  # noqa: E402
from cinder import utils  # noqa: E402
from cinder.volume import configuration  # noqa: E402
from cinder.volume import driver as volume_driver  # noqa: E402
from cinder.volume.drivers import lvm  # noqa: E402
from cinder.volume.drivers.ovt import ev3  # noqa: E402
from cinder.volume.drivers.ovt import options  # noqa: E402

CONF = cfg.CONF
LOG = logging.getLogger('ev3.lab.harness')
SOCK = '/run/ev3/harness.sock'
BACKEND = 'RBS'
IMPORTED = time.time()


class Harness(object):
    """One driver and the objects Cinder would hand it."""

    def __init__(self, host, active_backend_id):
        self.ctx = context.get_admin_context()
        self.host = host
        self.lock = threading.Lock()
        self.rtype = objects.VolumeType(
            id='6b0e3f0c-1d0f-4e55-9d38-5c2b7d7a0001', name='RBS',
            extra_specs={'volume_backend_name': 'ev3',
                         'replication_enabled': '<is> True'})
        conf = configuration.Configuration(volume_driver.volume_opts,
                                           config_group=BACKEND)
        conf.append_config_values(lvm.volume_opts)
        conf.append_config_values(volume_driver.iser_opts)
        conf.append_config_values(options.ev3_opts)
        self.driver = ev3.ReplicatedVolumeDriver(
            configuration=conf, host=host,
            active_backend_id=active_backend_id)
        self.driver.do_setup(self.ctx)
        self.driver.check_for_setup_error()

    def volume(self, spec):
        """A Volume object as the volume manager hands it to the driver."""
        fields = {k: spec[k] for k in ('provider_location', 'provider_auth',
                                       'replication_status', 'status')
                  if spec.get(k) is not None}
        vol = fake_volume.fake_volume_obj(
            self.ctx, id=spec['id'], size=spec['size'],
            volume_type_id=self.rtype.id,
            host=spec.get('host') or self.host + '#ev3', **fields)
        vol.volume_type = self.rtype
        # The attachments Cinder keeps (with each host's connector).
        vol.volume_attachment = objects.VolumeAttachmentList(objects=[
            objects.VolumeAttachment(
                context=self.ctx, id=str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                    vol.id + c['initiator'])),
                volume_id=vol.id, connector=c, attach_status='attached')
            for c in spec.get('attached_connectors') or []])
        return vol

    def snapshot(self, spec, volume):
        snap = fake_snapshot.fake_snapshot_obj(
            self.ctx, id=spec['id'], volume_id=volume.id,
            volume_size=volume.size)
        snap.volume = volume
        return snap

    def record(self, spec):
        """Keep a row in the database, for what the driver reads back."""
        try:
            objects.Volume.get_by_id(self.ctx, spec['id'])
        except cinder_exception.VolumeNotFound:
            db_api.volume_create(self.ctx, {
                'id': spec['id'], 'size': spec['size'],
                'host': spec.get('host') or self.host + '#ev3',
                'volume_type_id': self.rtype.id, 'status': 'creating',
                'replication_status': 'enabled', 'project_id': 'lab',
                'user_id': 'lab'})

    def call(self, req):
        name = req['call']
        drv = self.driver
        ctx = self.ctx
        vol = self.volume(req['volume']) if req.get('volume') else None
        if name == 'create_volume':
            self.record(req['volume'])
            return drv.create_volume(vol)
        if name == 'delete_volume':
            return drv.delete_volume(vol)
        if name == 'create_export':
            return drv.create_export(ctx, vol, req['connector'])
        if name == 'ensure_export':
            return drv.ensure_export(ctx, vol)
        if name == 'remove_export':
            return drv.remove_export(ctx, vol)
        if name == 'initialize_connection':
            return drv.initialize_connection(vol, req['connector'])
        if name == 'terminate_connection':
            return drv.terminate_connection(vol, req['connector'])
        if name == 'extend_volume':
            return drv.extend_volume(vol, req['new_size'])
        if name == 'create_snapshot':
            return drv.create_snapshot(self.snapshot(req['snapshot'], vol))
        if name == 'delete_snapshot':
            return drv.delete_snapshot(self.snapshot(req['snapshot'], vol))
        if name == 'create_volume_from_snapshot':
            source = self.volume(req['source'])
            self.record(req['volume'])
            return drv.create_volume_from_snapshot(
                vol, self.snapshot(req['snapshot'], source))
        if name == 'local_path':
            return drv.local_path(vol)
        if name == 'failover_host':
            vols = [self.volume(s) for s in req.get('volumes', [])]
            return drv.failover_host(ctx, vols,
                                     secondary_id=req.get('secondary_id'))
        if name == 'freeze_backend':
            return drv.freeze_backend(ctx)
        if name == 'thaw_backend':
            return drv.thaw_backend(ctx)
        if name == 'get_volume_stats':
            return drv.get_volume_stats(refresh=True)
        if name == 'ping':
            return {'host': self.host, 'imported_s': IMPORTED - STARTED}
        raise ValueError('unknown call %s' % name)

    def serve_one(self, conn):
        data = b''
        while not data.endswith(b'\n'):
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        started = time.time()
        req = {}
        try:
            req = json.loads(data.decode())
            LOG.info('lab call %s', req.get('call'))
            with self.lock:
                result = self.call(req)
            reply = {'ok': True, 'result': result}
        except Exception as exc:  # noqa: B902 - every error goes back
            LOG.exception('lab call %s failed', req.get('call'))
            reply = {'ok': False, 'kind': type(exc).__name__,
                     'error': str(exc), 'trace': traceback.format_exc()}
        reply['t'] = time.time() - started
        conn.sendall(json.dumps(reply, default=str).encode() + b'\n')

    def serve(self):
        if os.path.exists(SOCK):
            os.unlink(SOCK)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(SOCK)
        os.chmod(SOCK, 0o600)
        server.listen(8)
        LOG.info('lab harness of %s ready after %.1f s', self.host,
                 time.time() - STARTED)
        with open('/run/ev3/harness.pid', 'w') as handle:
            handle.write('%d\n' % os.getpid())
        with open('/run/ev3/harness.ready', 'w') as handle:
            handle.write('%.1f\n' % (time.time() - STARTED))
        while True:
            conn, _addr = server.accept()
            thread = threading.Thread(target=self._serve_conn, args=(conn,))
            thread.daemon = True
            thread.start()

    def _serve_conn(self, conn):
        try:
            self.serve_one(conn)
        finally:
            conn.close()


def main():
    host = sys.argv[1]
    active = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    CONF(['--config-file', '/etc/cinder/cinder.conf'], project='cinder')
    logging.setup(CONF, 'cinder')
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
    models.BASE.metadata.create_all(db_api.get_engine())
    LOG.info('lab harness %s: request ids %s', host, uuid.uuid4().hex[:8])
    Harness(host, active).serve()


STARTED = float(os.environ.get('EV3_HARNESS_STARTED') or IMPORTED)

if __name__ == '__main__':
    main()
