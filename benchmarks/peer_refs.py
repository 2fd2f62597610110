# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The references of the peer benchmark: the bare ONTAP operation and ``cp``.

The bare operation is the least a client can ask of ONTAP: one POST on the
``netapp_ontap`` connection of an :class:`netapp_eic.ontap.OntapClient` (its
session: authentication, TLS verification against the simulator's CA),
with a JSON body and ``return_timeout`` so ONTAP answers when the job ends;
no resource object is built and no job is polled unless the job outlives
``return_timeout``. It stays the same whatever the drivers' own client code
becomes, so the figures before and after an optimization compare.

``cp`` copies (``--reflink=never``) or clones (``--reflink=auto``: a clone
on the XFS reflink data root, a copy on a plain one, as the simulator's
clones) the same file on the simulator's data root: what the disk itself
costs, never throttled.
"""

import contextlib
import os
import subprocess
import time

from netapp_ontap import host_connection

from netapp_eic import ontap
from netapp_eic.core import verify

import peer_stack

#: Seconds ONTAP may hold a bare request (the simulator's maximum).
RETURN_TIMEOUT = 120
JOB_POLL = 0.01
CLONE = 'bench-bare-clone'


class Bare:
    """Bare REST File Copy and file clone, and ``cp``, on one stack."""

    def __init__(self, stack):
        self.stack = stack
        sim = stack.sim
        connection = host_connection.HostConnection(
            sim.host, sim.username, sim.password, verify=sim.ca_file,
            port=sim.port, protocol_timeouts=(6, RETURN_TIMEOUT + 60))
        self.client = ontap.OntapClient(connection)
        self.session = connection.session
        self.api = connection.origin + '/api'
        self._flexvols = {}
        # Look the FlexVols up now: no lookup (nor the session's first TLS
        # handshake) inside a timed request.
        for name in (peer_stack.GLANCE_FLEXVOL, 'vol_cinder_a'):
            self.flexvol(name)

    def flexvol(self, name):
        """The FlexVol record (uuid, name) of ``name``, looked up once."""
        if name not in self._flexvols:
            self._flexvols[name] = self.client.resolve(
                '127.0.0.1', '/%s/x' % name).flexvol
        return self._flexvols[name]

    def local(self, flexvol, path):
        """The path of ``flexvol``'s ``path`` on the data root."""
        return os.path.join(self.stack.sim.shares[
            self.stack.share_of(flexvol)], path)

    # -- REST -----------------------------------------------------------------
    def _post(self, path, body):
        """POST an ONTAP action and wait for its job; returns the number of
        requests made."""
        response = self.session.post(
            self.api + path, params={'return_timeout': RETURN_TIMEOUT},
            json=body)
        calls = 1
        record = response.json() if response.content else {}
        if response.status_code == 202:
            job = record['job']['uuid']
            while True:
                time.sleep(JOB_POLL)
                record = self.session.get(
                    '%s/cluster/jobs/%s' % (self.api, job),
                    params={'fields': 'state,message'}).json()
                calls += 1
                if record.get('state') in ('success', 'failure'):
                    break
        # ONTAP answers 200/201 (no job state) when the job ended in
        # success within return_timeout, an error status when it failed.
        done = (response.status_code in (200, 201) or
                record.get('state') == 'success')
        if not done:
            raise peer_stack.BenchError('bare POST %s failed: HTTP %s %s' % (
                path, response.status_code, record))
        return calls

    def _ref(self, flexvol, path):
        vol = self.flexvol(flexvol)
        return {'volume': {'uuid': vol.uuid, 'name': vol.name},
                'path': path}

    def copy(self, src_vol, src_path, dst_vol, size, then_clone=False):
        """One bare File Copy of ``src_vol/src_path`` into ``dst_vol``;
        ``then_clone`` also clones the copy (a storm's least work)."""
        dst = 'bench-bare-copy'
        body = {'files_to_copy': [{'source': self._ref(src_vol, src_path),
                                   'destination': self._ref(dst_vol, dst)}]}
        clone = self._clone_body(dst_vol, dst)
        with self._removing(dst_vol, dst, size), \
                self._removing(dst_vol, CLONE, size if then_clone else None):
            start = time.perf_counter()
            calls = self._post('/storage/file/copy', body)
            if then_clone:
                calls += self._post('/storage/file/clone', clone)
            seconds = time.perf_counter() - start
        return peer_stack.Sample(seconds, calls, 1, 'file-copy')

    def clone(self, flexvol, src_path):
        """One bare file clone of ``src_path`` inside ``flexvol``."""
        size = os.path.getsize(self.local(flexvol, src_path))
        body = self._clone_body(flexvol, src_path)
        with self._removing(flexvol, CLONE, size):
            start = time.perf_counter()
            calls = self._post('/storage/file/clone', body)
            seconds = time.perf_counter() - start
        return peer_stack.Sample(seconds, calls, 0, 'clone')

    def _clone_body(self, flexvol, src_path):
        vol = self.flexvol(flexvol)
        return {'volume': {'uuid': vol.uuid, 'name': vol.name},
                'source_path': src_path, 'destination_path': CLONE}

    @contextlib.contextmanager
    def _removing(self, flexvol, name, size):
        """Check the made file's size (unless ``size`` is None, nothing
        expected), then remove it."""
        target = self.local(flexvol, name)
        try:
            yield
            made = os.path.getsize(target) if size is not None else None
            if made != size:
                raise peer_stack.BenchError('bare operation made %s with %d '
                                            'bytes, not %d' % (name, made,
                                                               size))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)

    # -- host hash ------------------------------------------------------------
    @staticmethod
    def host_hash(path, sha512):
        """The host hash of ``path`` as netapp-eic does it (sha512, Glance's
        default) against Glance's ``sha512``: what verifying it on the host
        costs, whatever overlaps it."""
        want = verify.Expected('sha512', sha512, None)
        start = time.perf_counter()
        verify.check_file(path, os.path.dirname(path), want, 'bench')
        seconds = time.perf_counter() - start
        return peer_stack.Sample(seconds, 0, 0, 'host hash')

    # -- cp -------------------------------------------------------------------
    def cp(self, src, dst_vol, reflink, then_reflink=False):
        """``cp`` of ``src`` (a data root path) into ``dst_vol``;
        ``then_reflink`` also clones the copy (``cp --reflink=auto``)."""
        name, size = 'bench-cp', os.path.getsize(src)
        target = self.local(dst_vol, name)
        argvs = [['cp', '--reflink=%s' % ('auto' if reflink else 'never'),
                  src, target]]
        if then_reflink:
            argvs.append(['cp', '--reflink=auto', target,
                          self.local(dst_vol, CLONE)])
        with self._removing(dst_vol, name, size), \
                self._removing(dst_vol, CLONE,
                               size if then_reflink else None):
            start = time.perf_counter()
            for argv in argvs:
                subprocess.run(argv, check=True)
            seconds = time.perf_counter() - start
        return peer_stack.Sample(seconds, 0, 0, 'cp')
