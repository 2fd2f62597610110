# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The runs of ``netapp-eic bench``: each EIC path against the bare ONTAP
operation it rests on and against a download through this host.

Everything runs in this process, from an installed package: the embedded
simulator (HTTPS on 127.0.0.1, FlexVols as directories of a plain data
root: clones are reflinks when its file system supports FICLONE, full
copies otherwise), the real ONTAP client and the EIC core
(:class:`~netapp_eic.core.engine.Engine`) over a
:class:`~netapp_eic.cmd.localhost.LocalHost`. Images are raw and fully
allocated. Before every cold run the pool's cache entry is removed; every
run's path is checked, and each path's first volume is compared byte for
byte with the image.
"""

import dataclasses
import hashlib
import math
import os
import shutil
import statistics
import time
import typing
import uuid

from netapp_ontap import host_connection

from netapp_eic.cmd.localhost import LocalHost
from netapp_eic.core import cache
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import CreateRequest, Route, Settings
from netapp_eic import ontap

POOL = '127.0.0.1:/vol_cinder_a'
OTHER_POOL = '127.0.0.1:/vol_cinder_b'
GLANCE_VOL = 'vol_glance'
CHUNK = 1024 * 1024

# Rows of the table and bars of the chart, in order.
WARM = 'cache clone (warm)'
DIRECT = 'direct clone (cold)'
FILE_COPY = 'File Copy (cold)'
OFFLOAD = 'copy offload tool (cold)'
BARE_CLONE = 'bare ONTAP file clone'
BARE_COPY = 'bare ONTAP File Copy'
DOWNLOAD = 'download through this host'
#: The bare operation each EIC path rests on.
BARE_OF = {WARM: BARE_CLONE, DIRECT: BARE_CLONE, FILE_COPY: BARE_COPY,
           OFFLOAD: BARE_COPY}
KIND = {WARM: 'eic', DIRECT: 'eic', FILE_COPY: 'eic', OFFLOAD: 'eic',
        BARE_CLONE: 'bare', BARE_COPY: 'bare', DOWNLOAD: 'download'}


class BenchError(Exception):
    """A run took another path than expected or produced wrong bytes."""


@dataclasses.dataclass
class Timing:
    name: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def kind(self) -> str:
        return KIND[self.name]


@dataclasses.dataclass
class Image:
    image_id: str
    meta: dict[str, typing.Any]
    location: tuple[None, list[dict[str, typing.Any]]]
    digest: str
    size: int


class BenchRun:
    """One benchmark on a started simulator ``sim``.

    :param status: called with a line saying what runs now.
    """

    def __init__(self, sim: typing.Any, workdir: str, size_mib: int,
                 runs: int,
                 status: typing.Callable[[str], None] = lambda text: None
                 ) -> None:
        self.sim = sim
        self.workdir = workdir
        self.size = size_mib * CHUNK
        self.runs = runs
        self.status = status
        self.client = ontap.OntapClient(host_connection.HostConnection(
            sim.host, sim.username, sim.password, verify=sim.ca_file,
            port=sim.port))
        self.host = LocalHost(sim.shares, [POOL, OTHER_POOL])
        self.pool_dir = sim.shares[POOL]
        self.flexvol = self.client.resolve('127.0.0.1', '/vol_cinder_a/x')
        tool = sim.write_copyoffload_tool(workdir)
        self.engines = {
            False: engine_mod.Engine(self.client, self.host, Settings()),
            True: engine_mod.Engine(self.client, self.host, Settings(
                copyoffload_tool_path=tool))}
        self.volume_gib = max(1, math.ceil(self.size / 1024 ** 3))

    # -- images -------------------------------------------------------------

    def image(self, flexvol: str, subdir: str) -> Image:
        """A raw image of random bytes stored where Glance's NFS store
        would keep it, with Glance's metadata and an ``nfs://`` location."""
        image_id = str(uuid.uuid4())
        directory = os.path.join(self.sim.shares['127.0.0.1:/' + flexvol],
                                 subdir)
        os.makedirs(directory, exist_ok=True)
        sha512, md5 = hashlib.sha512(), hashlib.md5(usedforsecurity=False)
        with open(os.path.join(directory, image_id), 'wb') as image_file:
            for _ in range(self.size // CHUNK):
                chunk = os.urandom(CHUNK)
                image_file.write(chunk)
                sha512.update(chunk)
                md5.update(chunk)
        url = 'nfs://127.0.0.1/%s/%s/%s' % (flexvol, subdir, image_id)
        meta = {'id': image_id, 'status': 'active', 'disk_format': 'raw',
                'container_format': 'bare', 'size': self.size,
                'virtual_size': self.size, 'checksum': md5.hexdigest(),
                'os_hash_algo': 'sha512',
                'os_hash_value': sha512.hexdigest(), 'min_disk': 0}
        return Image(image_id, meta, (None, [{'url': url, 'metadata': {}}]),
                     sha512.hexdigest(), self.size)

    # -- runs ---------------------------------------------------------------

    def run(self) -> list[Timing]:
        """Every row, in the table's order."""
        remote = self.image(GLANCE_VOL, 'images')
        local = self.image('vol_cinder_a', 'glance-images')
        timings = [
            Timing(WARM, self.warm(remote)),
            Timing(DIRECT, self.cold(local, Route.DIRECT_CLONE)),
            Timing(FILE_COPY, self.cold(remote, Route.FILE_COPY)),
            Timing(OFFLOAD, self.cold(remote, Route.COPY_OFFLOAD, tool=True)),
            Timing(BARE_CLONE, self.bare_clone(local)),
            Timing(BARE_COPY, self.bare_copy(remote)),
            Timing(DOWNLOAD, self.download(remote)),
        ]
        return timings

    def create(self, image: Image, expected: Route, number: int,
               tool: bool = False) -> float:
        name = 'volume-bench-%d' % number
        request = CreateRequest(
            volume_id='bench-%d' % number, volume_name=name,
            size_bytes=self.volume_gib * 1024 ** 3, pool=POOL,
            image_meta=image.meta, image_location=image.location)
        start = time.perf_counter()
        outcome = self.engines[tool].create(request)
        seconds = time.perf_counter() - start
        if outcome.path is not expected:
            raise BenchError('expected path %s, took %s (%s)' % (
                expected, outcome.path, '; '.join(
                    list(outcome.skipped) + ['%s failed: %s' % f
                                             for f in outcome.failures])))
        path = os.path.join(self.pool_dir, name)
        if number == 0:
            self.check_bytes(path, image, str(expected))
        os.unlink(path)
        return seconds

    def cold(self, image: Image, expected: Route,
             tool: bool = False) -> list[float]:
        times = []
        for number in range(self.runs):
            self.status('%s: run %d of %d' % (expected, number + 1,
                                              self.runs))
            self.forget(image)
            times.append(self.create(image, expected, number, tool))
        self.forget(image)
        return times

    def warm(self, image: Image) -> list[float]:
        self.forget(image)
        self.create(image, Route.FILE_COPY, self.runs)
        times = []
        for number in range(self.runs):
            self.status('cache clone: run %d of %d' % (number + 1, self.runs))
            times.append(self.create(image, Route.CACHE_CLONE, number))
        self.forget(image)
        return times

    def forget(self, image: Image) -> None:
        """Remove the pool's cache entry of ``image`` (a cold start)."""
        cache.ImageCache(self.pool_dir, 'vol_cinder_a').remove(
            image.image_id)

    def bare_clone(self, image: Image) -> list[float]:
        src = 'glance-images/%s' % image.image_id
        return [self._timed(lambda dst: self.client.clone_file(
            self.flexvol.flexvol, src, dst), 'bare-clone', n, image)
            for n in range(self.runs)]

    def bare_copy(self, image: Image) -> list[float]:
        src = self.client.resolve('127.0.0.1', '/%s/images/%s' % (
            GLANCE_VOL, image.image_id))
        settings = Settings()

        def copy(dst: str) -> None:
            job = self.client.start_copy(
                src, ontap.ResolvedPath(self.flexvol.flexvol, dst),
                settings.file_copy_return_timeout)
            if job is not None:
                self.client.wait_job(job, settings.file_copy_timeout)
        return [self._timed(copy, 'bare-copy', n, image)
                for n in range(self.runs)]

    def download(self, image: Image) -> list[float]:
        src = os.path.join(self.sim.shares['127.0.0.1:/' + GLANCE_VOL],
                           'images', image.image_id)

        def stream(dst: str) -> None:
            # Flushed to disk as a volume's data must be; no Glance HTTP
            # and no conversion: a lower bound of Cinder's download.
            with open(src, 'rb') as fsrc, open(
                    os.path.join(self.pool_dir, dst), 'wb') as fdst:
                shutil.copyfileobj(fsrc, fdst, CHUNK)
                fdst.flush()
                os.fsync(fdst.fileno())
        return [self._timed(stream, 'download', n, image)
                for n in range(self.runs)]

    def _timed(self, operation: typing.Callable[[str], None], what: str,
               number: int, image: Image) -> float:
        self.status('%s: run %d of %d' % (what, number + 1, self.runs))
        dst = 'bench-%s-%d' % (what, number)
        try:
            start = time.perf_counter()
            operation(dst)
            seconds = time.perf_counter() - start
            if number == 0:
                self.check_bytes(os.path.join(self.pool_dir, dst), image,
                                 what)
        finally:
            if os.path.exists(os.path.join(self.pool_dir, dst)):
                os.unlink(os.path.join(self.pool_dir, dst))
        return seconds

    @staticmethod
    def check_bytes(path: str, image: Image, what: str) -> None:
        digest = hashlib.sha512()
        with open(path, 'rb') as volume:
            remaining = image.size
            while remaining:
                chunk = volume.read(min(CHUNK, remaining))
                if not chunk:
                    break
                digest.update(chunk)
                remaining -= len(chunk)
        if digest.hexdigest() != image.digest:
            raise BenchError('%s wrote other bytes than the image' % what)
