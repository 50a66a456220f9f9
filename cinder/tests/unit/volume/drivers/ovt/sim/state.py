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
"""Persistence of the simulated cluster: JSON documents under a lock.

Every document is a JSON file under the state directory, written atomically
(temporary file, then ``os.replace``); LVs, DRBD kernel resources and LIO
targets are collections with one file per record, so a command writes only
the records it changed (change tracking by ``Tracked`` dicts and lists).
``cluster.json`` carries a generation bumped by every change: a process
keeps its in-memory cache while the generation is the one it last saw.
``ClusterLock`` is an ``fcntl`` lock on ``<state_dir>/.lock``, re-entrant
within a process, taken around every command; ``Transaction`` collects the
documents a command touched and saves the changed ones when it ends.
"""

import fcntl
import json
import os
import tempfile
import threading

from cinder.tests.unit.volume.drivers.ovt.sim import content


class SimError(Exception):
    """A simulated tool failed: exit code, stdout and stderr."""

    def __init__(self, exit_code, stderr='', stdout=''):
        super(SimError, self).__init__(exit_code, stderr, stdout)
        self.exit_code = exit_code
        self.stderr = stderr
        self.stdout = stdout


class Tracked(dict):
    """A dict that reports every change (also of nested values)."""

    __slots__ = ('_mark',)

    def __init__(self, data, mark):
        super(Tracked, self).__init__()
        self._mark = mark
        for key, value in data.items():
            dict.__setitem__(self, key, wrap(value, mark))

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, wrap(value, self._mark))
        self._mark()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._mark()

    def pop(self, *args):
        self._mark()
        return dict.pop(self, *args)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self):
        dict.clear(self)
        self._mark()


class TrackedList(list):
    """A list that reports every change."""

    __slots__ = ('_mark',)

    def __init__(self, data, mark):
        super(TrackedList, self).__init__(wrap(v, mark) for v in data)
        self._mark = mark

    def append(self, value):
        list.append(self, wrap(value, self._mark))
        self._mark()

    def extend(self, values):
        list.extend(self, [wrap(v, self._mark) for v in values])
        self._mark()

    def insert(self, index, value):
        list.insert(self, index, wrap(value, self._mark))
        self._mark()

    def remove(self, value):
        list.remove(self, value)
        self._mark()

    def pop(self, *args):
        self._mark()
        return list.pop(self, *args)

    def sort(self, *args, **kwargs):
        list.sort(self, *args, **kwargs)
        self._mark()

    def __setitem__(self, index, value):
        list.__setitem__(self, index, value)
        self._mark()

    def __delitem__(self, index):
        list.__delitem__(self, index)
        self._mark()

    def __iadd__(self, values):
        self.extend(values)
        return self


def wrap(value, mark):
    """``value`` as Tracked/TrackedList reporting to ``mark``.

    Containers that report elsewhere are copied.
    """
    if isinstance(value, dict):
        if isinstance(value, Tracked) and value._mark is mark:
            return value
        return Tracked(value, mark)
    if isinstance(value, list):
        if isinstance(value, TrackedList) and value._mark is mark:
            return value
        return TrackedList(value, mark)
    return value


def plain(value):
    """A plain JSON-able deep copy of ``value``."""
    return json.loads(json.dumps(value))


class Collection(dict):
    """Records stored one JSON file per key in a folder."""

    def __init__(self):
        super(Collection, self).__init__()
        self.dirty = set()

    def marker(self, key):
        return lambda: self.dirty.add(key)

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, wrap(value, self.marker(key)))
        self.dirty.add(key)

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self.dirty.add(key)

    def pop(self, key, *default):
        self.dirty.add(key)
        return dict.pop(self, key, *default)


class Store(object):
    """JSON documents and collections under ``root``, cached in memory.

    The cache is valid while the cluster generation (``cluster.json``)
    is the one this process saw last; any other writer bumps it.
    """

    def __init__(self, root):
        self.root = root
        self._cache = {}
        self.generation = None

    def path(self, rel):
        return os.path.join(self.root, rel)

    def clear(self):
        self._cache.clear()

    def load(self, rel, default):
        if rel in self._cache:
            return self._cache[rel]
        try:
            with open(self.path(rel), 'r') as handle:
                data = json.load(handle)
        except FileNotFoundError:
            data = default()
        self._cache[rel] = data
        return data

    def load_cluster(self, default):
        """cluster.json, re-read when changed; clears stale caches."""
        path = self.path('cluster.json')
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        cached = self._cache.get('cluster.json')
        if cached is None or self._cache.get('.key') != key:
            data = default() if key is None else self._read(path)
            if data.get('gen') != self.generation:
                self._cache.clear()
                self.generation = data.get('gen')
            self._cache['cluster.json'] = data
            self._cache['.key'] = key
        return self._cache['cluster.json']

    def _read(self, path):
        with open(path, 'r') as handle:
            return json.load(handle)

    def load_collection(self, rel):
        coll = self._cache.get(rel)
        if coll is None:
            coll = Collection()
            directory = self.path(rel)
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                names = []
            for fname in names:
                if fname.endswith('.json') and not fname.startswith('.'):
                    key = fname[:-5]
                    dict.__setitem__(coll, key, wrap(
                        self._read(os.path.join(directory, fname)),
                        coll.marker(key)))
            self._cache[rel] = coll
        return coll

    def save(self, rel, data):
        path = self.path(rel)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
        try:
            with os.fdopen(fd, 'w') as handle:
                handle.write(json.dumps(data, separators=(',', ':')))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self._cache[rel] = data
        if rel == 'cluster.json':
            st = os.stat(path)
            self._cache['.key'] = (st.st_ino, st.st_mtime_ns, st.st_size)
            self.generation = data.get('gen')

    def save_collection(self, rel, coll):
        for key in sorted(coll.dirty):
            item = '%s/%s.json' % (rel, key)
            if key in coll:
                self.save(item, coll[key])
                self._cache.pop(item, None)
            else:
                self.delete(item)
        coll.dirty.clear()

    def delete(self, rel):
        self._cache.pop(rel, None)
        try:
            os.unlink(self.path(rel))
        except FileNotFoundError:
            pass


