# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The steps every scenario is made of, on a running :class:`E2EStack`.

:class:`Run` uploads images through Glance, creates volumes through the
Block Storage API and checks each volume's bytes in its FlexVol. Beside
the driver's own report (:mod:`tests.e2e.driverlog`), every create is also
observed from outside: whether the bytes went through a Glance download
(Glance's access log), an ONTAP File Copy or only clones (the simulator's
request log). The time-to-available figures go to :class:`Table`.
"""

import dataclasses
import itertools
import os

from tests.e2e import clients
from tests.e2e import content
from tests.e2e import driverlog
from tests.e2e import stack as stack_mod
from tests.e2e import storage

EIC, INTREE = stack_mod.EIC, stack_mod.INTREE
FILE_COPY = '/api/storage/file/copy'


@dataclasses.dataclass
class Created:
    """A volume created from an image, as seen from outside."""

    volume_id: str
    backend: str
    pool: str
    seconds: float
    observed: str        # 'download', 'file-copy' or 'clone'
    copies: list[dict]   # the File Copy requests sent meanwhile


class Table:
    """Time to ``available`` per scenario and backend."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, tuple[float, str]]] = {}
        #: Smaller tables of single scenarios: title -> lines.
        self.sections: dict[str, list[str]] = {}

    def add(self, scenario: str, backend: str, seconds: float,
            how: str) -> None:
        self.rows.setdefault(scenario, {})[backend] = (seconds, how)

    def add_section(self, title: str, lines: list[str]) -> None:
        self.sections[title] = list(lines)

    def render(self) -> list[str]:
        head = '%-46s %-22s %9s   %-10s %9s %7s' % (
            'scenario', 'netapp-eic path', 'eic s', 'in-tree', 'in-tree s',
            'ratio')
        lines = [head, '-' * len(head)]
        for scenario, cells in self.rows.items():
            eic = cells.get(EIC)
            intree = cells.get(INTREE)
            ratio = ('%.1fx' % (intree[0] / eic[0]) if eic and intree and
                     eic[0] > 0 else '')
            lines.append('%-46s %-22s %9s   %-10s %9s %7s' % (
                scenario, eic[1] if eic else '-',
                '%.2f' % eic[0] if eic else '-',
                intree[1] if intree else '-',
                '%.2f' % intree[0] if intree else '-', ratio))
        return lines


class Run:
    """User-level steps against one stack."""

    def __init__(self, stack: stack_mod.E2EStack, api: clients.Api,
                 table: Table, size_mib: int):
        self.stack = stack
        self.api = api
        self.table = table
        self.size_mib = size_mib
        self.image_dir = os.path.join(stack.run_dir, 'images')
        self._seeds = itertools.count(1)

    # ------------------------------------------------------------ images
    def image(self, store: str, disk_format: str = 'raw',
              size_mib: int | None = None) -> tuple[str, content.Image]:
        """A new image with content of its own, uploaded to ``store``."""
        seed = next(self._seeds)
        name = 'img-%d' % seed
        image = content.make_image(self.image_dir, name,
                                   size_mib or self.size_mib, seed,
                                   disk_format)
        image_id = self.api.upload_image(image.path, name, disk_format,
                                         store)
        return image_id, image

    # ------------------------------------------------------------ volumes
    def volume_type(self, backend: str, flexvol: str | None = None) -> str:
        return self.api.volume_type(
            backend, storage.share(flexvol) if flexvol else None)

    def create(self, image_id: str, image: content.Image, backend: str,
               flexvol: str | None = None, size_gib: int = 1) -> Created:
        """Create a volume from the image, wait until available, check its
        bytes in the FlexVol; returns what was observed."""
        vtype = self.volume_type(backend, flexvol)
        requests_before = len(self.stack.storage.requests())
        downloads_before = self.downloads(image_id)
        volume_id, seconds = self.api.create_and_time(image_id, vtype,
                                                      size_gib)
        copies = self.file_copies_since(requests_before)
        downloaded = self.downloads(image_id) > downloads_before
        observed = ('download' if downloaded else
                    'file-copy' if copies else 'clone')
        created = Created(volume_id, backend, self.pool(volume_id), seconds,
                          observed, copies)
        self.assert_bytes(volume_id, image, size_gib)
        return created

    def pool(self, volume_id: str) -> str:
        """The share (pool) the volume was placed in."""
        host = getattr(self.api.volume(volume_id), 'os-vol-host-attr:host')
        return str(host).split('#', 1)[1]

    def volume_file(self, volume_id: str, pool: str | None = None) -> str:
        """The volume's file in its FlexVol directory (server side)."""
        flexvol = (pool or self.pool(volume_id)).split(':/', 1)[1]
        return os.path.join(self.stack.storage.flexvol_dir(flexvol),
                            'volume-%s' % volume_id)

    def assert_bytes(self, volume_id: str, image: content.Image,
                     size_gib: int = 1) -> None:
        problem = content.volume_mismatch(self.volume_file(volume_id), image,
                                          size_gib)
        assert problem is None, problem

    def downloads(self, image_id: str) -> int:
        """Glance data downloads of the image so far (access log)."""
        assert self.stack.glance is not None
        needle = 'GET /v2/images/%s/file ' % image_id
        with open(self.stack.glance.access_log, errors='replace') as log:
            return sum(1 for line in log if needle in line)

    # ------------------------------------------------------------ driver
    def driver_report(self, volume_id: str) -> driverlog.Create:
        """The driver's one INFO line for this create (exactly one, in the
        log of whichever volume service took it)."""
        found = self.driver_reports().get(volume_id, [])
        assert len(found) == 1, (
            'expected one EIC line for volume %s in %s, found %d' % (
                volume_id, ', '.join(self._volume_logs()), len(found)))
        return found[0]

    def driver_reports(self) -> dict[str, list[driverlog.Create]]:
        """Every create the driver reported, by volume, in the logs of
        every volume service started (running or stopped since)."""
        found: dict[str, list[driverlog.Create]] = {}
        for log_path in self._volume_logs():
            for volume_id, reports in driverlog.creates(log_path).items():
                found.setdefault(volume_id, []).extend(reports)
        return found

    def registrations(self) -> list[tuple[str, str]]:
        return [r for log_path in self._volume_logs()
                for r in driverlog.cache_registrations(log_path)]

    def _volume_logs(self) -> list[str]:
        assert self.stack.cinder is not None
        return self.stack.cinder.volume_logs

    def flexvol_entries(self, flexvol: str) -> set[str]:
        return set(os.listdir(self.stack.storage.flexvol_dir(flexvol)))

    def strays(self, flexvol: str) -> list[str]:
        """Entries of the FlexVol root that belong to no volume and no
        image (a temporary file left behind would be one)."""
        known = {v.id for v in self.api.cinder.volumes.list()}
        # visibility=all: community images too (Glance's default list
        # leaves them out).
        known |= {str(i['id']) for i in self.api.glance.images.list(
            filters={'visibility': 'all'})}
        return sorted(e for e in self.flexvol_entries(flexvol)
                      if e != 'glance-images' and
                      not any(k in e for k in known))

    def file_copies_since(self, index: int) -> list[dict]:
        """File Copy requests in the simulator's log after ``index``."""
        return [r for r in self.stack.storage.requests()[index:]
                if r['method'] == 'POST' and r['path'] == FILE_COPY]

    def record(self, scenario: str, created: Created,
               how: str | None = None) -> None:
        self.table.add(scenario, created.backend, created.seconds,
                       how or created.observed)
