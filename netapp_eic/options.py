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
               default=120,
               min=0,
               max=120,
               help='Value, in seconds, of the ``return_timeout`` query '
                    'parameter sent with the ONTAP File Copy request: ONTAP '
                    'holds the request that long and answers as soon as the '
                    'copy ends within it, so a copy is seen to end when it '
                    'ends instead of at the next poll. A longer copy is '
                    'then polled, more often as its end nears. Never more '
                    'than netapp_eic_file_copy_timeout. 0 makes ONTAP '
                    'return the job at once.'),
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
                     'same image are created by a file clone. Entries are '
                     'evicted (netapp_eic_cache_eviction_policy) when a '
                     'budget (netapp_eic_cache_max_entries, '
                     'netapp_eic_cache_max_size_gb, '
                     'netapp_eic_cache_max_percent) is exceeded or the '
                     'FlexVol\'s free space falls below '
                     'thres_avl_size_perc_start percent (until '
                     'thres_avl_size_perc_stop percent is free), after each '
                     'new entry and in the periodic cleanup; an entry being '
                     'cloned from is never evicted.'),
    cfg.IntOpt('netapp_eic_cache_max_entries',
               default=0,
               min=0,
               help='Most image cache entries per FlexVol; 0 means no '
                    'limit.'),
    cfg.FloatOpt('netapp_eic_cache_max_size_gb',
                 default=0.0,
                 min=0.0,
                 help='Most space, in GiB, the image cache entries of a '
                      'FlexVol may allocate; 0 means no limit.'),
    cfg.IntOpt('netapp_eic_cache_max_percent',
               default=20,
               min=0,
               max=100,
               help='Most space the image cache entries of a FlexVol may '
                    'allocate, in percent of the FlexVol\'s size (the '
                    'smaller of this and netapp_eic_cache_max_size_gb '
                    'applies); 0 means no limit.'),
    cfg.StrOpt('netapp_eic_cache_eviction_policy',
               default='gdsf',
               choices=[('gdsf', 'least value per byte first: uses, aged '
                                 'by netapp_eic_cache_half_life_uses, times '
                                 'the cost of a miss over the bytes held'),
                        ('lru', 'least recently used first')],
               help='Which image cache entries are evicted first when a '
                    'budget is exceeded.'),
    cfg.IntOpt('netapp_eic_cache_half_life_uses',
               default=250,
               min=0,
               help='With netapp_eic_cache_eviction_policy = gdsf: after '
                    'how many uses of a pool\'s cache entries (clones from '
                    'them, counted on each host) a use of an entry counts '
                    'half as much. 0 makes gdsf least recently used.'),
    cfg.BoolOpt('netapp_eic_convert_images',
                default=True,
                help='Convert a non-raw image (qcow2) to raw once per image '
                     'and pool, into a raw cache entry, so that later volumes '
                     'are file clones of it. When False, non-raw images are '
                     'not accelerated and take the generic download path. '
                     'Cinder\'s image_conversion_disable option still '
                     'applies and forbids conversion when set.'),
    cfg.BoolOpt('netapp_eic_allow_untested_cinder',
                default=False,
                help='Start the driver on a Cinder release netapp-eic is not '
                     'tested with (see the README\'s support table). '
                     'Without it, the backend refuses to start there and '
                     'says which releases are tested.'),
    cfg.IntOpt('netapp_eic_scheduler_report_images',
               default=250,
               min=0,
               help='Most image ids, those the eviction policy ranks '
                    'highest first, a pool reports to the scheduler as '
                    'cached (the pool '
                    'capability netapp_eic_cached_images, read by '
                    'netapp_eic.scheduler.ImageCacheWeigher); the count '
                    'of entries is always reported.'),
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
    cfg.BoolOpt('netapp_eic_verification_records',
                default=True,
                help='Record, in the root of the pool FlexVols (every host '
                     'of the backend sees them), each Glance file whose '
                     'bytes matched Glance\'s hash, keyed by the file\'s '
                     'identity (FlexVol, path, inode, size, modification '
                     'and change times). While that identity holds, no host '
                     'hashes the file again: a direct clone of it stays '
                     'constant-time on every host. A file rewritten, '
                     'truncated, renamed over or relinked is checked again.'),
    cfg.BoolOpt('netapp_eic_array_fingerprints',
                default=True,
                help='Let ONTAP compute the digest of an image file (file '
                     'fingerprints, POST /api/storage/snaplock/'
                     'file-fingerprints) when Glance\'s hash is sha256 '
                     '(Glance\'s hashing_algorithm = sha256), so no byte '
                     'crosses to the host. NetApp does not document '
                     'fingerprints of regular files on non-SnapLock '
                     'FlexVols: the driver probes it and, on any refusal, '
                     'hashes on the host instead (one warning per '
                     'backend).'),
    cfg.BoolOpt('netapp_eic_fingerprint_md5',
                default=False,
                help='Also accept the array\'s md5 fingerprint against '
                     'Glance\'s legacy md5 checksum for images without a '
                     'sha256 hash. Weaker: md5 detects corruption but not a '
                     'file crafted to collide with the image\'s checksum, '
                     'so anyone able to write to the Glance store could '
                     'substitute bytes.'),
    cfg.FloatOpt('netapp_eic_fingerprint_min_rate_mib',
                 default=100.0,
                 min=1.0,
                 help='Slowest rate, in MiB/s, of an array fingerprint '
                      'before it is aborted (the bound is 30 s plus the '
                      'file\'s size at this rate); the create then hashes '
                      'on the host.'),
    cfg.BoolOpt('netapp_eic_mount_glance_flexvols',
                default=True,
                help='Mount read-only, when an image location names it, a '
                     'FlexVol holding Glance\'s file store that a data LIF '
                     'of a pool\'s SVM serves, so the image file is '
                     'inspected and hashed while ONTAP copies it (exports '
                     'of other SVMs or clusters are never mounted). '
                     'netapp_eic_image_shares still names shares to mount '
                     'at start.'),
    cfg.ListOpt('netapp_eic_image_shares',
                default=[],
                help='NFS exports (address:/export, as in nfs_shares_config) '
                     'of the FlexVols that hold Glance\'s file stores, '
                     'mounted read-only at start beside the pools (they are '
                     'not pools). Without it, such FlexVols are found from '
                     'image locations (netapp_eic_mount_glance_flexvols). '
                     'The image file is then inspected before a File Copy '
                     'and hashed while ONTAP copies it; a source not '
                     'mounted is hashed after its copy lands.'),
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
                    'partial file removed, the tool\'s breaker opened and '
                    'the next method tried. 0 derives the bound from the '
                    'image: 10 s plus its size at '
                    'netapp_eic_copyoffload_min_rate_mib (a 1 GiB image: '
                    '30 s at 50 MiB/s).'),
    cfg.IntOpt('netapp_eic_copyoffload_min_rate_mib',
               default=50,
               min=1,
               help='Slowest copy rate, in MiB/s, of the copy offload tool '
                    'that is not treated as hung: with '
                    'netapp_eic_copyoffload_timeout = 0 a run is bounded by '
                    '10 s plus the image\'s size at this rate.'),
    cfg.IntOpt('netapp_eic_copyoffload_breaker_seconds',
               default=300,
               min=0,
               help='After the copy offload tool fails or times out, creates '
                    'of this backend do not run it for this many seconds '
                    '(they use File Copy, or the download, and say so in '
                    'their log line); a create that waited for the failing '
                    'one does not run it again either. The period doubles '
                    'for each further failure in a row, up to '
                    'netapp_eic_copyoffload_breaker_max_seconds; after it '
                    'one create tries the tool again, and a success closes '
                    'the breaker. The state is kept per host under '
                    'state_path and shown by netapp-eic doctor. 0 lets '
                    'every create try the tool.'),
    cfg.IntOpt('netapp_eic_copyoffload_breaker_max_seconds',
               default=3600,
               min=0,
               help='Longest time the copy offload tool\'s breaker stays '
                    'open while the tool keeps failing (see '
                    'netapp_eic_copyoffload_breaker_seconds).'),
    cfg.BoolOpt('netapp_eic_create_svm_peers',
                default=False,
                help='A File Copy from a FlexVol of another SVM (Glance\'s '
                     'FlexVol in an SVM of its own) needs an SVM peer '
                     'relationship with the file-copy application between '
                     'that SVM and the pool\'s. Without one, File Copy is '
                     'skipped with that reason (no doomed copy is posted) '
                     'and netapp-eic doctor prints the vserver peer create '
                     'command to run. True lets the driver create the '
                     'intracluster peer (or add file_copy to an existing '
                     'one) before the copy, as Cinder\'s in-tree driver '
                     'does for migration; the ONTAP account then needs the '
                     'right to manage SVM peers.'),
]

