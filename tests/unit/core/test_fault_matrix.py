# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Every injected fault against every step.

Each cell sets up one step (direct clone, cache clone, File Copy, copy
offload tool, conversion, registration of a downloaded volume), injects
one fault (an ONTAP status on a call the steps use, a delay, a copy that
fails half-way, no space; or a host fault: conversion failure, tool failure
or hang, a file that does not show on the mount), runs it, and asserts:

* a correct volume (its bytes are the image's) or a clean decline;
* nothing left in any FlexVol: no temporary, no volume file after a
  decline, a cache entry only if it holds the image's bytes;
* with the fault gone, the next create (registration) works.

Set ``EIC_FAULT_MATRIX_REPORT`` to a file path to get the per-cell results
as JSON.
"""

import json
import os
import stat
import uuid

from netapp_ontap import HostConnection
import pytest

from netapp_eic.core import cache
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Route, Registration, Settings
from netapp_eic.core import verifications
from netapp_eic.core import visibility
from netapp_eic import exception
from netapp_eic import ontap
from netapp_eic.simulator import Simulator
from netapp_eic_testing import images
from tests.unit.core import fakes
from tests.unit.core.helpers import (MiB, POOL_A, POOL_B, glance_on,
                                     new_files, request, tree)

SIZE = 1 * MiB
STEPS = ('direct-clone', 'cache-clone', 'file-copy', 'copy-offload',
         'conversion', 'register')
VOLUMES = '/api/storage/volumes'
FILES = '/api/storage/volumes/*/files/*'
SIM_FAULTS = {
    'GET interfaces 500': dict(method='GET', path='/api/network/ip/*',
                               status=500),
    'GET volumes 500': dict(method='GET', path=VOLUMES, status=500),
    'GET file 500': dict(method='GET', path=FILES, status=500),
    'POST clone 500': dict(method='POST', path='/api/storage/file/clone',
                           status=500),
    'POST copy 500': dict(method='POST', path='/api/storage/file/copy',
                          status=500),
    'GET job 500': dict(method='GET', path='/api/cluster/jobs/*',
                        status=500),
    'PATCH job 500': dict(method='PATCH', path='/api/cluster/jobs/*',
                          status=500),
    'DELETE file 500': dict(method='DELETE', path=FILES, status=500),
    'GET cluster 500': dict(method='GET', path='/api/cluster', status=500),
    'GET nfs 500': dict(method='GET', path='/api/protocols/nfs/*',
                        status=500),
    'all 401': dict(method='*', path='/api/*', status=401),
    'copy tool 500': dict(method='POST', path='/_sim/copyoffload',
                          status=500),
    'delay copy': dict(method='POST', path='/api/storage/file/copy',
                       delay=0.3),
    'delay clone': dict(method='POST', path='/api/storage/file/clone',
                        delay=0.3),
    'copy fails at 50%': dict(method='POST', path='/api/storage/file/copy',
                              fail_after_percent=50),
    'tool copy fails at 50%': dict(method='POST', path='/_sim/copyoffload',
                                   fail_after_percent=50),
    'no space clone': dict(method='POST', path='/api/storage/file/clone',
                           no_space=True),
    'no space copy': dict(method='POST', path='/api/storage/file/copy',
                          no_space=True),
}
HOST_FAULTS = ('conversion fails', 'tool fails', 'tool hangs',
               'not visible on the mount')
RESULTS = {}


@pytest.fixture(scope='module')
def msim(tmp_path_factory):
    data_root = tmp_path_factory.mktemp('matrix') / 'data'
    data_root.mkdir()
    with Simulator(data_root=str(data_root), seed=5) as sim:
        yield sim
    target = os.environ.get('EIC_FAULT_MATRIX_REPORT')
    if target:
        with open(target, 'w') as f:
            json.dump(RESULTS, f, indent=1, sort_keys=True)


class FaultyHost(fakes.FakeHost):
    """The fake host with a conversion that fails half-way (its partial
    output left for the step to clean up)."""

    fail_conversion = False

    def convert_image(self, source, dest, source_format):
        if self.fail_conversion:
            with open(dest, 'wb') as f:
                f.write(b'\0' * 4096)
            raise exception.ConversionFailed(reason='injected failure')
        super().convert_image(source, dest, source_format)


def tool_script(directory, name, body):
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n' + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


class Cell:
    """One step under one fault."""

    def __init__(self, sim, workdir, step, fault):
        self.sim, self.step, self.fault = sim, step, fault
        self.host = FaultyHost(sim.shares, mounted=[POOL_A, POOL_B])
        tool = None
        if step == 'copy-offload':
            tool = sim.write_copyoffload_tool(workdir)
            if fault == 'tool fails':
                tool = tool_script(workdir, 'failing-tool',
                                   'echo injected >&2; exit 1\n')
            elif fault == 'tool hangs':
                tool = tool_script(workdir, 'hanging-tool', 'sleep 300\n')
        self.settings = Settings(
            visibility_timeout=2.0, file_copy_return_timeout=0,
            file_copy_timeout=20, copyoffload_tool_path=tool,
            copyoffload_timeout=1.0)
        conn = HostConnection(sim.host, sim.username, sim.password,
                              verify=sim.ca_file, port=sim.port)
        self.engine = engine_mod.Engine(
            ontap.OntapClient(conn, poll_initial_interval=0.01,
                              poll_max_interval=0.1), self.host,
            self.settings)
        local = step == 'direct-clone'
        self.glance = glance_on(sim, 'vol_cinder_a' if local else
                                'vol_glance', 'gl-images' if local else
                                'images')
        fmt = 'qcow2' if step == 'conversion' else 'raw'
        src = os.path.join(workdir, 'src')
        images.make_image(src, fmt, SIZE, seed=hash((step, fault)) % 1000)
        self.image_id = self.glance.add_image(src, fmt)
        self.digest = images.raw_bytes_digest(src, fmt)
        self.names = iter('volume-%s' % uuid.uuid4().hex for _ in range(9))
        self.made = []
        if step == 'cache-clone':
            assert self.create().path is Route.FILE_COPY
        if step == 'register':
            self.downloaded = next(self.names)
            with open(os.path.join(self.pool_dir, self.downloaded),
                      'wb') as f:
                with open(src, 'rb') as image:
                    f.write(image.read())
                f.truncate(4 * SIZE)

    @property
    def pool_dir(self):
        return self.sim.shares[POOL_A]

    def create(self):
        self.volume = next(self.names)
        outcome = self.engine.create(request(self.glance, self.image_id,
                                             name=self.volume))
        if outcome.cloned:
            self.made.append(self.volume)
        return outcome

    def register(self):
        try:
            done, _why = self.engine.register(
                self.downloaded, POOL_A, self.glance.show(None,
                                                          self.image_id),
                SIZE)
        except exception.EicError:
            return False
        return done is Registration.REGISTERED

    def inject(self, monkeypatch):
        if self.fault in SIM_FAULTS:
            self.sim.add_fault(**SIM_FAULTS[self.fault])
        elif self.fault == 'conversion fails':
            self.host.fail_conversion = True
        elif self.fault == 'not visible on the mount':
            # The NFS client's attribute cache cannot be made stale on the
            # simulator's local directories: the wait itself reports a
            # file that did not show in time, once.
            real = visibility.wait_visible
            calls = []

            def late(path, timeout):
                calls.append(path)
                if len(calls) == 1:
                    raise exception.NotVisible(path=path, timeout=timeout)
                real(path, timeout)
            monkeypatch.setattr(visibility, 'wait_visible', late)

    def clear(self, monkeypatch):
        self.sim.clear_faults()
        self.host.fail_conversion = False
        monkeypatch.undo()

    def entry_ok(self):
        entry = os.path.join(self.pool_dir, cache.entry_name(self.image_id))
        return (not os.path.lexists(entry) or
                images.raw_bytes_digest(entry, 'raw', SIZE) == self.digest)

    def check_files(self, before):
        """Files added anywhere, beyond the volumes made and the entry."""
        allowed = {cache.entry_name(self.image_id),
                   cache.record_name(self.image_id), *self.made}
        extra = []
        for vol, names in new_files(before, tree(self.sim)).items():
            # A verification record of the image's Glance file may stay:
            # the file was verified, whatever failed after.
            extra += ['%s/%s' % (vol, n) for n in names
                      if vol != 'vol_cinder_a' or not (
                          n in allowed or verifications.image_of(n) ==
                          self.image_id)]
        return extra

    def volume_ok(self, outcome):
        path = os.path.join(self.pool_dir, self.volume)
        if outcome.cloned:
            return images.raw_bytes_digest(path, 'raw', SIZE) == self.digest
        return not os.path.lexists(path)


@pytest.mark.parametrize('fault', list(SIM_FAULTS) + list(HOST_FAULTS))
@pytest.mark.parametrize('step', STEPS)
def test_fault(msim, tmp_path, monkeypatch, step, fault):
    cell = Cell(msim, str(tmp_path), step, fault)
    before = tree(msim)
    cell.inject(monkeypatch)
    try:
        if step == 'register':
            made = cell.register()
            ok = True
        else:
            outcome = cell.create()
            made = outcome.cloned
            ok = cell.volume_ok(outcome)
    finally:
        cell.clear(monkeypatch)
    left = cell.check_files(before)
    RESULTS['%s | %s' % (step, fault)] = {
        'result': 'volume' if made else 'declined', 'correct': ok,
        'entry_ok': cell.entry_ok(), 'files_left': left}
    assert ok, 'wrong bytes or a volume file left after a decline'
    assert cell.entry_ok(), 'a cache entry with other bytes'
    assert left == []
    # The fault is gone: the next attempt works.
    if step == 'register':
        assert cell.register() or os.path.exists(os.path.join(
            cell.pool_dir, cache.entry_name(cell.image_id)))
    else:
        again = cell.create()
        assert again.cloned, again
        assert cell.volume_ok(again)
    assert cell.entry_ok()
    assert cell.check_files(before) == []


def test_every_step_was_planned_as_intended(msim, tmp_path, monkeypatch):
    """Guard for the matrix: without a fault each cell takes its step."""
    expected = {'direct-clone': Route.DIRECT_CLONE,
                'cache-clone': Route.CACHE_CLONE,
                'file-copy': Route.FILE_COPY,
                'copy-offload': Route.COPY_OFFLOAD,
                'conversion': Route.FILE_COPY}
    for step, path in expected.items():
        workdir = tmp_path / step
        workdir.mkdir()
        cell = Cell(msim, str(workdir), step, 'none')
        outcome = cell.create()
        assert outcome.path is path, (step, outcome)
        if step == 'conversion':
            assert cell.host.conversions
    reg = Cell(msim, str(tmp_path), 'register', 'none')
    assert reg.register() is True
