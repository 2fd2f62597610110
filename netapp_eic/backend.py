# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A backend's configuration read as cinder-volume reads it.

cinder-volume registers, in each backend section, the options of the
driver it loads; a program that reads the same ``cinder.conf`` outside the
volume manager (``netapp-eic``, the test harness) must register the same
lists to see the same values. :func:`option_lists` names them once (the
option lists a NetApp ONTAP NFS backend reads, and netapp-eic's own),
:func:`configuration` builds the backend's ``Configuration``, and
:func:`settings_from` turns it into the core's
:class:`~netapp_eic.core.types.Settings` (the driver uses it too).

Cinder is imported inside the functions: this module is imported by the
command line before it decides whether Cinder is needed.
"""

import os
import typing

from oslo_config import cfg
from oslo_utils import units

from netapp_eic.core.types import Settings
from netapp_eic import options


def option_lists() -> list[list[cfg.Opt]]:
    """Every option list a NetApp NFS backend with netapp-eic reads."""
    from cinder.volume import driver as volume_driver
    from cinder.volume.drivers.netapp import options as na_opts
    from cinder.volume.drivers import nfs, remotefs
    return [volume_driver.volume_opts, remotefs.nas_opts,
            remotefs.volume_opts, nfs.nfs_opts, na_opts.netapp_proxy_opts,
            na_opts.netapp_connection_opts, na_opts.netapp_transport_opts,
            na_opts.netapp_basicauth_opts,
            na_opts.netapp_certificateauth_opts,
            na_opts.netapp_provisioning_opts, na_opts.netapp_cluster_opts,
            na_opts.netapp_img_cache_opts, na_opts.netapp_nfs_extra_opts,
            na_opts.netapp_san_opts, na_opts.netapp_replication_opts,
            na_opts.netapp_support_opts, na_opts.netapp_migration_opts,
            options.eic_opts, options.agent_opts]


def register_backend_opts(configuration: typing.Any) -> None:
    """Register :func:`option_lists` in ``configuration``'s section."""
    for opts in option_lists():
        configuration.append_config_values(opts)


def configuration(backend: str) -> typing.Any:
    """The ``cinder.volume.configuration.Configuration`` of section
    ``backend`` of the already parsed global ``CONF``."""
    from cinder.volume import configuration as cinder_configuration
    from cinder.volume import driver as volume_driver
    config = cinder_configuration.Configuration(volume_driver.volume_opts,
                                                config_group=backend)
    register_backend_opts(config)
    return config


def settings_from(configuration: typing.Any, conversion_disabled: bool,
                  state_path: str | None = None) -> Settings:
    """The core's settings from a backend ``Configuration``.

    :param conversion_disabled: Cinder's ``image_conversion_disable``.
    :param state_path: Cinder's ``state_path``, where the copy offload
        tool's breaker keeps its state (None: in memory only).
    """
    conf = configuration
    return Settings(
        cache_enabled=conf.netapp_eic_cache_enabled,
        cache_max_entries=conf.netapp_eic_cache_max_entries,
        cache_max_bytes=int(conf.netapp_eic_cache_max_size_gb * units.Gi),
        cache_max_percent=conf.netapp_eic_cache_max_percent,
        cache_eviction_policy=conf.netapp_eic_cache_eviction_policy,
        cache_half_life_uses=conf.netapp_eic_cache_half_life_uses,
        space_start_percent=conf.thres_avl_size_perc_start,
        space_stop_percent=conf.thres_avl_size_perc_stop,
        convert_images=conf.netapp_eic_convert_images and
        not conversion_disabled,
        copyoffload_tool_path=conf.netapp_copyoffload_tool_path,
        file_copy_timeout=conf.netapp_eic_file_copy_timeout,
        file_copy_return_timeout=min(
            conf.netapp_eic_file_copy_return_timeout,
            int(conf.netapp_eic_file_copy_timeout)),
        visibility_timeout=conf.netapp_eic_visibility_timeout,
        copyoffload_timeout=conf.netapp_eic_copyoffload_timeout or None,
        copyoffload_min_rate=conf.netapp_eic_copyoffload_min_rate_mib *
        units.Mi,
        copyoffload_breaker_period=conf.netapp_eic_copyoffload_breaker_seconds,
        copyoffload_breaker_longest=(
            conf.netapp_eic_copyoffload_breaker_max_seconds),
        create_svm_peers=conf.netapp_eic_create_svm_peers,
        copyoffload_breaker_file=breaker_file(
            state_path, getattr(conf, 'config_group', None)),
        verify_content=conf.netapp_eic_verify_image_content,
        verification_records=conf.netapp_eic_verification_records,
        array_fingerprints=conf.netapp_eic_array_fingerprints,
        fingerprint_md5=conf.netapp_eic_fingerprint_md5,
        fingerprint_min_rate=conf.netapp_eic_fingerprint_min_rate_mib *
        units.Mi,
        mount_glance_flexvols=conf.netapp_eic_mount_glance_flexvols,
        max_image_virtual_size=(
            conf.netapp_eic_max_image_virtual_size_gb * units.Gi))


def breaker_file(state_path: str | None, backend: str | None) -> str | None:
    """Where the copy offload tool's breaker of ``backend`` keeps its
    state: ``<state_path>/netapp_eic/<backend>.copyoffload-breaker.json``
    (read by ``netapp-eic doctor`` on the same host)."""
    if not state_path:
        return None
    return os.path.join(state_path, 'netapp_eic', '%s.copyoffload-breaker'
                        '.json' % (backend or 'DEFAULT'))


def read_shares(path: str) -> list[str]:
    """The shares of an ``nfs_shares_config`` file, as Cinder reads it:
    one ``address:/export [mount options]`` a line, ``#`` comments."""
    shares = []
    with open(path) as shares_file:
        for line in shares_file:
            if not line.strip() or line.startswith('#'):
                continue
            shares.append(line.split(' ', 1)[0].strip().replace(
                '\\040', ' '))
    return shares


def mount_point(mount_point_base: str, share: str) -> str:
    """Where os-brick mounts ``share`` (``base/md5(share)``), computed by
    os-brick itself so that it cannot disagree with the driver."""
    from os_brick.remotefs import remotefs

    def _refuse(*cmd: str, **kwargs: typing.Any) -> None:
        raise RuntimeError('unexpected command %s' % (cmd,))

    client = remotefs.RemoteFsClient('nfs', root_helper=None,
                                     execute=_refuse,
                                     nfs_mount_point_base=mount_point_base)
    return str(client.get_mount_point(share))


def mounted_paths() -> set[str]:
    """The mount points listed in ``/proc/mounts`` (octal escapes
    decoded)."""
    with open('/proc/mounts') as mounts:
        return {line.split()[1].replace('\\040', ' ')
                for line in mounts if line.strip()}
