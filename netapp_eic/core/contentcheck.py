# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""How a fast path's bytes are checked against Glance's hash, cheapest
first.

1. A verification record (:mod:`netapp_eic.core.verifications`) that still
   vouches for the Glance file: nothing is read.
2. The array's own digest (ONTAP file fingerprints) when Glance's hash is
   sha256, or md5 when ``netapp_eic_fingerprint_md5`` allows the legacy
   checksum: nothing crosses to the host. Whether ONTAP fingerprints
   regular files of non-SnapLock FlexVols is not confirmed by NetApp's
   documentation: the first refusal turns fingerprints off for the backend
   (one WARNING, and :meth:`ContentChecker.fingerprint_problem` says why),
   and the host hashes instead. A session that fails, vanishes or runs
   past its bound costs that create the host hash, never the create.
3. The host hash (:class:`~netapp_eic.core.verify.Hashing`), beside the
   copy when this host mounts the source's FlexVol, else of the result.

A check of a Glance file that passed is recorded for every host.
"""

import dataclasses
import hashlib
import os
import threading

from oslo_log import log as logging

from netapp_eic.core.context import Context
from netapp_eic.core import nofollow
from netapp_eic.core import records
from netapp_eic.core import verifications
from netapp_eic.core import verify
from netapp_eic.core.pools import Pool
from netapp_eic.core.types import CreateRequest, ImageMeta, UNVERIFIED
from netapp_eic import exception
from netapp_eic.i18n import _
from netapp_eic import ontap

LOG = logging.getLogger(__name__)

#: Algorithms ONTAP fingerprints.
ARRAY_ALGORITHMS = ('sha256', 'md5')
#: The probe file's size and bound.
PROBE_BYTES = 64 * 1024
PROBE_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What checked a file's bytes (``how``), or why nothing did."""

    verified: bool
    how: str
    host_bytes: int = 0


class Pending:
    """A check under way; :meth:`finish` waits for it. None from
    :meth:`finish` means nothing checked the bytes yet: the caller hashes
    its result on the host."""

    def finish(self) -> Verdict | None:
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop the check (the step failed for another reason)."""


class Known(Pending):
    """A verdict known without a check (a record; verification off)."""

    def __init__(self, verdict: Verdict | None) -> None:
        self.verdict = verdict

    def finish(self) -> Verdict | None:
        return self.verdict


class HostHash(Pending):
    """The host hash of a file on a mount, in a thread."""

    def __init__(self, hashing: verify.Hashing, what: str) -> None:
        self.hashing = hashing
        self.what = what

    def finish(self) -> Verdict:
        self.hashing.check()
        return Verdict(True, 'host %s of the %s' % (self.hashing.want.algo,
                                                    self.what),
                       self.hashing.bytes_read)

    def cancel(self) -> None:
        self.hashing.cancel()


class ArrayDigest(Pending):
    """ONTAP's fingerprint of a file, computed by the array while the
    step goes on, compared with Glance's hash in :meth:`finish`."""

    def __init__(self, checker: 'ContentChecker', vol: ontap.FlexVol,
                 path: str, want: verify.Expected, request: CreateRequest,
                 what: str) -> None:
        self.checker = checker
        self.vol = vol
        self.path = path
        self.want = want
        self.request = request
        self.what = what
        self._stop = threading.Event()
        self._result: ontap.Fingerprint | BaseException | None = None
        size = want.size or 0
        # A thread of the process's kind (a green one under eventlet): it
        # only talks to ONTAP, through sockets the process patched.
        self._thread = threading.Thread(
            target=self._run, args=(checker.settings.fingerprint_bound(size),),
            name='eic-fingerprint-%s' % request.image_id[:8], daemon=True)
        self._thread.start()

    def _run(self, bound: float) -> None:
        try:
            self._result = self.checker.client.file_fingerprint(
                self.vol, self.path, self.want.algo, bound, stop=self._stop)
        except BaseException as e:  # handed to finish(), never lost
            self._result = e

    def finish(self) -> Verdict | None:
        self._thread.join()
        result = self._result
        if isinstance(result, exception.FingerprintUnavailable):
            self.checker.fingerprints_refused(str(result))
            return None
        if isinstance(result, exception.FingerprintFailed):
            LOG.warning('Image %(image)s: %(err)s; this create hashes on '
                        'the host instead.', {'image': self.request.image_id,
                                              'err': result})
            return None
        if isinstance(result, BaseException):
            raise result
        if result is None or result.hexdigest != self.want.value:
            raise exception.ContentMismatch(
                image_id=self.request.image_id, reason=_(
                    'the array\'s %(algo)s of %(path)s in FlexVol %(vol)s '
                    'is %(got)s, Glance recorded %(want)s') % {
                        'algo': self.want.algo, 'path': self.path,
                        'vol': self.vol.name, 'want': self.want.value,
                        'got': None if result is None else result.hexdigest})
        return Verdict(True, 'array %s of the %s' % (self.want.algo,
                                                     self.what))

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join()