#: Options of ``netapp-eic agent`` (read from the backend's section, like
#: the driver's): which images it warms from Glance's events, into which
#: pools, and the bounds that protect the array during an upload burst.
agent_opts: list[cfg.Opt] = [
    cfg.StrOpt('netapp_eic_agent_images',
               default='all',
               choices=[('all', 'every active image Glance announces'),
                        ('marked', 'only images carrying the tag or the '
                                   'property named by '
                                   'netapp_eic_agent_image_mark'),
                        ('none', 'no image (the agent only removes the '
                                 'entries of deleted images)')],
               help='Which new images netapp-eic agent verifies and warms '
                    'into the pools\' image caches ahead of the first boot. '
                    'Images deleted in Glance lose their entries whatever '
                    'this says.'),
    cfg.StrOpt('netapp_eic_agent_image_mark',
               default='netapp_eic_warm',
               help='With netapp_eic_agent_images = marked: an image is '
                    'warmed when it has this tag, or this property with a '
                    'value other than false, no, 0 or empty.'),
    cfg.ListOpt('netapp_eic_agent_private_owners',
                default=[],
                help='Projects whose private and shared images the agent '
                     'warms. Public and community images are warmed '
                     'whoever owns them; a private or shared image of '
                     'another project is skipped with that reason.'),
    cfg.ListOpt('netapp_eic_agent_pools',
                default=[],
                help='The pools (shares, ip:/junction) the agent warms '
                     'images into. Empty: every pool of the backend, or the '
                     'netapp_eic_agent_pool_count pools with the most free '
                     'space.'),
    cfg.IntOpt('netapp_eic_agent_pool_count',
               default=0,
               min=0,
               help='When netapp_eic_agent_pools is empty: warm each image '
                    'into this many pools, those with the most free space '
                    'when the image is warmed. 0: every pool of the '
                    'backend.'),
    cfg.IntOpt('netapp_eic_agent_parallel_copies',
               default=2,
               min=1,
               help='Most image copies the agents of this backend run at '
                    'once, counted across agents through the lock store of '
                    '[coordination] backend_url (one slot lock per copy).'),
    cfg.FloatOpt('netapp_eic_agent_max_gb_per_hour',
                 default=0.0,
                 min=0.0,
                 help='Most GiB of images one agent copies per hour; an '
                      'image that would exceed it waits for the hour to '
                      'allow it, an image larger than it is skipped. 0: no '
                      'bound.'),
    cfg.IntOpt('netapp_eic_agent_reconcile_interval',
               default=600,
               min=0,
               help='Seconds between two reconciles through the Glance API '
                    '(images activated or deleted since the last pass, so '
                    'notifications lost while the agent was down, or never '
                    'enabled, are caught up). 0: only when the agent '
                    'starts.'),
    cfg.StrOpt('netapp_eic_agent_transport_url',
               secret=True,
               help='oslo.messaging transport URL on which Glance sends its '
                    'notifications. Unset: the notification transport of '
                    'this file ([oslo_messaging_notifications] '
                    'transport_url, else [DEFAULT] transport_url).'),
    cfg.ListOpt('netapp_eic_agent_topics',
                default=['notifications'],
                help='Notification topics Glance sends to (glance-api.conf '
                     '[oslo_messaging_notifications] topics), exchange '
                     'glance.'),
    cfg.StrOpt('netapp_eic_agent_listener_pool',
               default='netapp-eic-agent',
               help='Listener pool of the agents of this backend: every pool '
                    'gets its own copy of each notification, so Ceilometer '
                    'keeps its own; the agents of one pool share the work.'),
]

