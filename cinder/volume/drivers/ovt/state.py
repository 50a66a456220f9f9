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
"""Host-local facts of the driver, kept in one JSON file written atomically.

DRBD itself is the truth for roles and connections; this file only keeps
what DRBD cannot: replicas still to be removed on a peer that was down
when their volume was deleted.
"""

import json
import os
import tempfile
import threading


class HostState(object):
    """A small JSON document on disk: temp file, fsync, replace, 0600."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.RLock()

    def load(self):
        """The stored document, or an empty one."""
        with self._lock:
            try:
                with open(self.path, 'r', encoding='utf-8') as handle:
                    data = json.load(handle)
            except FileNotFoundError:
                return {}
            if not isinstance(data, dict):
                raise ValueError('%s does not hold a JSON object' % self.path)
            return data

    def save(self, data):
        """Replace the stored document atomically."""
        with self._lock:
            folder = os.path.dirname(self.path) or '.'
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix='.ev3-', dir=folder)
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as handle:
                    json.dump(data, handle, sort_keys=True, indent=1)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def update(self, change):
        """Load, apply ``change(document)``, save; returns the document."""
        with self._lock:
            data = self.load()
            change(data)
            self.save(data)
            return data

    # -- pending removals ---------------------------------------------------

    def pending_removals(self):
        """{backend_id: [resource names]} still to remove on that peer."""
        return {peer: list(items) for peer, items in
                self.load().get('pending_removals', {}).items() if items}

    def add_pending_removal(self, backend_id, name):
        """Remember that ``name`` must still be removed on ``backend_id``."""
        def change(data):
            pending = data.setdefault('pending_removals', {})
            items = pending.setdefault(backend_id, [])
            if name not in items:
                items.append(name)
        self.update(change)

    def drop_pending_removal(self, backend_id, name):
        """Forget a removal that is done."""
        def change(data):
            items = data.get('pending_removals', {}).get(backend_id, [])
            if name in items:
                items.remove(name)
        self.update(change)

    # -- frozen --------------------------------------------------------------

    def frozen(self):
        """True while the operator has frozen this backend."""
        return bool(self.load().get('frozen', False))

    def set_frozen(self, frozen):
        """Persist the frozen flag (survives restarts)."""
        def change(data):
            data['frozen'] = bool(frozen)
        self.update(change)
