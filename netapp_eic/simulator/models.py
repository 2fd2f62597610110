# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""State of the simulated ONTAP cluster and its invariants.

:class:`Backend` owns the topology objects (cluster, nodes, SVMs, LIFs,
aggregates, FlexVols, NFS services), the jobs, the QoS policies and the
per-file QoS assignments. Every FlexVol is a real directory
``<data_root>/<volume name>``; file records and volume space are computed
from that directory, so what an NFS client writes there is what the REST
API reports. File semantics (clone within one FlexVol, copy as a job,
rename, delete) live here; HTTP lives in ``routes.py``.
"""

import datetime
import os
import posixpath
import random
import shutil
import stat
import threading
import time
import uuid as uuid_mod

from netapp_eic.simulator import errors, fsops
from netapp_eic.simulator import topology as topo

TERMINAL = ('success', 'failure')
TEMP_MARK = '.sim-clone-'


def iso_time(timestamp):
    """ISO-8601 with the local UTC offset, as ONTAP prints times."""
    dt = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return dt.astimezone().isoformat(timespec='seconds')


def flatten(value, prefix=''):
    """``{'a': {'b': 1}, 'c.d': 2}`` -> ``{'a.b': 1, 'c.d': 2}``."""
    flat = {}
    for key, item in (value or {}).items():
        name = prefix + key
        if isinstance(item, dict):
            flat.update(flatten(item, name + '.'))
        else:
            flat[name] = item
    return flat


class PathOutside(errors.BadRequest):
    """A path that escapes its FlexVol; ``other`` names the volume it hits."""

    def __init__(self, message, other=None):
        super().__init__(message, target='path')
        self.other = other


class Svm:
    def __init__(self, spec, new_uuid):
        self.name = spec['name']
        self.uuid = new_uuid()
        self.vstorage_enabled = spec['vstorage_enabled']
        self.lifs = [dict(lif, uuid=new_uuid()) for lif in spec['lifs']]

    def ref(self):
        return {'name': self.name, 'uuid': self.uuid}


class Volume:
    def __init__(self, spec, svm, data_root, new_uuid):
        self.name = spec['name']
        self.uuid = new_uuid()
        self.svm = svm
        self.junction = spec['junction']
        self.size = spec['size']
        self.aggregate = spec['aggregate']
        self.reserve_percent = spec['snapshot_reserve_percent']
        self.path = os.path.join(data_root, self.name)

    def ref(self):
        return {'name': self.name, 'uuid': self.uuid}

    def space(self):
        """The ``space`` sub-record, computed from the files on disk."""
        used = fsops.allocated_bytes(self.path)
        afs_total = self.size * (100 - self.reserve_percent) // 100
        return {'size': self.size, 'afs_total': afs_total, 'used': used,
                'available': max(0, afs_total - used),
                'snapshot': {'reserve_percent': self.reserve_percent,
                             'used': 0}}


class Job:
    """An ONTAP job: queued -> running -> success | failure."""

    def __init__(self, job_uuid, description):
        self.uuid = job_uuid
        self.description = description
        self.state = 'queued'
        self.message = 'queued'
        self.code = 0
        self.error = None
        self.start_time = time.time()
        self.end_time = None
        self.finished = None
        self.total = None
        self.done_bytes = 0
        self.stop = threading.Event()
        self.done = threading.Event()
        self.thread = None

    def href(self):
        return f'/api/cluster/jobs/{self.uuid}'

    def link(self):
        return {'uuid': self.uuid, '_links': {'self': {'href': self.href()}}}

    def running(self):
        self.state, self.message = 'running', 'running'

    def advance(self, position):
        self.done_bytes = max(self.done_bytes, position)
        self.message = (f'copied {self.done_bytes} of {self.total or 0} '
                        f'bytes ({self.percent()}%)')

    def percent(self):
        if not self.total:
            return 100 if self.state == 'success' else 0
        return min(100, self.done_bytes * 100 // self.total)

    def succeed(self, message='success'):
        self._end('success', message, 0)

    def fail(self, message, code):
        self.error = {'message': message, 'code': str(code)}
        self._end('failure', message, int(code))

    def _end(self, state, message, code):
        self.state, self.message, self.code = state, message, code
        self.end_time = time.time()
        self.finished = time.monotonic()
        self.done.set()

    def record(self):
        rec = {'uuid': self.uuid, 'description': self.description,
               'state': self.state, 'message': self.message,
               'code': self.code, 'start_time': iso_time(self.start_time),
               '_links': {'self': {'href': self.href()}}}
        if self.end_time is not None:
            rec['end_time'] = iso_time(self.end_time)
        if self.error:
            rec['error'] = dict(self.error)
        if self.total is not None:
            rec['progress'] = {'bytes_copied': self.done_bytes,
                               'bytes_total': self.total,
                               'percent': self.percent()}
        return rec


class Backend:
    """The whole simulated cluster. ``reset()`` clears the dynamic state."""

    def __init__(self, topology, data_root, *, seed=None, job_ttl=300.0,
                 clone_mode=None):
        self.topology = topo.load_topology(topology)
        self.data_root = os.path.abspath(data_root)
        self.seed = seed
        self.job_ttl = float(job_ttl)
        self.lock = threading.RLock()
        self._rng = random.Random(seed if seed is not None
                                  else os.urandom(16))
        self._build()
        self.clone_mode = self._probe_clone_mode(clone_mode)
        self._init_dynamic()

    # -- construction ------------------------------------------------------

    def new_uuid(self):
        """A uuid4 drawn from the (optionally seeded) generator."""
        with self.lock:
            return str(uuid_mod.UUID(int=self._rng.getrandbits(128),
                                     version=4))

    def _build(self):
        spec = self.topology
        self.cluster_uuid = self.new_uuid()
        self.nodes = [dict(n, uuid=self.new_uuid()) for n in spec['nodes']]
        self.aggregates = [dict(a, uuid=self.new_uuid())
                           for a in spec['aggregates']]
        self.svms, self.volumes = [], []
        for svm_spec in spec['svms']:
            svm = Svm(svm_spec, self.new_uuid)
            self.svms.append(svm)
            for vol_spec in svm_spec['volumes']:
                vol = Volume(vol_spec, svm, self.data_root, self.new_uuid)
                os.makedirs(vol.path, exist_ok=True)
                self.volumes.append(vol)

    def _probe_clone_mode(self, forced):
        supported = fsops.probe_reflink(self.data_root)
        if forced == 'reflink' and not supported:
            raise ValueError(
                f'reflink is not supported under {self.data_root}')
        if forced in ('copy', 'reflink'):
            return forced
        return 'reflink' if supported else 'copy'

    def _init_dynamic(self):
        self.jobs = {}
        self.qos_policies = {}
        self.file_qos = {}
        self.ems_events = []

    def reset(self):
        """Cancel running jobs and clear jobs, QoS state and EMS events.

        Topology objects (and their uuids) and the files stay.
        """
        self.shutdown()
        with self.lock:
            self._init_dynamic()

    def shutdown(self, timeout=10.0):
        """Cancel every running job and wait for its thread."""
        for job in list(self.jobs.values()):
            job.stop.set()
        for job in list(self.jobs.values()):
            if job.thread is not None:
                job.thread.join(timeout)

    # -- lookups -----------------------------------------------------------

    def volume(self, volume_uuid):
        for vol in self.volumes:
            if vol.uuid == volume_uuid:
                return vol
        raise errors.NotFound(f'Volume "{volume_uuid}" not found.',
                              target='uuid')

    def volume_by_name(self, name, svm_name=None):
        for vol in self.volumes:
            if vol.name == name and svm_name in (None, vol.svm.name):
                return vol
        raise errors.NotFound(f'Volume "{name}" not found.',
                              target='volume.name')

    def svm(self, key):
        for svm in self.svms:
            if key in (svm.uuid, svm.name):
                return svm
        raise errors.NotFound(f'SVM "{key}" not found.', target='svm')

    def svm_for_ip(self, ip):
        """The SVM owning data LIF ``ip`` (None when no LIF has it)."""
        for svm in self.svms:
            if any(lif['ip'] == ip for lif in svm.lifs):
                return svm
        return None

    def volume_for_junction(self, svm, nfs_path):
        """``(volume, relative path)`` for an NFS path such as ``/vol_a/x``."""
        nfs_path = posixpath.normpath('/' + nfs_path.lstrip('/'))
        best = None
        for vol in self.volumes:
            if vol.svm is not svm:
                continue
            j = vol.junction
            inside = nfs_path == j or nfs_path.startswith(
                j.rstrip('/') + '/')
            if inside and (best is None or len(j) > len(best.junction)):
                best = vol
        if best is None:
            raise errors.FileNotFound(
                f'No volume of SVM {svm.name} is mounted at {nfs_path}.')
        return best, nfs_path[len(best.junction):].lstrip('/')

    def default_vserver(self):
        return self.svms[0].name

    def shares(self):
        """``{'IP:/junction': directory}`` for every FlexVol."""
        out = {}
        for vol in self.volumes:
            if vol.svm.lifs:
                ip = vol.svm.lifs[0]['ip']
                out['{}:{}'.format(ip, vol.junction)] = vol.path
        return out

    # -- records -----------------------------------------------------------

    def cluster_record(self):
        gen, major, minor = topo.parse_version(
            self.topology['cluster']['version'])
        version = self.topology['cluster']['version']
        return {'name': self.topology['cluster']['name'],
                'uuid': self.cluster_uuid,
                'version': {'full': f'NetApp Release {version}: simulated',
                            'generation': gen, 'major': major,
                            'minor': minor}}

    def node_records(self):
        return [{'uuid': n['uuid'], 'name': n['name'], 'model': n['model'],
                 'is_all_flash_optimized': n['all_flash'],
                 'is_all_flash_select_optimized': False,
                 'state': 'up', 'serial_number': 'SIM{}'.format(n['uuid'][:8])}
                for n in self.nodes]

    def _node_ref(self, name):
        for node in self.nodes:
            if node['name'] == name:
                return {'name': name, 'uuid': node['uuid']}
        return {'name': name}

    def svm_records(self):
        return [{'uuid': s.uuid, 'name': s.name, 'state': 'running',
                 'subtype': 'default', 'nfs': {'enabled': True},
                 'ip_interfaces': [{'name': lif['name'], 'uuid': lif['uuid'],
                                    'ip': {'address': lif['ip']}}
                                   for lif in s.lifs]}
                for s in self.svms]

    def lif_records(self):
        return [{'uuid': lif['uuid'], 'name': lif['name'],
                 'ip': {'address': lif['ip'], 'netmask': '24',
                        'family': 'ipv4'},
                 'state': 'up', 'enabled': True, 'scope': 'svm',
                 'services': ['data_core', 'data_nfs'],
                 'svm': s.ref(),
                 'location': {'home_node': self._node_ref(
                     self.nodes[0]['name'])}}
                for s in self.svms for lif in s.lifs]

    def aggregate_records(self):
        out = []
        for aggr in self.aggregates:
            used = sum(fsops.allocated_bytes(v.path) for v in self.volumes
                       if v.aggregate == aggr['name'])
            used = min(used, aggr['size'])
            out.append({
                'uuid': aggr['uuid'], 'name': aggr['name'], 'state': 'online',
                'home_node': self._node_ref(aggr['node']),
                'node': self._node_ref(aggr['node']),
                'block_storage': {
                    'primary': {'raid_type': aggr['raid_type'],
                                'disk_type': aggr['disk_type'].lower()},
                    'storage_type': aggr['storage_type']},
                'space': {'block_storage': {
                    'size': aggr['size'], 'used': used,
                    'available': aggr['size'] - used}}})
        return out

    def disk_records(self):
        return [{'name': f'1.0.{i}', 'uuid': aggr['uuid'][:-4] + f'{i:04d}',
                 'effective_type': aggr['disk_type'],
                 'type': aggr['disk_type'].lower(),
                 'aggregates': [{'name': aggr['name'], 'uuid': aggr['uuid']}],
                 'node': self._node_ref(aggr['node'])}
                for i, aggr in enumerate(self.aggregates)]

    def volume_record(self, vol):
        return {
            'uuid': vol.uuid, 'name': vol.name, 'style': 'flexvol',
            'type': 'rw', 'state': 'online', 'is_svm_root': False,
            'error_state': {'is_inconsistent': False},
            'svm': vol.svm.ref(), 'aggregates': [self._aggr_ref(vol)],
            'nas': {'path': vol.junction, 'security_style': 'unix'},
            'guarantee': {'type': 'none', 'honored': True},
            'space': vol.space(), 'snapshot_policy': {'name': 'none'},
            'language': 'c.utf_8', 'qos': {},
            'efficiency': {'state': 'disabled', 'compression': 'none',
                           'volume_path': f'/vol/{vol.name}'},
            'encryption': {'enabled': False},
            'snapshot_directory_access_enabled': True}

    def _aggr_ref(self, vol):
        for aggr in self.aggregates:
            if aggr['name'] == vol.aggregate:
                return {'name': aggr['name'], 'uuid': aggr['uuid']}
        return {'name': vol.aggregate}

    def volume_records(self):
        return [self.volume_record(v) for v in self.volumes]

    def nfs_records(self):
        return [{'svm': s.ref(), 'enabled': True, 'state': 'online',
                 'vstorage_enabled': s.vstorage_enabled,
                 'protocol': {'v3_enabled': True, 'v4_enabled': True,
                              'v41_enabled': True}}
                for s in self.svms]

    def efficiency_records(self):
        """Rows of the private CLI ``volume efficiency show``."""
        return [{'vserver': v.svm.name, 'volume': v.name,
                 'logical_data_size': fsops.allocated_bytes(v.path),
                 'logical_data_limit': v.size}
                for v in self.volumes]

    def split_status_records(self):
        return [{'volume': v.ref(), 'svm': v.svm.ref(), 'unsplit_size': 0,
                 'unsplit_clone_count': 0, 'pending_splits': 0}
                for v in self.volumes]

    # -- paths -------------------------------------------------------------

    def resolve(self, vol, path, allow_root=False):
        """``(relative path, absolute path)`` of ``path`` inside ``vol``.

        Rejects escapes (``..``, absolute paths outside the junction) and
        ``.snapshot`` paths, which the simulator does not support.
        """
        if not isinstance(path, str):
            raise errors.BadRequest('A path must be a string.', target='path')
        text = path.strip()
        if text.startswith('/'):
            text = self._strip_junction(vol, text)
        target = os.path.normpath(os.path.join(vol.path, text))
        if target != vol.path and not target.startswith(vol.path + os.sep):
            raise PathOutside(f'Path "{path}" is outside volume {vol.name}.',
                              self._volume_at(target))
        rel = os.path.relpath(target, vol.path)
        rel = '' if rel == '.' else rel
        if rel.split(os.sep)[0] == '.snapshot':
            raise errors.NotImplementedApi(
                f'Snapshot paths are not supported by the simulator: {path}',
                status=400, target='path')
        if not rel and not allow_root:
            raise errors.BadRequest('A file path is required.',
                                    target='path')
        return rel, target

    def _strip_junction(self, vol, text):
        junction = vol.junction.rstrip('/')
        if text == junction or text.startswith(junction + '/'):
            return text[len(junction):].lstrip('/')
        for other in self.volumes:
            j = other.junction.rstrip('/')
            if other is not vol and (text == j or text.startswith(j + '/')):
                raise PathOutside(f'Path "{text}" is in volume {other.name}, '
                                  f'not {vol.name}.', other)
        raise PathOutside(
            f'Absolute path "{text}" is outside volume {vol.name}.')

    def _volume_at(self, target):
        for vol in self.volumes:
            if target == vol.path or target.startswith(vol.path + os.sep):
                return vol
        return None

    # -- files -------------------------------------------------------------

    def file_record(self, vol, rel, target):
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise errors.FileNotFound(
                f'No such file or directory: "{rel}" in volume {vol.name}.',
                target='path') from None
        ftype = ('directory' if stat.S_ISDIR(st.st_mode) else
                 'symlink' if stat.S_ISLNK(st.st_mode) else 'file')
        rec = {'volume': vol.ref(), 'path': rel or '.',
               'name': os.path.basename(rel) or '.', 'type': ftype,
               'size': st.st_size, 'bytes_used': st.st_blocks * 512,
               'accessed_time': iso_time(st.st_atime),
               'modified_time': iso_time(st.st_mtime),
               'changed_time': iso_time(st.st_ctime),
               'creation_time': iso_time(st.st_ctime),
               'unix_permissions': int(oct(st.st_mode & 0o7777)[2:]),
               'owner_id': st.st_uid, 'group_id': st.st_gid,
               'inode_number': st.st_ino, 'hard_links_count': st.st_nlink}
        policy = self.file_qos.get((vol.uuid, rel))
        if policy:
            rec['qos_policy'] = {'name': policy}
        return rec

    def list_dir(self, vol, rel, target):
        """Records of a directory's entries (hidden temp files skipped)."""
        if not os.path.isdir(target):
            return [self.file_record(vol, rel, target)]
        out = []
        for name in sorted(os.listdir(target)):
            if TEMP_MARK in name:
                continue
            child = posixpath.join(rel, name) if rel else name
            try:
                out.append(self.file_record(vol, child,
                                            os.path.join(target, name)))
            except errors.FileNotFound:
                continue
        return out

    def delete_file(self, vol, rel, target, recurse=False):
        self.file_record(vol, rel, target)
        if os.path.isdir(target) and not os.path.islink(target):
            if os.listdir(target) and not recurse:
                raise errors.BadRequest(
                    f'Directory "{rel}" is not empty; use recurse=true.',
                    target='path')
            shutil.rmtree(target)
        else:
            os.unlink(target)
        self._forget_qos(vol, rel)

    def rename_file(self, vol, rel, target, new_path):
        self.file_record(vol, rel, target)
        new_rel, new_target = self.resolve(vol, new_path)
        if not os.path.isdir(os.path.dirname(new_target)):
            raise errors.FileNotFound(
                f'Directory of "{new_rel}" does not exist.', target='path')
        os.replace(target, new_target)
        with self.lock:
            policy = self.file_qos.pop((vol.uuid, rel), None)
            if policy:
                self.file_qos[(vol.uuid, new_rel)] = policy

    def set_file_qos(self, vol, rel, target, policy):
        self.file_record(vol, rel, target)
        with self.lock:
            self.file_qos[(vol.uuid, rel)] = policy

    def _forget_qos(self, vol, rel):
        with self.lock:
            for key in [k for k in self.file_qos if k[0] == vol.uuid and
                        (k[1] == rel or k[1].startswith(rel + '/'))]:
                del self.file_qos[key]

    def create_file(self, vol, rel, target, kind='file'):
        if os.path.lexists(target):
            raise errors.DestinationExists(f'"{rel}" already exists.',
                                           target='path')
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Directory of "{rel}" does not exist.', target='path')
        if kind == 'directory':
            os.mkdir(target)
        else:
            open(target, 'xb').close()

    # -- clone and copy ----------------------------------------------------

    def check_space(self, vol, src_target, no_space=False):
        """Raise NoSpace when ``src_target`` would not fit in ``vol``."""
        need = fsops.file_allocated(src_target)
        available = vol.space()['available']
        if no_space or need > available:
            raise errors.NoSpace(
                f'Not enough space in volume {vol.name}: {need} bytes '
                f'needed, {0 if no_space else available} available.')

    def clone(self, vol, source, destination, overwrite=False,
              no_space=False):
        """Clone a file within one FlexVol; returns the finished Job."""
        src_rel, src = self._clone_path(vol, source, 'source_path')
        dst_rel, dst = self._clone_path(vol, destination, 'destination_path')
        if not os.path.isfile(src):
            raise errors.FileNotFound(
                f'Source file "{src_rel}" not found in volume {vol.name}.',
                target='source_path')
        self._check_destination(vol, dst_rel, dst, overwrite)
        self.check_space(vol, src, no_space)
        fsops.clone_file(src, dst, self.clone_mode)
        job = self._new_job(
            f'File clone {src_rel} -> {dst_rel} in volume {vol.name}')
        job.succeed(f'Clone of {dst_rel} created ({self.clone_mode}).')
        return job

    def _clone_path(self, vol, path, field):
        try:
            return self.resolve(vol, path)
        except PathOutside as e:
            if e.other is not None and e.other is not vol:
                raise errors.CrossVolume(
                    f'File clone across FlexVols is not supported: "{path}" '
                    f'is in volume {e.other.name}, the request names volume '
                    f'{vol.name}.', target=field) from None
            raise

    def _check_destination(self, vol, rel, target, overwrite):
        if os.path.isdir(target):
            raise errors.DestinationExists(
                f'Destination "{rel}" is a directory.',
                target='destination_path')
        if os.path.lexists(target) and not overwrite:
            raise errors.DestinationExists(
                f'Destination file "{rel}" already exists in volume '
                f'{vol.name}.', target='destination_path')
        if not os.path.isdir(os.path.dirname(target)):
            raise errors.FileNotFound(
                f'Destination directory of "{rel}" does not exist.',
                target='destination_path')

    def copy_side(self, side, what):
        """``(volume, rel, abs)`` of one side of a file copy request.

        Accepts ``volume.uuid``/``volume.name`` with a path relative to the
        volume, Cinder's ``"<volume name>/<file>"`` form, and ``svm.name``.
        """
        flat = flatten(side if isinstance(side, dict) else {})
        path = flat.get('path')
        if not isinstance(path, str) or not path.strip('/'):
            raise errors.BadRequest(f'{what}.path is required.',
                                    target=f'files_to_copy.{what}.path')
        svm_name = flat.get('svm.name')
        if flat.get('svm.uuid'):
            svm_name = self.svm(flat['svm.uuid']).name
        path = path.lstrip('/')
        if flat.get('volume.uuid'):
            vol = self.volume(flat['volume.uuid'])
        elif flat.get('volume.name'):
            vol = self.volume_by_name(flat['volume.name'], svm_name)
        else:
            vol = self.volume_by_name(path.split('/')[0], svm_name)
        if svm_name is not None and vol.svm.name != svm_name:
            raise errors.NotFound(
                f'Volume {vol.name} is not in SVM {svm_name}.',
                target='svm.name')
        if path.startswith(vol.name + '/'):
            path = path[len(vol.name) + 1:]
        rel, target = self.resolve(vol, path)
        return vol, rel, target

    def start_copy(self, files, max_throughput=None, faults=None,
                   overwrite=False, description=None):
        """Validate a file copy request and start its job thread."""
        if not isinstance(files, list) or not files:
            raise errors.BadRequest('files_to_copy must be a non-empty list.',
                                    target='files_to_copy')
        pairs = []
        for entry in files:
            entry = entry if isinstance(entry, dict) else {}
            svol, srel, src = self.copy_side(entry.get('source'), 'source')
            dvol, drel, dst = self.copy_side(entry.get('destination'),
                                             'destination')
            if not os.path.isfile(src):
                raise errors.FileNotFound(f'Source file "{srel}" not found in '
                                          f'volume {svol.name}.',
                                          target='source.path')
            self._check_destination(dvol, drel, dst, overwrite)
            pairs.append((src, dvol, dst))
        job = self._new_job(description or
                            f'File copy of {len(pairs)} file(s)')
        job.total = sum(os.path.getsize(p[0]) for p in pairs)
        job.thread = threading.Thread(
            target=self._run_copy, name=f'sim-copy-{job.uuid[:8]}',
            args=(job, pairs, max_throughput, dict(faults or {})),
            daemon=True)
        job.thread.start()
        return job

    def _run_copy(self, job, pairs, max_throughput, faults):
        throttle = [b for b in (max_throughput, faults.get('throttle_bps'))
                    if b]
        pct = faults.get('fail_after_percent')
        fail_at = None if pct is None else job.total * float(pct) / 100
        job.running()
        base = 0
        try:
            for src, dvol, dst in pairs:
                self.check_space(dvol, src, faults.get('no_space'))
                size = os.path.getsize(src)
                local_fail = None
                if fail_at is not None and fail_at <= base + size:
                    local_fail = max(0, int(fail_at - base))
                fsops.sparse_copy(
                    src, dst, throttle_bps=min(throttle) if throttle else None,
                    stop=job.stop, fail_at=local_fail,
                    progress=lambda pos, b=base: job.advance(b + pos))
                base += size
            job.succeed()
        except fsops.CopyStopped:
            job.fail('cancelled', 1)
        except fsops.CopyFault:
            job.fail(f'Injected failure after {pct}% of the copy '
                     f'({job.done_bytes} of {job.total} bytes).', 5)
        except errors.OntapError as e:
            job.fail(e.message, e.code)
        except OSError as e:
            job.fail(f'File copy failed: {e.strerror}', 5)

    # -- jobs --------------------------------------------------------------

    def _new_job(self, description):
        job = Job(self.new_uuid(), description)
        with self.lock:
            self.jobs[job.uuid] = job
        return job

    def _expire_jobs(self):
        now = time.monotonic()
        with self.lock:
            for key in [k for k, j in self.jobs.items()
                        if j.finished is not None and
                        now - j.finished > self.job_ttl]:
                del self.jobs[key]

    def job(self, job_uuid):
        self._expire_jobs()
        with self.lock:
            job = self.jobs.get(job_uuid)
        if job is None:
            raise errors.NotFound(f'Job "{job_uuid}" not found.',
                                  target='uuid')
        return job

    def job_records(self):
        self._expire_jobs()
        with self.lock:
            return [j.record() for j in self.jobs.values()]

    def cancel_job(self, job_uuid, wait=10.0):
        """Stop a queued or running job; it ends in failure "cancelled"."""
        job = self.job(job_uuid)
        if job.state in TERMINAL:
            return job
        job.stop.set()
        if job.thread is not None:
            job.thread.join(wait)
        if job.state not in TERMINAL:
            job.fail('cancelled', 1)
        return job

    # -- QoS policies and EMS ----------------------------------------------

    def qos_records(self):
        with self.lock:
            return [dict(p) for p in self.qos_policies.values()]

    def create_qos(self, body):
        name = body.get('name')
        if not name:
            raise errors.BadRequest('name is required.', target='name')
        if any(p['name'] == name for p in self.qos_records()):
            raise errors.DestinationExists(
                f'QoS policy "{name}" already exists.', target='name')
        flat = flatten(body)
        svm = self.svm(flat.get('svm.uuid') or flat.get('svm.name')
                       or self.default_vserver())
        policy = {'uuid': self.new_uuid(), 'name': name, 'svm': svm.ref()}
        for key in ('fixed', 'adaptive'):
            if isinstance(body.get(key), dict):
                policy[key] = dict(body[key])
        with self.lock:
            self.qos_policies[policy['uuid']] = policy
        return policy

    def update_qos(self, policy_uuid, body):
        with self.lock:
            policy = self.qos_policies.get(policy_uuid)
            if policy is None:
                raise errors.NotFound(
                    f'QoS policy "{policy_uuid}" not found.', target='uuid')
            for key in ('name', 'fixed', 'adaptive'):
                if key in body:
                    policy[key] = body[key]

    def delete_qos(self, policy_uuid):
        with self.lock:
            if self.qos_policies.pop(policy_uuid, None) is None:
                raise errors.NotFound(
                    f'QoS policy "{policy_uuid}" not found.', target='uuid')

    def log_ems(self, body):
        with self.lock:
            self.ems_events.append(dict(body or {}))
