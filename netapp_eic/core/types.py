# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The values the EIC core takes and returns: plain data, no Cinder objects.

The driver turns a Cinder volume into a :class:`CreateRequest` and its
configuration into :class:`Settings`; the core answers with an
:class:`Outcome`. The enums name the states that were bare strings before:
the ways a volume can be made (:class:`Route`), what a cache lookup found
(:class:`CacheState`) and where a source file's bytes come from
(:class:`SourceKind`).
"""

import collections.abc
import dataclasses
import enum
import typing

if typing.TYPE_CHECKING:  # a value type of the client, no import at run
    from netapp_eic.ontap.calls import FlexVol


#: Glance's image metadata, as Cinder passes it to the driver.
ImageMeta = collections.abc.Mapping[str, typing.Any]


def image_id_of(image_meta: ImageMeta) -> str:
    """The image's id, as the cache and the records name it."""
    return str(image_meta['id'])


class _Named(str, enum.Enum):
    """An enum whose members print as their value (in logs and tables)."""

    def __str__(self) -> str:
        return str(self.value)


class Route(_Named):
    """The ways a volume can be created from an image, fastest first."""

    CACHE_CLONE = 'cache-clone'
    DIRECT_CLONE = 'direct-clone'
    COPY_OFFLOAD = 'copy-offload'
    FILE_COPY = 'file-copy'
    DOWNLOAD = 'download'


def faster(path: Route, than: Route) -> bool:
    """Whether ``path`` comes before ``than`` in the order of preference."""
    order = list(Route)
    return order.index(path) < order.index(than)


class CacheState(_Named):
    """What a lookup of an image's cache entry in one FlexVol found."""

    FRESH = 'fresh'
    #: Built by the in-tree driver (no record): adopted once checked.
    LEGACY = 'legacy'
    STALE = 'stale'
    MISSING = 'missing'
    DISABLED = 'disabled'
    UNKNOWN = 'unknown'


class SourceKind(_Named):
    """Where a source file on the cluster comes from."""

    #: A Glance image file: bytes in the image's declared ``disk_format``.
    IMAGE = 'image'
    #: Another pool's cache entry: raw bytes, checked when it was built.
    CACHE = 'cache'


class Registration(_Named):
    """What registering a downloaded volume in the cache did."""

    REGISTERED = 'registered'
    ALREADY_PRESENT = 'already-present'
    SKIPPED = 'skipped'


@dataclasses.dataclass(frozen=True)
class Source:
    """A file on the cluster holding the image's bytes."""

    kind: SourceKind
    svm: str
    flexvol: str
    path: str
    ip: str
    label: str
    #: The bytes were checked against Glance (a cache entry built from
    #: verified bytes); a copy of such a file inherits the verification.
    verified: bool = False
    #: The FlexVol as the facts resolved it (the step does not look it up
    #: again).
    volume: 'FlexVol | None' = None

    @property
    def is_cache(self) -> bool:
        return self.kind is SourceKind.CACHE

    def describe(self) -> str:
        """``Glance file images/<id> in FlexVol vol_glance`` or ``cache
        entry img-cache-<id> in FlexVol vol_b``, for the per-create line."""
        what = 'cache entry' if self.is_cache else 'Glance file'
        return '%s %s in FlexVol %s' % (what, self.path, self.flexvol)


#: How an outcome's ``verified`` begins when nothing checked the bytes.
UNVERIFIED = 'not verified'

