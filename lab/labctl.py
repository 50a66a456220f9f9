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
"""Controller of the ev3 real-kernel lab (tools/lab.sh start|stop|...).

Boots two storage VMs (hci-0001, hci-0002) and a client VM under QEMU
software emulation from the image ``tools/lab.sh build`` made, links them
only through QEMU socket netdevs on 127.0.0.1 and talks to each guest's
command agent over a virtio-serial port (a Unix socket here).  Logs, serial
consoles, disks and sockets live in the run folder (EV3_LAB_DIR, default
lab/run).  ``stop`` kills only the QEMU processes whose PIDs ``start``
recorded.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get('EV3_LAB_CACHE', '/var/cache/ev3-lab')
RUN = os.environ.get('EV3_LAB_DIR', os.path.join(REPO, 'lab', 'run'))
PORT_BASE = int(os.environ.get('EV3_LAB_PORT_BASE', '47100'))
DATA_DISK_BYTES = 6 * 1024 ** 3
SECRET = 'ev3-lab-secret-5f0c2a9d8e7b6a41'
CLIENT_IQN = 'iqn.1993-08.org.debian:01:client'

# Links: name -> (listening VM, port offset).  The VMs that survive the
# drill's crash listen, so a killed VM reconnects when it boots again.
LINKS = {'repl': ('hci-0002', 0), 'c1': ('client', 1), 'c2': ('client', 2)}
VMS = {
    'hci-0001': {'role': 'storage', 'index': 1,
                 'nics': [('repl', '10.0.10.21/24'),
                          ('c1', '10.0.251.21/24')]},
    'hci-0002': {'role': 'storage', 'index': 2,
                 'nics': [('repl', '10.0.10.22/24'),
                          ('c2', '10.0.252.22/24')]},
    'client': {'role': 'client', 'index': 9,
               'nics': [('c1', '10.0.251.9/24'), ('c2', '10.0.252.9/24')]},
}
STORAGE_IP = {'hci-0001': '10.0.10.21', 'hci-0002': '10.0.10.22'}
TARGET_IP = {'hci-0001': '10.0.251.21', 'hci-0002': '10.0.252.22'}
CLIENT_IP = {'hci-0001': '10.0.251.9', 'hci-0002': '10.0.252.9'}
BOOT_ORDER = ('client', 'hci-0002', 'hci-0001')


class LabError(Exception):
    """The lab cannot do what was asked; the message says why."""


def log(msg, *args):
    text = msg % args if args else msg
    line = '%s lab: %s' % (time.strftime('%H:%M:%S'), text)
    print(line, file=sys.stderr, flush=True)
    os.makedirs(RUN, exist_ok=True)
    with open(os.path.join(RUN, 'lab.log'), 'a') as handle:
        handle.write(line + '\n')


def image_dir():
    try:
        with open(os.path.join(CACHE, 'current')) as handle:
            path = handle.read().strip()
    except OSError:
        raise LabError('no lab image: run "bash tools/lab.sh build"')
    if not os.path.exists(os.path.join(path, 'done')):
        raise LabError('lab image %s is incomplete: rebuild it' % path)
    return path


def mac(vm, nic_index):
    return '52:54:00:e3:%02x:%02x' % (VMS[vm]['index'], nic_index)


def cpu_khz():
    with open('/proc/cpuinfo') as handle:
        for line in handle:
            if line.startswith('cpu MHz'):
                return int(float(line.split(':')[1]) * 1000)
    return 2000000


def path(*parts):
    return os.path.join(RUN, *parts)


def pid_of(vm):
    """The PID of this lab's QEMU for ``vm`` if it still runs."""
    try:
        with open(path('%s.pid' % vm)) as handle:
            pid = int(handle.read().strip())
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read()
    except (OSError, ValueError):
        return None
    if path('%s.sock' % vm).encode() not in cmdline:
        return None     # the PID was reused by something else
    return pid