#: Options of the scheduler (cinder-scheduler's ``[DEFAULT]``).
scheduler_opts: list[cfg.Opt] = [
    cfg.FloatOpt('netapp_eic_image_cache_weight_multiplier',
                 default=2.0,
                 help='Multiplier of ImageCacheWeigher, which favours, for a '
                      'volume created from an image, the pools of '
                      'netapp-eic backends holding that image in their '
                      'cache (a constant-time clone instead of a copy), '
                      'then those whose FlexVol holds the image\'s Glance '
                      'file (a direct clone). Weights are normalized to '
                      '0..1 before this multiplier applies; '
                      'CapacityWeigher\'s '
                      'default multiplier is 1.0, so a value above 1.0 '
                      'lets the cache win over free capacity. 0 turns the '
                      'weigher off.'),
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
    cfg.CONF.register_opts(agent_opts, group=group)
    cfg.CONF.register_opts(scheduler_opts)


_register()


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Return the options for ``oslo-config-generator``.

    The backend options are in Cinder's ``backend_defaults``, the group
    under which Cinder's own generator lists the NetApp driver options; the
    scheduler's are in ``DEFAULT``.
    """
    return [(SHARED_CONF_GROUP, copy.deepcopy(eic_opts + agent_opts)),
            ('DEFAULT', copy.deepcopy(scheduler_opts))]
