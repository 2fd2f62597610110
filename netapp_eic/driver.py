# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""NetAppEicNfsDriver: Cinder's NetApp ONTAP NFS driver with EIC.

Operators configure it in a backend stanza::

    [ontap-nfs]
    volume_driver = netapp_eic.driver.NetAppEicNfsDriver
    netapp_storage_family = ontap_cluster
    netapp_storage_protocol = nfs
    ...

Everything unrelated to images is the parent's. ``clone_image`` gathers the
facts (:mod:`netapp_eic.engine`), plans (:mod:`netapp_eic.planner`) and runs
the plan; ``copy_image_to_volume`` (Cinder's download, also re-image)
registers the result in the pool's cache so the next create is a clone.
"""

import os
import time

from cinder.volume.drivers.netapp.dataontap import nfs_cmode
from cinder.volume.drivers.netapp import options as na_opts
from cinder.volume.drivers.netapp import utils as na_utils
from cinder.volume.drivers import remotefs
from cinder.volume import volume_utils
from oslo_log import log as logging
from oslo_log import versionutils
from oslo_utils import units

import netapp_eic
from netapp_eic import client
from netapp_eic import engine
from netapp_eic import exception
from netapp_eic import options
from netapp_eic import planner
from netapp_eic.i18n import _

LOG = logging.getLogger(__name__)


class NetAppEicNfsDriver(nfs_cmode.NetAppCmodeNfsDriver):
    """NetApp ONTAP NFS driver with Enhanced Instance Creation.

    Version history:

    .. code-block:: none

        0.1.0 - FlexClone from the pool cache or a Glance file in the same
                FlexVol, ONTAP File Copy, copy offload tool, download with
                cache registration
    """

    EIC_VERSION = netapp_eic.__version__

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(options.eic_opts)
        self._eic = None
        self.last_eic_outcome = None

    @staticmethod
    def get_driver_options():
        return (na_opts.netapp_img_cache_opts + na_opts.netapp_nfs_extra_opts
                + options.eic_opts)

    def do_setup(self, context):
        super().do_setup(context)
        self._eic = engine.Engine(self, self._make_ontap_client(),
                                  self.configuration)

    def _make_ontap_client(self):
        """The netapp_ontap client; tests and deployments may override."""
        return client.OntapClient.from_configuration(self.configuration)

    # ------------------------------------------------------------ decision
    def plan_clone(self, volume, image_location, image_meta):
        """The plan ``clone_image`` would follow, without side effects."""
        pool = volume_utils.extract_host(volume['host'], level='pool')
        facts, dest = self._eic.gather(volume, pool, image_location,
                                       image_meta)
        return planner.plan(facts), dest

    def explain_clone(self, volume, image_location, image_meta):
        return planner.explain(self.plan_clone(volume, image_location,
                                               image_meta)[0])

    # ------------------------------------------------------------ create
    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        """Create ``volume`` from the image inside the storage cluster.

        Returns ``({'provider_location': pool, 'bootable': True, ...},
        True)`` only when the volume file exists at its final size with
        permissions and QoS applied; otherwise ``(None, False)`` after
        removing everything the attempt created, and Cinder downloads.
        """
        start = time.monotonic()
        pool = volume_utils.extract_host(volume['host'], level='pool')
        if (self._is_flexgroup(host=volume['host']) and
                not self._is_flexgroup_clone_file_supported()):
            LOG.info('EIC skipped for volume %(vol)s: pool %(pool)s is a '
                     'FlexGroup without file clone support.',
                     {'vol': volume['id'], 'pool': pool})
            return None, False
        self._warn_copyoffload_deprecated()
        try:
            the_plan, dest = self.plan_clone(volume, image_location,
                                             image_meta)
            extra_specs = na_utils.get_volume_extra_specs(volume)
        except Exception as e:
            LOG.warning('EIC could not plan volume %(vol)s from image '
                        '%(image)s, Cinder will download: %(err)s',
                        {'vol': volume['id'], 'image': image_meta['id'],
                         'err': e})
            self.last_eic_outcome = engine.Outcome(
                planner.Path.DOWNLOAD, time.monotonic() - start,
                failures=[('plan', str(e))])
            return None, False
        outcome = self._eic.run(
            the_plan, volume, dest, image_meta,
            finish=lambda d: self._finish_clone(volume, d, extra_specs))
        outcome.seconds = time.monotonic() - start
        self.last_eic_outcome = outcome
        self._log_outcome(volume, image_meta, pool, outcome)
        if not outcome.cloned:
            return None, False
        admin_metadata = dict(volume.admin_metadata
                              if volume.obj_attr_is_set('admin_metadata')
                              and volume.admin_metadata else {})
        admin_metadata['format'] = 'raw'
        return {'provider_location': pool, 'bootable': True,
                'admin_metadata': admin_metadata}, True

    def _finish_clone(self, volume, dest, extra_specs):
        """Check the new volume file through ONTAP and on the mount, give
        it its final size, permissions and QoS."""
        if self._eic.client.file_info(dest.flexvol, volume['name']) is None:
            raise exception.EicError(reason=_(
                'ONTAP does not report the cloned file %s') % volume['name'])
        path = dest.local(volume['name'])
        self._eic.wait_visible(path)
        wanted = volume['size'] * units.Gi
        current = os.path.getsize(path)
        if current > wanted:
            raise exception.EicError(reason=_(
                'image virtual size %(img)d exceeds the volume size %(vol)d')
                % {'img': current, 'vol': wanted})
        if current < wanted:
            os.truncate(path, wanted)
        self._set_rw_permissions(path)
        self._do_qos_for_volume(volume, extra_specs, cleanup=False)

    def _log_outcome(self, volume, image_meta, pool, outcome):
        skipped = outcome.skipped + [
            '%s failed: %s' % pair for pair in outcome.failures]
        LOG.info('EIC image %(image)s -> volume %(vol)s on pool %(pool)s: '
                 'path %(path)s%(note)s in %(secs).3f s; %(skipped)s',
                 {'image': image_meta['id'], 'vol': volume['id'],
                  'pool': pool, 'path': outcome.path,
                  'note': ' (%s)' % outcome.note if outcome.note else '',
                  'secs': outcome.seconds,
                  'skipped': '; '.join(skipped) or 'no path skipped'})

    def _warn_copyoffload_deprecated(self):
        if self.configuration.netapp_copyoffload_tool_path:
            versionutils.report_deprecated_feature(
                LOG, 'The "netapp_copyoffload_tool_path" option is '
                     'deprecated; netapp-eic uses ONTAP File Copy when it '
                     'is not set.')

    # ------------------------------------------------------------ cleanup
    def _clean_image_cache(self):
        """The parent's periodic cache cleanup, plus removal of temporary
        files that a crashed create left behind (older than twice the File
        Copy timeout, and at least an hour)."""
        super()._clean_image_cache()
        if self._eic is not None:
            max_age = max(3600, 2 * self.configuration.safe_get(
                'netapp_eic_file_copy_timeout'))
            self._eic.sweep_temporaries(max_age)

    # ------------------------------------------------------------ download
    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             disable_sparse=False):
        """Cinder's download, then register the image in the pool's cache.

        The parent NetApp registration (a clone at the volume's size) is
        replaced by one at the image's virtual size.
        """
        self._ensure_flexgroup_not_in_cg(volume)
        remotefs.RemoteFSDriver.copy_image_to_volume(
            self, context, volume, image_service, image_id,
            disable_sparse=disable_sparse)
        if not self.configuration.netapp_eic_cache_enabled:
            return
        if (self._is_flexgroup(host=volume['host']) and
                not self._is_flexgroup_clone_file_supported()):
            return
        pool = (volume['provider_location'] or
                volume_utils.extract_host(volume['host'], level='pool'))
        try:
            image_meta = image_service.show(context, image_id)
            skipped = self._eic.register(volume, pool, image_meta)
        except Exception as e:
            LOG.warning('Image %(image)s not registered in the cache of pool '
                        '%(pool)s: %(err)s',
                        {'image': image_id, 'pool': pool, 'err': e})
            return
        if skipped:
            LOG.info('Image %(image)s not registered in the cache of pool '
                     '%(pool)s: %(why)s',
                     {'image': image_id, 'pool': pool, 'why': skipped})
        else:
            LOG.info('Image %(image)s registered in the cache of pool '
                     '%(pool)s.', {'image': image_id, 'pool': pool})
