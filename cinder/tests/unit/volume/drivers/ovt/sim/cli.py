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
"""Command line of the simulated tools, for real processes.

``python -m cinder.tests.unit.volume.drivers.ovt.sim TOOL ARGS...`` runs
``TOOL`` on host ``$EV3_SIM_HOST`` of the cluster in ``$EV3_SIM_STATE``.
``install_shims`` writes one executable per tool into a folder meant to go
first on ``PATH``; the shims load the simulator without importing
Cinder's test package (which takes seconds to import).
"""

import os
import stat
import sys

TOOLS = ('lvm', 'lvs', 'vgs', 'pvs', 'lvdisplay', 'lvcreate', 'lvremove',
         'lvextend', 'lvreduce', 'lvchange', 'lvrename', 'lvconvert',
         'drbdadm',
         'drbdsetup', 'cinder-rtstool', 'blockdev', 'dd')
_BOOT = '''import os, sys, types
base = %(base)r
name = ''
for part in ('cinder', 'tests', 'unit', 'volume', 'drivers', 'ovt'):
    name = (name + '.' + part) if name else part
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(base, *name.split('.'))]
        sys.modules[name] = module
from cinder.tests.unit.volume.drivers.ovt.sim import cli
sys.exit(cli.main(sys.argv[1:]))
'''


def main(argv):
    """Run one tool; returns the exit code."""
    from cinder.tests.unit.volume.drivers.ovt.sim import cluster
    state_dir = os.environ.get('EV3_SIM_STATE')
    host = os.environ.get('EV3_SIM_HOST')
    if not argv or not state_dir or not host:
        sys.stderr.write('usage: EV3_SIM_STATE=DIR EV3_SIM_HOST=NAME python '
                         '-m cinder.tests.unit.volume.drivers.ovt.sim TOOL '
                         '[ARGS...]\n')
        return 2
    sim = cluster.SimCluster(state_dir)
    try:
        code, out, err = sim.host(host).run(
            argv, as_root=(os.geteuid() == 0))
    except cluster.HostDown:
        sys.stderr.write('sim: host %s is down (crashed)\n' % host)
        return 255
    except KeyError as exc:
        sys.stderr.write('sim: %s\n' % exc)
        return 2
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


def install_shims(bin_dir, state_dir, host):
    """Write the tool executables for ``host`` into ``bin_dir``."""
    os.makedirs(bin_dir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    base = here
    for _level in range(7):
        base = os.path.dirname(base)
    boot = os.path.join(bin_dir, '.ev3sim-boot.py')
    with open(boot, 'w') as handle:
        handle.write(_BOOT % {'base': base})
    env = ('export EV3_SIM_STATE=%s EV3_SIM_HOST=%s\n'
           % (_quote(os.path.abspath(state_dir)), _quote(host)))
    run = 'exec %s %s' % (_quote(sys.executable), _quote(boot))
    scripts = {tool: '#!/bin/sh\n%s%s %s "$@"\n' % (env, run, tool)
               for tool in TOOLS}
    scripts['cat'] = ('#!/bin/sh\nif [ "$#" -eq 1 ] && [ "$1" = /proc/drbd ]'
                      '; then\n%s%s cat "$@"\nfi\nexec /bin/cat "$@"\n'
                      % (env, run))
    for tool, text in scripts.items():
        path = os.path.join(bin_dir, tool)
        with open(path, 'w') as handle:
            handle.write(text)
        os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP |
                 stat.S_IROTH | stat.S_IXOTH)
    return sorted(scripts)


def _quote(text):
    return "'%s'" % text.replace("'", "'\"'\"'")
