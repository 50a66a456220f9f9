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
"""Simulated storage hosts (LVM, DRBD, LIO) for ev3's tests and demo.

``SimCluster(state_dir)`` holds hosts whose ``SimHost.execute`` runs
simulated tools; ``BrickRouting`` routes Cinder's brick LVM static calls;
``install_shims`` puts the tools on ``PATH`` for real processes.  The names
are loaded lazily so that the command line stays fast.
"""

import importlib

_EXPORTS = {'SimCluster': 'cluster', 'SimHost': 'cluster',
            'ManualClock': 'cluster',
            'HostDown': 'cluster', 'SimError': 'state',
            'BrickRouting': 'fixtures', 'UnroutedCommand': 'fixtures',
            'install_shims': 'cli', 'md_bytes': 'drbd',
            'usable_bytes': 'drbd'}


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module('%s.%s' % (__name__, module)),
                   name)