def wait_listen(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open('/proc/net/tcp') as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if (fields[1].endswith(':%04X' % port) and
                        fields[3] == '0A'):
                    return
        time.sleep(0.1)
    raise LabError('QEMU did not listen on 127.0.0.1:%d' % port)


def qemu_command(vm, img, data_disk=True):
    spec = VMS[vm]
    nets = []
    args = ['qemu-system-x86_64', '-name', vm,
            '-accel', 'tcg,thread=multi', '-cpu', 'max', '-m', '1024',
            '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot',
            '-kernel', os.path.join(img, 'vmlinuz'),
            '-initrd', os.path.join(img, 'initrd.img'),
            '-drive', 'file=%s,if=virtio,format=qcow2' % path(vm + '.qcow2')]
    if spec['role'] == 'storage' and data_disk:
        args += ['-drive', 'file=%s,if=virtio,format=raw,cache=none'
                 % path(vm + '-data.raw')]
    for i, (link, addr) in enumerate(spec['nics']):
        listener, offset = LINKS[link]
        port = PORT_BASE + offset
        mode = 'listen' if listener == vm else 'connect'
        args += ['-netdev', 'socket,id=n%d,%s=127.0.0.1:%d' % (i, mode, port),
                 '-device', 'virtio-net-pci,netdev=n%d,mac=%s'
                 % (i, mac(vm, i))]
        nets.append('%s=%s' % (mac(vm, i), addr))
    args += ['-serial', 'file:%s' % path(vm + '.console'),
             '-device', 'virtio-serial-pci',
             '-chardev', 'socket,id=ctl,path=%s,server=on,wait=off'
             % path(vm + '.sock'),
             '-device', 'virtserialport,chardev=ctl,name=ev3ctl',
             '-append', ' '.join([
                 'root=/dev/vda', 'rw', 'console=ttyS0', 'quiet',
                 'init=/opt/ev3/bin/init', 'net.ifnames=0',
                 'tsc_early_khz=%d' % cpu_khz(), 'ev3.name=%s' % vm,
                 'ev3.role=%s' % spec['role'], 'ev3.net=%s' % ','.join(nets)])]
    return args


def boot(vm, fresh_disks=True, data_disk=True):
    """Start ``vm``'s QEMU.

    ``fresh_disks`` makes its root overlay and data disk new;
    ``data_disk=False`` boots a storage VM without its data disk (a fault
    the drill checks).
    """
    if pid_of(vm):
        raise LabError('%s already runs (PID %d)' % (vm, pid_of(vm)))
    img = image_dir()
    os.makedirs(RUN, exist_ok=True)
    overlay = path(vm + '.qcow2')
    if fresh_disks or not os.path.exists(overlay):
        if os.path.exists(overlay):
            os.unlink(overlay)
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F',
                        'raw', '-b', os.path.join(img, 'base.img'), overlay],
                       check=True)
    if VMS[vm]['role'] == 'storage':
        data = path(vm + '-data.raw')
        if fresh_disks and os.path.exists(data):
            os.unlink(data)
        if not os.path.exists(data):
            with open(data, 'wb') as handle:
                handle.truncate(DATA_DISK_BYTES)
    for name in (vm + '.sock',):
        if os.path.exists(path(name)):
            os.unlink(path(name))
    qlog = open(path(vm + '.qemu.log'), 'ab')
    proc = subprocess.Popen(qemu_command(vm, img, data_disk),
                            stdin=subprocess.DEVNULL, stdout=qlog,
                            stderr=qlog, start_new_session=True)
    with open(path(vm + '.pid'), 'w') as handle:
        handle.write('%d\n' % proc.pid)
    log('%s: QEMU PID %d', vm, proc.pid)
    deadline = time.time() + 60
    while not os.path.exists(path(vm + '.sock')):
        if proc.poll() is not None or time.time() > deadline:
            raise LabError('%s: QEMU exited or made no control socket '
                           '(see %s)' % (vm, path(vm + '.qemu.log')))
        time.sleep(0.1)
    for link, _addr in VMS[vm]['nics']:
        listener, offset = LINKS[link]
        if listener == vm:
            wait_listen(PORT_BASE + offset)
    return proc.pid