class ContentChecker:
    """The content checks of one backend (built once by the engine)."""

    def __init__(self, ctx: Context,
                 records: verifications.Verifications) -> None:
        self.client = ctx.client
        self.settings = ctx.settings
        self.records = records
        self._refused: str | None = None
        self._lock = threading.Lock()

    def expected(self, request: CreateRequest) -> verify.Expected | None:
        """Glance's hash to check against; None when nothing is checked
        (verification off, or Glance recorded no hash: logged once)."""
        if not self.settings.verify_content:
            return None
        want = verify.expected(request.image_meta)
        if want is None:
            verify.note_unverified(request.image_id,
                                   'Glance records no hash of its data')
        return want

    def unchecked(self) -> Verdict:
        """The verdict when :meth:`expected` is None."""
        if not self.settings.verify_content:
            return Verdict(False, '%s: netapp_eic_verify_image_content is '
                                  'False' % UNVERIFIED)
        return Verdict(False, '%s: Glance records no hash' % UNVERIFIED)

    def recorded(self, request: CreateRequest, vol: ontap.FlexVol,
                 path: str, now: verifications.Identity
                 ) -> Verdict | None:
        """A record's verdict for the Glance file, or None."""
        want = self.expected(request)
        if want is None or not self.settings.verification_records:
            return None
        record = self.records.find(request.image_id, vol, path, now, want)
        return None if record is None else Verdict(True, record.describe())

    def start(self, request: CreateRequest, vol: ontap.FlexVol, path: str,
              local: tuple[str, str] | None, what: str) -> Pending:
        """Begin checking ``vol``'s file ``path`` (``local``: its path and
        mount directory on this host, if mounted): the array's digest
        where it can, else the host hash where the file is mounted, else
        nothing yet (:class:`Known` of None)."""
        want = self.expected(request)
        if want is None:
            return Known(self.unchecked())
        if self._array_may(want):
            return ArrayDigest(self, vol, path, want, request, what)
        return self.host_hash(request, local, what)

    def host_hash(self, request: CreateRequest, local: tuple[str, str] | None,
                  what: str) -> Pending:
        """The host hash of a mounted file; :class:`Known` of None when it
        is not mounted here."""
        want = self.expected(request)
        if want is None:
            return Known(self.unchecked())
        if local is None:
            return Known(None)
        path, root = local
        return HostHash(verify.Hashing(path, root, want, request.image_id),
                        what)

    def describe(self, image_meta: ImageMeta) -> str:
        """How a create of the image would check its bytes (for
        ``netapp-eic explain``); changes nothing."""
        if not self.settings.verify_content:
            return self.unchecked().how
        want = verify.expected(image_meta)
        if want is None:
            return '%s: Glance records no hash' % UNVERIFIED
        if self._array_may(want):
            how = 'ONTAP\'s %s fingerprint (no host byte)' % want.algo
        else:
            why = self.fingerprint_problem()
            if why is None and want.algo == 'md5':
                why = 'netapp_eic_fingerprint_md5 is False'
            elif why is None:
                why = 'ONTAP fingerprints sha256 and md5 only, the image ' \
                      'is hashed with %s' % want.algo
            how = ('the host\'s %s hash, beside the copy where the Glance '
                   'FlexVol is mounted (array fingerprint not used: %s)' % (
                       want.algo, why))
        if self.settings.verification_records:
            how = ('a verification record of the Glance file if one holds, '
                   'else ' + how)
        return how

    def save(self, dest: Pool, request: CreateRequest, vol: ontap.FlexVol,
             path: str, identity: verifications.Identity, verdict: Verdict,
             started: float) -> None:
        """Record a Glance file that passed a check begun at ``started``."""
        want = self.expected(request)
        if (want is None or not verdict.verified or
                not self.settings.verification_records):
            return
        # "host sha512 of the cloned file" is recorded as "host sha512".
        self.records.save(dest, request.image_id, vol, path, identity, want,
                          verdict.how.split(' of the ')[0], started)

    def _array_may(self, want: verify.Expected) -> bool:
        if not self.settings.array_fingerprints or self._refused:
            return False
        if want.algo == 'md5':
            return self.settings.fingerprint_md5
        return want.algo in ARRAY_ALGORITHMS

    def fingerprints_refused(self, reason: str) -> None:
        """ONTAP refused a fingerprint: the host hashes from now on (one
        WARNING per backend)."""
        with self._lock:
            first = self._refused is None
            self._refused = reason
        if first:
            LOG.warning('ONTAP refused a file fingerprint (%s): images of '
                        'this backend are hashed on the host instead.',
                        reason)

    def fingerprint_problem(self) -> str | None:
        """Why the array's fingerprints are not used, or None."""
        if not self.settings.array_fingerprints:
            return 'netapp_eic_array_fingerprints is False'
        return self._refused

    def probe(self, pool: Pool) -> str | None:
        """Whether ONTAP fingerprints a small file written in ``pool``'s
        root (and removed again) with the right sha256; None when it does,
        else why not, and fingerprints are then off for the backend."""
        if not self.settings.array_fingerprints:
            return self.fingerprint_problem()
        data = os.urandom(PROBE_BYTES)
        name = records.temp_name('fpprobe')
        try:
            with open(pool.local(name), 'xb') as f:
                f.write(data)
            got = self.client.file_fingerprint(pool.flexvol, name, 'sha256',
                                               PROBE_SECONDS)
        except OSError as e:
            return _('probe file not written in FlexVol %(vol)s: %(err)s'
                     ) % {'vol': pool.flexvol.name, 'err': e}
        except (exception.FingerprintUnavailable,
                exception.FingerprintFailed) as e:
            problem: str | None = str(e)
        else:
            problem = None
            if got.hexdigest != hashlib.sha256(data).hexdigest():
                problem = _('the array\'s sha256 of a probe file is wrong')
        finally:
            nofollow.unlink_in(pool.mount_dir, name)
        if problem:
            self.fingerprints_refused(problem)
        return problem
