# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Configuration options of the netapp-eic driver.

The options are declared once, here, and registered in Cinder's shared
backend group (``[backend_defaults]``) exactly as
``cinder/volume/drivers/netapp/options.py`` registers its own, so that every
backend section can override them. The parent driver's options
(``netapp_copyoffload_tool_path``, ``thres_avl_size_perc_start``/``stop``,
``expiry_thres_minutes``, the connection options, ...) are reused, never
redeclared.

``list_opts()`` is the ``oslo.config.opts`` entry point
(``netapp_eic = netapp_eic.options:list_opts``) used by
``oslo-config-generator``.
"""

import copy

from oslo_config import cfg

#: Name of Cinder's shared backend group (``cinder.volume.configuration``).
SHARED_CONF_GROUP = 'backend_defaults'

eic_opts: list[cfg.Opt] = [
    cfg.IntOpt('netapp_eic_file_copy_timeout',
               default=600,
               min=1,
               help='Maximum time, in seconds, to wait for an ONTAP File Copy '
                    'job that copies an image file or an image cache entry '
                    'into the destination FlexVol. When it is exceeded the '
                    'job is cancelled, its partial destination file is '
                    'deleted and the volume is created by the next method '
                    '(ultimately a Glance download).'),
    cfg.IntOpt('netapp_eic_file_copy_return_timeout',
               default=2,
               min=0,
               max=120,
               help='Value, in seconds, of the ``return_timeout`` query '
                    'parameter sent with the ONTAP File Copy request: ONTAP '
                    'holds the request that long and answers directly when '
                    'the copy finishes within it, which saves the job polls '
                    'for small images. 0 makes ONTAP return a job at once.'),
    cfg.FloatOpt('netapp_eic_poll_initial_interval',
                 default=0.05,
                 min=0.001,
                 help='First interval, in seconds, between two polls of an '
                      'ONTAP job (file clone or File Copy). The interval '
                      'doubles after every poll up to '
                      'netapp_eic_poll_max_interval.'),
    cfg.FloatOpt('netapp_eic_poll_max_interval',
                 default=2.0,
                 min=0.001,
                 help='Largest interval, in seconds, between two polls of an '
                      'ONTAP job.'),
    cfg.FloatOpt('netapp_eic_visibility_timeout',
                 default=10.0,
                 min=0.0,
                 help='Maximum time, in seconds, to wait for a file that '
                      'ONTAP has just created (clone, File Copy, rename) to '
                      'become visible on the NFS mount of this host. '
                      'Exceeding it makes the request fall back to the next '
                      'method instead of waiting on the NFS attribute cache.'),
    cfg.BoolOpt('netapp_eic_cache_enabled',
                default=True,
                help='Keep a per-FlexVol cache of image files '
                     '(``img-cache-<image id>``, the same names as the '
                     'upstream NetApp driver) so that later volumes from the '
                     'same image are created by a file clone. Eviction reuses '
                     'thres_avl_size_perc_start, thres_avl_size_perc_stop '
                     'and expiry_thres_minutes.'),
    cfg.BoolOpt('netapp_eic_convert_images',
                default=True,
                help='Convert a non-raw image (qcow2) to raw once per image '
                     'and pool, into a raw cache entry, so that later volumes '
                     'are file clones of it. When False, non-raw images are '
                     'not accelerated and take the generic download path. '
                     'Cinder\'s image_conversion_disable option still '
                     'applies and forbids conversion when set.'),
    cfg.BoolOpt('netapp_eic_verify_image_content',
                default=True,
                help='Check the bytes of an image file against the hash '
                     'Glance recorded (os_hash_algo/os_hash_value, else the '
                     'md5 checksum) before a volume is made from them on a '
                     'fast path. Done once per image and cluster: cache '
                     'entries built from verified bytes, and their ONTAP '
                     'copies and clones, are not hashed again; the hashing '
                     'overlaps the ONTAP copy or the conversion when it '
                     'can. Turning this off is unsafe: a changed or '
                     'corrupted file in the Glance store would then be '
                     'given to new volumes and cached as the image. Images '
                     'for which Glance records no hash are served '
                     'unverified either way (logged once per image).'),
    cfg.IntOpt('netapp_eic_max_image_virtual_size_gb',
               default=1024,
               min=0,
               help='Largest virtual size, in GiB, of an image the fast '
                    'paths accept; larger ones are refused before any copy '
                    'or conversion and Cinder downloads them (its own '
                    'checks apply). The virtual size must also fit the '
                    'volume. 0 means no limit beyond the volume size.'),
    cfg.IntOpt('netapp_eic_copyoffload_timeout',
               default=0,
               min=0,
               help='Maximum time, in seconds, one run of the copy offload '
                    'tool (netapp_copyoffload_tool_path) may take. When it '
                    'is exceeded the tool\'s process group is killed, its '
                    'partial file removed and the next method tried. 0 '
                    'means the value of netapp_eic_file_copy_timeout.'),
]


def _register() -> None:
    """Register ``eic_opts`` in Cinder's shared backend group.

    Guarded so that this module imports without Cinder (the simulator and
    the option generator do not need it).
    """
    try:
        from cinder.volume import configuration
    except ImportError:  # pragma: no cover - cinder is present in tests
        group = SHARED_CONF_GROUP
    else:
        group = configuration.SHARED_CONF_GROUP
    cfg.CONF.register_opts(eic_opts, group=group)


_register()


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return the options for ``oslo-config-generator``.

    The group is Cinder's ``backend_defaults``, the group under which
    Cinder's own generator lists the NetApp driver options.
    """
    return [(SHARED_CONF_GROUP, copy.deepcopy(eic_opts))]