def kill(vm, sig=signal.SIGKILL):
    pid = pid_of(vm)
    if pid is None:
        return False
    os.kill(pid, sig)
    deadline = time.time() + 30
    while time.time() < deadline and os.path.exists('/proc/%d' % pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    log('%s: QEMU PID %d stopped (signal %d)', vm, pid, sig)
    return True


class Agent(object):
    """The command agent of one guest, over its virtio-serial socket."""

    def __init__(self, vm):
        self.vm = vm
        self.sock = None
        self.buf = b''
        self.seq = 0
        self.tag = uuid.uuid4().hex[:8]

    def connect(self, timeout=240):
        deadline = time.time() + timeout
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(path(self.vm + '.sock'))
                self.sock = sock
                break
            except OSError:
                sock.close()
                if time.time() > deadline or pid_of(self.vm) is None:
                    raise LabError('%s: no control socket (see %s)' % (
                        self.vm, path(self.vm + '.console')))
                time.sleep(0.5)
        # The agent may not run yet: ping until it answers.
        while True:
            try:
                self.request({'op': 'ping'}, timeout=5, resend=1)
                return self
            except LabError:
                if time.time() > deadline or pid_of(self.vm) is None:
                    raise LabError('%s: the agent does not answer (see %s)'
                                   % (self.vm, path(self.vm + '.console')))

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def request(self, req, timeout=600, resend=5.0):
        """Send ``req`` and wait for its answer.

        A line can be lost around a reconnection of the control socket, so
        the request is sent again (same id; the agent runs it once) when
        nothing at all arrived for ``resend`` seconds.
        """
        self.seq += 1
        rid = '%s-%d' % (self.tag, self.seq)
        data = json.dumps(dict(req, id=rid)).encode() + b'\n'
        deadline = time.time() + timeout
        next_send = 0
        while True:
            if time.time() >= next_send:
                try:
                    self.sock.sendall(data)
                except OSError as exc:
                    raise LabError('%s: agent link broken: %s'
                                   % (self.vm, exc))
                next_send = time.time() + resend
            while b'\n' in self.buf:
                line, self.buf = self.buf.split(b'\n', 1)
                try:
                    reply = json.loads(line.decode())
                except ValueError:
                    continue
                if reply.get('id') == rid:
                    return reply
            left = deadline - time.time()
            if left <= 0:
                raise LabError('%s: no answer to %s within %ss'
                               % (self.vm, req.get('op'), timeout))
            self.sock.settimeout(max(0.05, min(left, 1.0,
                                               next_send - time.time())))
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError as exc:
                raise LabError('%s: agent link broken: %s' % (self.vm, exc))
            if not chunk:
                raise LabError('%s: agent link closed' % self.vm)
            self.buf += chunk
            # Data is flowing: the request arrived, do not send it again.
            next_send = time.time() + resend

    def sh(self, cmd, check=True, timeout=600, stdin=''):
        reply = self.request({'op': 'sh', 'cmd': cmd, 'timeout': timeout,
                              'input': stdin}, timeout=timeout + 30)
        if check and reply.get('rc') != 0:
            raise LabError('%s: "%s" failed (rc %s): %s%s' % (
                self.vm, cmd, reply.get('rc'), reply.get('out', ''),
                reply.get('err', '')))
        return reply


def start(only=None):
    """Boot the VMs that do not run yet, listeners first; wait for agents."""
    started = time.time()
    names = [vm for vm in BOOT_ORDER if only is None or vm in only]
    for vm in names:
        if pid_of(vm) is None:
            boot(vm)
    agents = {}
    for vm in names:
        agents[vm] = Agent(vm).connect()
        log('%s: agent ready', vm)
    log('lab up in %.1f s', time.time() - started)
    return agents


def stop():
    for vm in BOOT_ORDER:
        if kill(vm, signal.SIGKILL):
            try:
                os.unlink(path(vm + '.pid'))
            except OSError:
                pass


def status():
    for vm in BOOT_ORDER:
        pid = pid_of(vm)
        print('%-9s %s' % (vm, 'running (PID %d)' % pid if pid
                           else 'stopped'))


def main(argv):
    cmd = argv[1] if len(argv) > 1 else 'status'
    try:
        if cmd == 'start':
            start()
        elif cmd == 'stop':
            stop()
        elif cmd == 'status':
            status()
        elif cmd == 'ctl':
            agent = Agent(argv[2]).connect(timeout=10)
            print(json.dumps(agent.request(json.loads(argv[3])), indent=1))
        elif cmd == 'sh':
            agent = Agent(argv[2]).connect(timeout=10)
            reply = agent.sh(argv[3], check=False)
            sys.stdout.write(reply.get('out', ''))
            sys.stderr.write(reply.get('err', ''))
            return reply.get('rc', 1)
        elif cmd == 'drill':
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import drill
            return drill.main(argv[2:])
        else:
            print('usage: lab.sh build|start|stop|status|drill|'
                  'ctl VM JSON|sh VM CMD', file=sys.stderr)
            return 2
    except LabError as exc:
        log('ERROR: %s', exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
