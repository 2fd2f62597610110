# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""NetAppEicNfsDriver: Cinder's NetApp ONTAP NFS driver with EIC.

Operators configure it in a backend stanza::

    [ontap-nfs]
    volume_driver = netapp_eic.driver.NetAppEicNfsDriver
    netapp_storage_family = ontap_cluster
    netapp_storage_protocol = nfs
    ...

This module is Cinder glue only. Everything unrelated to images is the
parent's. ``clone_image`` turns the Cinder volume into plain values, asks
the EIC core (:class:`netapp_eic.core.engine.Engine`) for a volume file and
finishes it (permissions, QoS, model update); ``copy_image_to_volume``
(Cinder's download, also re-image) registers the result in the pool's cache
so the next create is a clone. The core reaches this host only through
:class:`netapp_eic.cinderhost.CinderHost`.
"""

import dataclasses
import os
import typing

from cinder import context as cinder_context
from cinder.image import image_utils
from cinder import interface
from cinder.volume.drivers.netapp.dataontap import nfs_cmode
from cinder.volume.drivers.netapp import options as na_opts
from cinder.volume.drivers.netapp import utils as na_utils
from cinder.volume.drivers import remotefs
from cinder.volume import volume_types
from cinder.volume import volume_utils
from oslo_config import cfg
from oslo_log import log as logging
from oslo_log import versionutils
from oslo_utils import units

import netapp_eic
from netapp_eic import backend
from netapp_eic import cinderhost
from netapp_eic import ontap
from netapp_eic.core import engine
from netapp_eic.core import imagesize
from netapp_eic.core import failure
from netapp_eic.core.types import (CreateRequest, Outcome, Route,
                                   Registration, Settings)
from netapp_eic import exception
from netapp_eic import options
from netapp_eic import support

LOG = logging.getLogger(__name__)

#: Called with each create's request and outcome
#: (:meth:`NetAppEicNfsDriver.add_outcome_observer`).
Observer = typing.Callable[[CreateRequest, Outcome], None]


@interface.volumedriver
class NetAppEicNfsDriver(nfs_cmode.NetAppCmodeNfsDriver):
    """NetApp ONTAP NFS driver with Enhanced Instance Creation.

    Version history:

    .. code-block:: none

        0.1.0 - FlexClone from the pool cache or a Glance file in the same
                FlexVol, ONTAP File Copy, copy offload tool, download with
                cache registration
    """

    #: netapp-eic's version: what ``get_version()``, the start line and
    #: the pools' ``driver_version`` report.
    VERSION = netapp_eic.__version__

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        # Without ``netapp_mode='proxy'`` (what Cinder's NetAppDriver
        # factory passes) the parent warns that direct instantiation "is
        # not the recommended way"; this class is meant to be named in
        # ``volume_driver``, so it says what runs instead.
        kwargs.setdefault('netapp_mode', 'proxy')
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(options.eic_opts)
        self._eic: engine.Engine | None = None
        self._eic_image_shares: list[str] = []
        self._outcome_observers: list[Observer] = []
        LOG.info('netapp-eic %(version)s: NetAppEicNfsDriver (Cinder '
                 '%(cinder)s NetApp ONTAP NFS driver %(parent)s with '
                 'Enhanced Instance Creation) for backend %(backend)s.',
                 {'version': self.VERSION,
                  'cinder': support.cinder_version(),
                  'parent': nfs_cmode.NetAppCmodeNfsDriver.VERSION,
                  'backend': self.backend_name})

    @staticmethod
    def get_driver_options() -> list[cfg.Opt]:
        parent: list[cfg.Opt] = (na_opts.netapp_img_cache_opts +
                                 na_opts.netapp_nfs_extra_opts)
        return parent + options.eic_opts

    def do_setup(self, context: typing.Any) -> None:
        self._check_cinder_release()
        super().do_setup(context)
        self._eic = engine.Engine(self._make_ontap_client(),
                                  cinderhost.CinderHost(
                                      self._get_mount_point_for_share,
                                      self._eic_mounted_shares,
                                      lambda: bool(self._execute_as_root),
                                      lambda: list(self._eic_image_shares),
                                      self._mount_glance_flexvol),
                                  self._eic_settings())
        self._eic_image_shares = self._mount_image_shares()
        _warn_if_lock_store_is_local()

    def check_for_setup_error(self) -> None:
        super().check_for_setup_error()
        self._probe_fingerprints()

    def _probe_fingerprints(self) -> None:
        """Ask ONTAP once whether it fingerprints the pools' files (the
        array then checks sha256 images, no byte read here); a refusal is
        logged once and the host hashes instead."""
        try:
            self._ensure_shares_mounted()
            problem = self.eic.probe_fingerprints()
        except Exception as e:  # decided at the first create instead
            failure.log_failure(e, 'Could not probe ONTAP file '
                                'fingerprints on %(backend)s; the first '
                                'create will', {'backend': self.backend_name})
            return
        if problem is None:
            LOG.info('ONTAP fingerprints files: sha256 images are checked '
                     'by the array.')
        else:
            LOG.info('Array fingerprints not used (%s): images are hashed '
                     'on the host.', problem)

    def _mount_glance_flexvol(self, share: str) -> None:
        """Mount a Glance FlexVol an image location names, read-only."""
        self._remotefsclient.mount(share, ['-o', 'ro'])
        if share not in self._eic_image_shares:
            self._eic_image_shares.append(share)

    def _eic_mounted_shares(self) -> list[str]:
        """The pools and Glance's FlexVols mounted now."""
        pools = list(self._mounted_shares or ())
        return pools + [share for share in self._eic_image_shares
                        if share not in pools]

    def _mount_image_shares(self) -> list[str]:
        """Mount ``netapp_eic_image_shares`` read-only; a share that
        cannot be mounted is left out (its images are hashed after their
        copy) and said so."""
        mounted = []
        for share in self.configuration.netapp_eic_image_shares or ():
            try:
                self._remotefsclient.mount(share, ['-o', 'ro'])
            except Exception as e:  # verification still runs, later
                failure.log_failure(e, 'Glance share %(share)s could not '
                                    'be mounted; images on it are hashed '
                                    'after their copy', {'share': share})
                continue
            mounted.append(share)
        return mounted

    def _make_ontap_client(self) -> ontap.OntapClient:
        """The netapp_ontap client; tests and deployments may override."""
        return ontap.OntapClient.from_configuration(
            self.configuration, trace_enabled=lambda: volume_utils.TRACE_API)

    def _check_cinder_release(self) -> None:
        """Refuse a Cinder release netapp-eic is not tested with, unless
        ``netapp_eic_allow_untested_cinder`` says to go ahead."""
        version = support.cinder_version()
        if support.cinder_tested(version):
            return
        message = support.untested_cinder_message(version)
        if not self.configuration.safe_get(
                'netapp_eic_allow_untested_cinder'):
            raise exception.EicError(reason=message)
        LOG.warning('Running on an untested Cinder release '
                    '(netapp_eic_allow_untested_cinder is set): %s', message)

    def _eic_settings(self) -> Settings:
        return backend.settings_from(
            self.configuration, image_utils.CONF.image_conversion_disable,
            image_utils.CONF.state_path)

    @property
    def eic(self) -> engine.Engine:
        if self._eic is None:
            raise exception.EicError(reason='do_setup has not run')
        return self._eic

    @staticmethod
    def _request(volume: typing.Any, image_location: typing.Any,
                 image_meta: typing.Any) -> CreateRequest:
        return CreateRequest(
            volume_id=volume['id'], volume_name=volume['name'],
            size_bytes=int(volume['size']) * units.Gi,
            pool=volume_utils.extract_host(volume['host'], level='pool'),
            image_meta=image_meta, image_location=image_location)

    def explain_clone(self, volume: typing.Any, image_location: typing.Any,
                      image_meta: typing.Any) -> str:
        """The plan ``clone_image`` would follow, without side effects."""
        return self.eic.explain(self._request(volume, image_location,
                                              image_meta))

    def clone_image(self, context: typing.Any, volume: typing.Any,
                    image_location: typing.Any, image_meta: typing.Any,
                    image_service: typing.Any
                    ) -> tuple[dict[str, typing.Any] | None, bool]:
        """Create ``volume`` from the image inside the storage cluster.

        Returns ``({'provider_location': pool, 'bootable': True, ...},
        True)`` only when the volume file exists at its final size with
        permissions and QoS applied; otherwise ``(None, False)`` after
        removing everything the attempt created, and Cinder downloads.
        """
        request = self._request(volume, image_location, image_meta)
        if (self._is_flexgroup(host=volume['host']) and
                not self._is_flexgroup_clone_file_supported()):
            LOG.info('EIC skipped for volume %(vol)s: pool %(pool)s is a '
                     'FlexGroup without file clone support.',
                     {'vol': request.volume_id, 'pool': request.pool})
            return None, False
        self._warn_copyoffload_deprecated()
        try:
            volume_type = self._volume_type(volume)
        except Exception as e:  # any failure here only means "download"
            failure.log_plan_failure(e, 'could not read the volume type',
                                     request.volume_id)
            self._observed(request, Outcome(
                Route.DOWNLOAD, failures=(('plan', failure.reason_of(e)),)))
            return None, False
        outcome = self.eic.create(request)
        if outcome.cloned:
            outcome = self._finish_clone(volume, request, outcome,
                                         volume_type)
        self._log_outcome(request, outcome)
        self._observed(request, outcome)
        if not outcome.cloned:
            return None, False
        admin_metadata = dict(volume.admin_metadata
                              if volume.obj_attr_is_set('admin_metadata')
                              and volume.admin_metadata else {})
        admin_metadata['format'] = 'raw'
        return {'provider_location': request.pool, 'bootable': True,
                'admin_metadata': admin_metadata}, True

    def add_outcome_observer(self, observer: Observer) -> None:
        """Call ``observer(request, outcome)`` after each create from an
        image (``clone_image``), in that create's thread, with its
        :class:`~netapp_eic.core.types.CreateRequest` and final
        :class:`~netapp_eic.core.types.Outcome`: how the demo, the
        benchmarks and the tests learn what a create did, concurrent
        creates included. An observer's exception is logged, not raised.
        """
        self._outcome_observers.append(observer)

    def _observed(self, request: CreateRequest, outcome: Outcome) -> None:
        for observer in self._outcome_observers:
            try:
                observer(request, outcome)
            except Exception:  # an observer never fails a create
                LOG.exception('EIC outcome observer %r failed', observer)

    def _finish_clone(self, volume: typing.Any, request: CreateRequest,
                      outcome: Outcome, volume_type: dict[str, typing.Any]
                      ) -> Outcome:
        """Permissions and QoS of the new volume file; on failure the file
        is removed and the create declined (the outcome says why)."""
        extra_specs = volume_type.get('extra_specs') or {}
        try:
            self._set_rw_permissions(str(outcome.volume_file))
            if (volume_type.get('qos_specs_id') or
                    na_utils.get_legacy_qos_policy(extra_specs)):
                self._do_qos_for_volume(volume, extra_specs, cleanup=False)
        except Exception as e:  # the file is removed, Cinder downloads
            failure.log_failure(e, 'EIC could not finish volume %(vol)s; '
                                'removing it, Cinder will download',
                                {'vol': request.volume_id})
            self.eic.discard(request)
            return dataclasses.replace(
                outcome, path=Route.DOWNLOAD, volume_file=None,
                failures=outcome.failures + ((str(outcome.path), str(e)),))
        return outcome

    @staticmethod
    def _volume_type(volume: typing.Any) -> dict[str, typing.Any]:
        """The volume's type, read once per create (extra specs and QoS
        specs id); {} without one."""
        type_id = volume.get('volume_type_id')
        if type_id is None:
            return {}
        volume_type = volume_types.get_volume_type(
            cinder_context.get_admin_context(), type_id) or {}
        na_utils.log_extra_spec_warnings(volume_type.get('extra_specs', {}))
        return dict(volume_type)

    def _set_rw_permissions(self, path: str) -> None:
        """The parent's permissions (660 with secure file permissions,
        else read-write for all) set by this process when it may, without
        a ``chmod`` subprocess; otherwise as the parent does (as root)."""
        try:
            if self.configuration.nas_secure_file_permissions == 'true':
                os.chmod(path, 0o660)
            else:
                os.chmod(path, os.stat(path).st_mode & 0o7777 | 0o666)
        except PermissionError:
            super()._set_rw_permissions(path)

    def _log_outcome(self, request: CreateRequest, outcome: Outcome) -> None:
        skipped = list(outcome.skipped) + [
            '%s failed: %s' % pair for pair in outcome.failures]
        LOG.info('EIC image %(image)s -> volume %(vol)s on pool %(pool)s: '
                 'path %(path)s%(details)s in %(secs).3f s; %(skipped)s',
                 {'image': request.image_id, 'vol': request.volume_id,
                  'pool': request.pool, 'path': outcome.path,
                  'details': ''.join(' (%s)' % d
                                     for d in outcome.details()),
                  'secs': outcome.seconds,
                  'skipped': '; '.join(skipped) or 'no path skipped'})

    def _get_pool_stats(self, filter_function: typing.Any = None,
                        goodness_function: typing.Any = None
                        ) -> list[dict[str, typing.Any]]:
        """The parent's pools, each with the netapp-eic version, whether
        EIC serves it, and what the scheduler's ImageCacheWeigher reads
        about its image cache (entries, bytes, pressure)."""
        pools: list[dict[str, typing.Any]] = super()._get_pool_stats(
            filter_function=filter_function,
            goodness_function=goodness_function)
        if self._eic is None:
            return pools
        limit = self.configuration.netapp_eic_scheduler_report_images
        for pool in pools:
            pool['netapp_eic_version'] = self.VERSION
            pool['netapp_eic_active'] = not (
                pool.get('netapp_is_flexgroup') == 'true' and
                not self._is_flexgroup_clone_file_supported())
            try:
                pool.update(self._eic.pool_report(pool['pool_name'], limit))
            except Exception as e:
                failure.log_failure(e, 'EIC cache report of pool %(pool)s '
                                    'failed', {'pool': pool.get('pool_name')})
        return pools

    def _warn_copyoffload_deprecated(self) -> None:
        if self.configuration.netapp_copyoffload_tool_path:
            versionutils.report_deprecated_feature(
                LOG.logger, 'The "netapp_copyoffload_tool_path" option is '
                'deprecated; netapp-eic uses ONTAP File Copy when it is not '
                'set.')

    def _clean_image_cache(self) -> None:
        """The periodic cache task, replacing the parent's (which deletes
        ``img-cache*`` files biggest first, by atime, without regard for a
        clone in progress): least-recently-used eviction down to the
        budgets, records without entries, expired leases, File Copy jobs
        whose cancellation failed, and temporary files older than the
        longest copy may run (File Copy or tool timeout) whose image's
        build lock nobody holds."""
        if self._eic is None:
            return
        self._eic.maintain(self._eic.settings.longest_copy)

    def copy_image_to_volume(self, context: typing.Any, volume: typing.Any,
                             image_service: typing.Any, image_id: str,
                             disable_sparse: bool = False) -> None:
        """Cinder's download, then register the image in the pool's cache.

        The parent NetApp registration (a clone at the volume's size) is
        replaced by one at the image's virtual size.
        """
        self._ensure_flexgroup_not_in_cg(volume)
        remotefs.RemoteFSDriver.copy_image_to_volume(
            self, context, volume, image_service, image_id,
            disable_sparse=disable_sparse)
        if (self._is_flexgroup(host=volume['host']) and
                not self._is_flexgroup_clone_file_supported()):
            return
        pool = (volume['provider_location'] or
                volume_utils.extract_host(volume['host'], level='pool'))
        try:
            image_meta = image_service.show(context, image_id)
            size = imagesize.virtual_size(
                image_meta, image_service.download(context, image_id)
                if image_meta.get('disk_format') != 'raw' else ())
            done, why = self.eic.register(volume['name'], pool, image_meta,
                                          size)
        except Exception as e:  # the volume is made; only the cache misses
            failure.log_failure(e, 'Image %(image)s not registered in the '
                                'cache of pool %(pool)s',
                                {'image': image_id, 'pool': pool})
            return
        if done is Registration.REGISTERED:
            LOG.info('Image %(image)s registered in the cache of pool '
                     '%(pool)s.', {'image': image_id, 'pool': pool})
        else:
            LOG.info('Image %(image)s not registered in the cache of pool '
                     '%(pool)s: %(why)s',
                     {'image': image_id, 'pool': pool, 'why': why})


def _warn_if_lock_store_is_local() -> None:
    """One copy per image and FlexVol across cinder-volume hosts needs a
    lock store they share; Cinder's default is a directory of each host."""
    url = cfg.CONF.coordination.backend_url or ''
    if url.startswith('file://'):
        LOG.warning('[coordination] backend_url is %(url)s: image cache '
                    'builds are single-flight on this host only. With '
                    'several cinder-volume hosts on the same FlexVols, set '
                    'a shared backend (for example redis://) or a file:// '
                    'directory all of them share, or each host copies each '
                    'image once.', {'url': url})