class ClusterLock(object):
    """A re-entrant in-process lock plus an fcntl lock across processes."""

    def __init__(self, path):
        self._path = path
        self._mutex = threading.RLock()
        self._depth = 0
        self._fd = None

    def __enter__(self):
        self._mutex.acquire()
        if self._depth == 0:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
                self._mutex.release()
                raise
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._mutex.release()
        return False


def _cluster_default():
    return {'hosts': {}, 'partitions': [], 'faults': [], 'syncs': {},
            'seq': 0, 'gen': 0}


def _drbd_default():
    return {'log': []}


def _lio_default():
    return {'saved': None, 'holds': {}}


def _pv_default():
    return {'sigs': {}}


_DEFAULTS = {'drbd': _drbd_default, 'lio': _lio_default, 'pv': _pv_default}


class Transaction(object):
    """The documents one command reads and changes, saved at the end."""

    def __init__(self, store, now):
        self.store = store
        self.now = now
        self._docs = {}
        self._colls = {}
        self._dirty = set()
        self._deleted = set()
        self.conf_cache = None

    def _get(self, rel, default):
        doc = self._docs.get(rel)
        if doc is None:
            if rel in self._deleted:
                doc = default()
            else:
                doc = self.store.load(rel, default)
            self._docs[rel] = doc
        return doc

    def touch(self, rel):
        self._dirty.add(rel)

    # documents -------------------------------------------------------------

    def cluster(self, write=False):
        if write:
            self.touch('cluster.json')
        doc = self._docs.get('cluster.json')
        if doc is None:
            doc = self.store.load_cluster(_cluster_default)
            self._docs['cluster.json'] = doc
        return doc

    def host(self, name, section, write=False):
        """The ``lio``, ``drbd`` (kernel log) or ``pv`` document of a host."""
        rel = '%s/%s.json' % (name, section)
        if write:
            self.touch(rel)
        return self._get(rel, _DEFAULTS[section])

    def collection(self, name, kind):
        """{key: record} of host ``name``: 'lvs', 'res' or 'targets'."""
        rel = '%s/%s' % (name, kind)
        coll = self._colls.get(rel)
        if coll is None:
            coll = self.store.load_collection(rel)
            self._colls[rel] = coll
        return coll

    def content(self, host, vg, lv):
        """The Content of LV ``vg/lv`` on ``host`` (seeded from its record)."""
        rel = '%s/data/%s/%s.json' % (host, vg, lv)
        record = self.collection(host, 'lvs')[lv]
        doc = self._get(rel, lambda: content.new_doc(record.get('seed')))
        return content.Content(doc, touch=lambda: self.touch(rel))

    def copy_content(self, host, vg, src, dst_host, dst):
        """Make LV ``dst`` an exact copy of ``src``'s content."""
        data = self.content(host, vg, src).doc
        rel = '%s/data/%s/%s.json' % (dst_host, vg, dst)
        self._docs[rel] = json.loads(json.dumps(data))
        self.touch(rel)

    def rename_content(self, host, vg, old, new):
        data = self.content(host, vg, old).doc
        self.delete_content(host, vg, old)
        rel = '%s/data/%s/%s.json' % (host, vg, new)
        self._docs[rel] = data
        self.touch(rel)

    def delete_content(self, host, vg, lv):
        rel = '%s/data/%s/%s.json' % (host, vg, lv)
        self._docs.pop(rel, None)
        self._dirty.discard(rel)
        self._deleted.add(rel)

    # end -------------------------------------------------------------------

    def commit(self):
        changed = bool(self._dirty or self._deleted or any(
            c.dirty for c in self._colls.values()))
        if not changed:
            return
        cluster = self.cluster(write=True)
        cluster['gen'] = cluster.get('gen', 0) + 1
        for rel in self._deleted:
            self.store.delete(rel)
        for rel, coll in self._colls.items():
            self.store.save_collection(rel, coll)
        for rel in sorted(self._dirty):
            if rel in self._docs:
                self.store.save(rel, self._docs[rel])
        self._dirty.clear()
        self._deleted.clear()

    def abort(self):
        self.store.clear()
        self._dirty.clear()
        self._deleted.clear()