#: What a run of the copy offload tool may take beyond its copy at the
#: slowest rate: starting, finding the files over NFS, vStorage set-up.
TOOL_START_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class Settings:
    """The backend's EIC configuration, read once by the driver.

    ``convert_images`` is already False when Cinder's
    ``image_conversion_disable`` forbids conversion.
    ``max_image_virtual_size`` is in bytes, 0 for no limit;
    ``copyoffload_timeout`` None means a bound derived from the image's
    size (:meth:`tool_bound`).
    """

    cache_enabled: bool = True
    #: Check image bytes against Glance's hash; serve only cache entries
    #: whose bytes were (or that have no hash to check against).
    verify_content: bool = True
    #: Budgets per FlexVol; 0 means unlimited.
    cache_max_entries: int = 0
    cache_max_bytes: int = 0
    #: Budget per FlexVol as a percentage of its size; 0 means unlimited.
    cache_max_percent: int = 0
    #: Which entries go first (:class:`netapp_eic.core.eviction.Policy`),
    #: and the half-life of a use in ``gdsf``'s value, in uses of the
    #: pool's entries.
    cache_eviction_policy: str = 'gdsf'
    cache_half_life_uses: int = 250
    #: Free space (percent of the FlexVol) below which entries are evicted
    #: (in the policy's order) until it is back above the stop value.
    space_start_percent: int = 20
    space_stop_percent: int = 60
    convert_images: bool = True
    copyoffload_tool_path: str | None = None
    copyoffload_timeout: float | None = None
    #: The slowest rate (bytes/s) of a copy offload tool run that is not
    #: treated as hung.
    copyoffload_min_rate: float = 50 * 1024 ** 2
    #: The tool's breaker: open this long after a failure, doubling while
    #: it keeps failing up to ``copyoffload_breaker_longest``; its state
    #: file (None: memory only).
    copyoffload_breaker_period: float = 300.0
    copyoffload_breaker_longest: float = 3600.0
    copyoffload_breaker_file: str | None = None
    #: Create (or extend) the intracluster SVM peer relationship a File
    #: Copy from another SVM needs, instead of skipping File Copy.
    create_svm_peers: bool = False
    #: Record verified Glance files for every host (see
    #: :mod:`netapp_eic.core.verifications`).
    verification_records: bool = True
    #: Ask ONTAP for a file's digest (sha256; md5 only when
    #: ``fingerprint_md5``) instead of hashing on the host.
    array_fingerprints: bool = True
    fingerprint_md5: bool = False
    #: The slowest rate (bytes/s) of a fingerprint before it is aborted.
    fingerprint_min_rate: float = 100 * 1024 ** 2
    #: What a fingerprint may take beyond reading at that rate.
    fingerprint_start: float = 30.0
    #: Mount read-only the Glance FlexVols image locations name (on a
    #: pool's SVM).
    mount_glance_flexvols: bool = True
    file_copy_timeout: float = 600.0
    file_copy_return_timeout: int = 120
    visibility_timeout: float = 10.0
    max_image_virtual_size: int = 1024 ** 4

    def tool_bound(self, size: int) -> float:
        """Bound on one run of the copy offload tool for a file of
        ``size`` bytes, seconds: ``copyoffload_timeout`` when set, else
        :data:`TOOL_START_SECONDS` plus the size at the slowest rate."""
        if self.copyoffload_timeout:
            return self.copyoffload_timeout
        return TOOL_START_SECONDS + size / self.copyoffload_min_rate

    def fingerprint_bound(self, size: int) -> float:
        """Bound on an array fingerprint of ``size`` bytes, seconds."""
        return self.fingerprint_start + size / self.fingerprint_min_rate

    @property
    def longest_copy(self) -> float:
        """The longest a step may keep writing a temporary file without
        touching it (a tool run past this keeps writing, so its file's
        modification time stays recent)."""
        return max(self.file_copy_timeout, self.copyoffload_timeout or 0.0)


@dataclasses.dataclass(frozen=True)
class CreateRequest:
    """One create-from-image, as plain values.

    :ivar pool: the destination share (``ip:/junction``).
    :ivar image_meta: Glance's image metadata (``id``, ``disk_format``,
        ``os_hash_value``...), as Cinder passes it.
    :ivar image_location: ``(direct_url, locations)`` as Cinder passes it.
    """

    volume_id: str
    volume_name: str
    size_bytes: int
    pool: str
    image_meta: ImageMeta
    image_location: typing.Any = None

    @property
    def image_id(self) -> str:
        return image_id_of(self.image_meta)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a create did, for the INFO line, the demo and the tests; a
    value, built once when the create ends.

    ``volume_file`` is the local path of the finished volume file (visible
    on the mount, at the requested size) when a fast path succeeded.
    ``source`` names the file the volume's bytes came from (a cache entry
    or a Glance file, and its FlexVol), ``converted_from`` the format a
    conversion on this host read (its bytes are in ``host_bytes``),
    ``verified`` what checked the bytes (filled by the verification step),
    and ``waited`` says that the request waited for another request's
    copy of the same image (single-flight) instead of copying.
    """

    path: Route
    seconds: float = 0.0
    host_bytes: int = 0
    note: str = ''
    skipped: tuple[str, ...] = ()
    failures: tuple[tuple[str, str], ...] = ()
    volume_file: str | None = None
    source: str = ''
    converted_from: str = ''
    verified: str = ''
    waited: bool = False

    @property
    def cloned(self) -> bool:
        return self.path is not Route.DOWNLOAD

    def details(self) -> list[str]:
        """The per-create line's details: where the bytes came from, what
        this host converted, what verified them, whether the request
        waited."""
        details = []
        if self.source:
            details.append('from %s' % self.source)
        if self.converted_from:
            details.append('converted from %s on this host, %d host bytes'
                           % (self.converted_from, self.host_bytes))
        elif self.host_bytes:
            details.append('%d host bytes' % self.host_bytes)
        if self.verified.startswith(UNVERIFIED):
            details.append(self.verified)
        elif self.verified:
            details.append('verified: %s' % self.verified)
        if self.waited:
            details.append('waited for a concurrent request\'s copy')
        elif self.note:
            details.append(self.note)
        return details
