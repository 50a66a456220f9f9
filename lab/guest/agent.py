#!/usr/bin/python3
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
"""Command agent of an ev3 lab guest, on a virtio-serial port.

Reads JSON lines from the port ``ev3ctl`` and answers each with one JSON
line carrying the request's ``id``; every request runs in its own thread,
so a long command does not hold the others up.  A request sent again with
the same ``id`` gets the same answer (the command runs once).  Operations:

``ping``
    ``{"ok": true, "name": <hostname>}``
``sh``
    run ``cmd`` with /bin/sh (``timeout`` seconds, default 600; optional
    ``input``); answers ``rc``, ``out``, ``err``, ``t`` (elapsed seconds)
``harness``
    forward ``req`` to the guest harness (/run/ev3/harness.sock) and answer
    its reply
"""

import glob
import json
import os
import socket
import subprocess
import sys
import threading
import time

PORT_NAME = 'ev3ctl'
HARNESS_SOCK = '/run/ev3/harness.sock'


def find_port():
    """The character device of the virtio-serial port named ev3ctl."""
    for path in glob.glob('/sys/class/virtio-ports/*/name'):
        with open(path) as handle:
            if handle.read().strip() == PORT_NAME:
                return '/dev/' + path.split('/')[-2]
    return None


def run_sh(req):
    started = time.time()
    try:
        proc = subprocess.run(
            ['/bin/sh', '-c', req['cmd']], input=req.get('input', ''),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=req.get('timeout', 600),
            errors='replace')
        return {'rc': proc.returncode, 'out': proc.stdout,
                'err': proc.stderr, 't': time.time() - started}
    except subprocess.TimeoutExpired as exc:
        return {'rc': -9, 'out': str(exc.stdout or ''),
                'err': 'timeout after %ss' % req.get('timeout', 600),
                't': time.time() - started}


def run_harness(req):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(req.get('timeout', 900))
        sock.connect(HARNESS_SOCK)
        sock.sendall(json.dumps(req['req']).encode() + b'\n')
        data = b''
        while not data.endswith(b'\n'):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return json.loads(data.decode())
    except (OSError, ValueError) as exc:
        return {'ok': False, 'error': 'harness unreachable: %s' % exc,
                'kind': 'HarnessDown'}
    finally:
        sock.close()


RESULTS = {}
RUNNING = set()


def write_all(out, data):
    """Write all of ``data``: a virtio port takes at most 32 KiB a call."""
    view = memoryview(data)
    while len(view):
        written = out.write(view)
        view = view[written or 0:]


def handle(req, out, lock):
    op = req.get('op')
    try:
        if op == 'ping':
            reply = {'ok': True, 'name': socket.gethostname()}
        elif op == 'sh':
            reply = run_sh(req)
        elif op == 'harness':
            reply = run_harness(req)
        else:
            reply = {'ok': False, 'error': 'unknown op %r' % op}
    except Exception as exc:  # noqa: B902 - answer every request
        reply = {'ok': False, 'error': repr(exc)}
    reply['id'] = req.get('id')
    line = json.dumps(reply).encode() + b'\n'
    with lock:
        RESULTS[req.get('id')] = line
        RUNNING.discard(req.get('id'))
        while len(RESULTS) > 200:
            RESULTS.pop(next(iter(RESULTS)))
        write_all(out, line)


def main():
    path = None
    while path is None:
        path = find_port()
        if path is None:
            time.sleep(0.5)
    fd = os.open(path, os.O_RDWR)
    port_in = os.fdopen(fd, 'rb', buffering=0)
    port_out = os.fdopen(os.dup(fd), 'wb', buffering=0)
    lock = threading.Lock()
    hello = {'id': None, 'hello': socket.gethostname()}
    with lock:
        write_all(port_out, json.dumps(hello).encode() + b'\n')
    buf = b''
    while True:
        chunk = port_in.read(65536)
        if not chunk:
            # No host end connected: the port reads EOF until one is.
            time.sleep(0.2)
            continue
        buf += chunk
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            if not line.strip():
                continue
            try:
                req = json.loads(line.decode())
            except ValueError:
                continue
            # The controller sends a request again when its answer is
            # late (a line can be lost around a reconnection): answer a
            # finished one again, ignore a running one.
            rid = req.get('id')
            with lock:
                if rid in RESULTS:
                    write_all(port_out, RESULTS[rid])
                    continue
                if rid in RUNNING:
                    continue
                RUNNING.add(rid)
            thread = threading.Thread(target=handle,
                                      args=(req, port_out, lock))
            thread.daemon = True
            thread.start()


if __name__ == '__main__':
    sys.exit(main())
