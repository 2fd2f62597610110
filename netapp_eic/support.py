# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What netapp-eic is tested with: the one place that says so.

The driver refuses, at ``do_setup``, a Cinder release that is not listed
here (unless ``netapp_eic_allow_untested_cinder`` is set), ``netapp-eic
doctor`` reports the same check, and the README's support table is checked
against these values by the tests.
"""

import importlib.metadata

#: Cinder releases (major versions) the driver is tested with, and the
#: exact versions the tests ran.
TESTED_CINDER_MAJORS: tuple[int, ...] = (29,)
TESTED_CINDER_VERSIONS: tuple[str, ...] = ('29.0.0',)

#: Python versions the tests ran on (Cinder 29 needs >= 3.11).
TESTED_PYTHON: tuple[str, ...] = ('3.11',)

#: Oldest ONTAP release with everything EIC calls through REST: Cinder's
#: REST client needs 9.11.1, as does ``POST /storage/file/copy``.
MIN_ONTAP: tuple[int, int, int] = (9, 11, 1)

#: The ONTAP REST features EIC uses, for the README and ``doctor``.
REST_FEATURES: tuple[str, ...] = (
    'POST /storage/file/clone (file clone within a FlexVol)',
    'POST /storage/file/copy (File Copy between FlexVols)',
    'GET /cluster/jobs/{uuid} (job state and message)',
    'GET|DELETE|PATCH /storage/volumes/{uuid}/files/{path}',
    'GET /network/ip/interfaces, /storage/volumes, /protocols/nfs/services',
)


def cinder_version() -> str | None:
    """The installed Cinder's version, or None without Cinder."""
    try:
        return importlib.metadata.version('cinder')
    except importlib.metadata.PackageNotFoundError:
        return None


def cinder_tested(version: str | None) -> bool:
    """Whether ``version`` is a Cinder release of a tested major."""
    if not version:
        return False
    major = version.split('.', 1)[0]
    return major.isdigit() and int(major) in TESTED_CINDER_MAJORS


def untested_cinder_message(version: str | None) -> str:
    """Why an untested Cinder is refused, and how to go ahead anyway."""
    return ('netapp-eic is tested with Cinder %s; this is Cinder %s. Set '
            'netapp_eic_allow_untested_cinder = True in the backend '
            'section to run it anyway.' % (
                ', '.join(TESTED_CINDER_VERSIONS), version or 'unknown'))


def ontap_supported(version: tuple[int, int, int]) -> bool:
    return version >= MIN_ONTAP


def dotted(version: tuple[int, ...]) -> str:
    return '.'.join(str(part) for part in version)
