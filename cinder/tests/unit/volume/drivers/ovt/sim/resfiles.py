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
"""The simulated host's ``/etc/drbd.d``: resource files written atomically.

Same three methods as production's privsep-backed writer: ``write(name,
text)``, ``remove(name)`` (quiet if absent), ``read_all() -> {name: text}``.
"""

import os
import re
import tempfile

_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$')


def _check(name):
    if not isinstance(name, str) or not _NAME_RE.match(name) or \
            '..' in name:
        raise ValueError('invalid resource file name %r' % (name,))


class ResourceFiles(object):
    """``<name>.res`` files in one folder."""

    def __init__(self, directory):
        self.directory = directory

    def write(self, name, text):
        _check(name)
        os.makedirs(self.directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix='.tmp-')
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, os.path.join(self.directory, name + '.res'))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def remove(self, name):
        _check(name)
        try:
            os.unlink(os.path.join(self.directory, name + '.res'))
        except FileNotFoundError:
            pass

    def read_all(self):
        result = {}
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return result
        for fname in sorted(names):
            if fname.endswith('.res') and not fname.startswith('.'):
                with open(os.path.join(self.directory, fname)) as handle:
                    result[fname[:-4]] = handle.read()
        return result
