# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""ONTAP-shaped errors: each carries an HTTP status and an ONTAP error code.

The wire body is always ``{"error": {"message", "code", "target"?}}`` with a
*string* code, because Cinder compares codes as strings.
"""

from typing import Any


class OntapError(Exception):
    """Base class: an error the simulator reports to its client."""

    status = 400
    code = '262179'

    def __init__(self, message: str, *, target: str | None = None,
                 status: int | None = None,
                 code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        if status is not None:
            self.status = int(status)
        if code is not None:
            self.code = str(code)

    def body(self) -> dict[str, Any]:
        """The JSON body ONTAP would answer with."""
        error = {'message': self.message, 'code': str(self.code)}
        if self.target:
            error['target'] = self.target
        return {'error': error}


class BadRequest(OntapError):
    """Malformed or invalid input (ONTAP "Unexpected argument")."""


class UnexpectedArgument(BadRequest):
    """A query argument or body field the endpoint does not take.

    Observed on ONTAP: ``{"message": "Unexpected argument \"x\".",
    "code": "262179"}`` with no target.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f'Unexpected argument "{name}".')


class InvalidValue(BadRequest):
    """A value of the wrong type or outside its range.

    ONTAP answers ``fields=bogus`` with code 262197 and the message
    ``The value "bogus" is invalid for field "fields" (<field,...>)``; the
    simulator answers every invalid value that way, with the field's type
    in the parentheses.
    """

    code = '262197'

    def __init__(self, field: str, value: object, kind: str) -> None:
        super().__init__(f'The value "{value}" is invalid for field '
                         f'"{field}" ({kind})', target=field)


class NotFound(OntapError):
    """A missing object (volume, SVM, job...): ONTAP's "entry doesn't
    exist"."""

    status = 404
    code = '4'


class FileNotFound(NotFound):
    """A missing file or directory in a FlexVol (the file API's code)."""

    code = '6684674'


class CliFileNotFound(NotFound):
    """A missing file reported by the private CLI passthrough."""

    code = '917806'


class DestinationExists(OntapError):
    """A clone or copy destination already exists."""

    status = 409
    code = '6684675'


class CrossVolume(OntapError):
    """A file clone whose source and destination are in different FlexVols."""

    code = '6684676'


class SymlinkRefused(OntapError):
    """A clone or copy whose source (or copy destination) is a symlink.

    What ONTAP does is not documented; the simulator refuses (see
    doc/simulator-coverage.rst).
    """

    code = '6684677'


class PeerRequired(OntapError):
    """A file copy between two SVMs that are not peered for ``file_copy``.

    ONTAP needs an SVM peer relationship with the file-copy application for
    a copy across SVMs; the code is the simulator's choice.
    """

    code = '6684679'


class PeerToItself(BadRequest):
    """An SVM peer relationship of an SVM with itself."""

    code = '26345579'


class PeerExists(OntapError):
    """An SVM peer relationship that exists already (either direction)."""

    status = 409
    code = '26345580'


class ReadOnlyPath(OntapError):
    """A write below ``.snapshot``, which is read-only on ONTAP."""

    code = '6684678'


class NotAFile(OntapError):
    """A fingerprint asked of something other than a regular file (a
    directory, a device). ONTAP's answer is not documented; the code is the
    simulator's."""

    code = '6684680'


class PathForm(BadRequest):
    """A SnapLock path not of the form ``/<dir>/<file>`` (ONTAP's code for
    the same mistake in a SnapLock privileged delete)."""

    code = '14090347'


class InvalidSession(NotFound):
    """A file fingerprint session id that does not exist (ONTAP's
    "Invalid session ID")."""

    code = '14090446'


class SessionCompleted(OntapError):
    """An abort of a fingerprint session that has ended (ONTAP's "File
    fingerprint operation has completed")."""

    code = '14090440'


class NoSpace(OntapError):
    """Not enough space in the destination FlexVol."""

    code = '13'


class Unauthorized(OntapError):
    """Missing or wrong credentials."""

    status = 401
    code = '6'


class NotImplementedApi(OntapError):
    """An endpoint or feature the simulator does not implement."""

    status = 404
    code = '3'


class MethodNotAllowed(NotImplementedApi):
    """A known path called with a method it does not support."""

    status = 405


class InternalError(OntapError):
    """An unexpected failure inside the simulator (never a traceback)."""

    status = 500
    code = '5'
