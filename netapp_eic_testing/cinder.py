# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Cinder-side helpers of the harness: configuration, drivers, process setup.

Cinder is imported lazily inside each function, so the rest of the harness
(data root, mounts, Glance stand-in, images) works without it.
"""

import logging
import os
import socket
import sys
import threading

BACKEND = 'netapp_eic'
DEFAULT_SHARES = ('127.0.0.1:/vol_cinder_a', '127.0.0.1:/vol_cinder_b')


def pool_host(share, backend=BACKEND, hostname=None):
    """Cinder's ``volume.host`` for a volume in pool ``share``."""
    return '%s@%s#%s' % (hostname or socket.gethostname(), backend, share)


def write_shares_file(path, shares):
    """Write an ``nfs_shares_config`` file listing ``shares``."""
    with open(path, 'w') as shares_file:
        shares_file.write(''.join('%s\n' % share for share in shares))
    return path


def _register_driver_opts(config):
    """Register, in the backend group, every option a NetApp NFS driver
    (and netapp-eic) reads: the same lists as ``netapp-eic`` registers."""
    from netapp_eic import backend
    backend.register_backend_opts(config)


def backend_values(sim, mounts, shares=DEFAULT_SHARES, backend=BACKEND,
                   shares_dir=None, **overrides):
    """The ``[backend]`` options of a NetApp NFS backend on ``sim`` (the
    ``nfs_shares_config`` file is written); ``overrides`` win, None drops
    an option."""
    shares_dir = shares_dir or os.path.dirname(mounts.mount_point_base)
    shares_file = write_shares_file(
        os.path.join(shares_dir, '%s-shares.conf' % backend), shares)
    values = {
        'volume_driver': 'cinder.volume.drivers.netapp.common.NetAppDriver',
        'volume_backend_name': backend,
        'netapp_storage_family': 'ontap_cluster',
        'netapp_storage_protocol': 'nfs',
        'netapp_use_legacy_client': False,
        'netapp_server_hostname': sim.host,
        'netapp_server_port': sim.port,
        'netapp_transport_type': 'https' if sim.ca_file else 'http',
        'netapp_ssl_cert_path': sim.ca_file,
        'netapp_ssl_cert_verify': True,
        'netapp_login': sim.username,
        'netapp_password': sim.password,
        'netapp_vserver': sim.vserver,
        'netapp_async_rest_timeout': 60,
        'nfs_shares_config': shares_file,
        'nfs_mount_point_base': mounts.mount_point_base,
        'nas_secure_file_operations': 'false',
        'nas_secure_file_permissions': 'false',
    }
    values.update(overrides)
    return {name: value for name, value in values.items()
            if value is not None}


def write_cinder_conf(path, sections):
    """Write a ``cinder.conf`` of ``{section: {option: value}}``; lists
    become comma-separated values. Returns ``path``."""
    lines = []
    for section, values in sections.items():
        lines.append('[%s]' % section)
        for name, value in values.items():
            if isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            lines.append('%s = %s' % (name, value))
        lines.append('')
    with open(path, 'w') as conf_file:
        conf_file.write('\n'.join(lines))
    return path


def make_cinder_configuration(sim, mounts, shares=DEFAULT_SHARES,
                              backend=BACKEND, shares_dir=None, **overrides):
    """A real ``cinder.volume.configuration.Configuration`` for ``sim``.

    The values (:func:`backend_values`) are loaded into oslo.config exactly
    as a ``[backend]`` section of ``cinder.conf`` would be (raw strings,
    parsed by the option types), so code that looks the section up by
    name, such as NetApp's ``get_client_for_backend``, finds it. TLS
    verification is on, with the simulator's CA as the trusted bundle.
    """
    from cinder.common import config as cinder_config
    from cinder.volume import configuration
    from cinder.volume import driver as volume_driver
    from oslo_config import fixture as config_fixture

    values = backend_values(sim, mounts, shares, backend, shares_dir,
                            **overrides)
    conf = cinder_config.CONF
    # load_raw_values only adds a parsed "file" to the namespace (newest
    # wins), as reading cinder.conf does; it needs no fixture setUp.
    config_fixture.Config(conf).load_raw_values(group=backend, **values)
    config = configuration.Configuration(volume_driver.volume_opts,
                                         config_group=backend)
    # Registering clears oslo.config's value cache, so nothing read
    # before the raw values were loaded can linger.
    _register_driver_opts(config)
    return config


def build_driver(driver_class, configuration, mounts, host):
    """Instantiate a Cinder NFS driver whose commands go through
    ``mounts.execute``.

    NfsDriver hands ``execute`` to its os-brick client only; the driver's
    own ``_execute`` (mount.nfs probe, stat, du, rm, chmod...) stays
    ``cinder.utils.execute``, so it is replaced too, as Cinder's own driver
    tests do.
    """
    driver = driver_class(configuration=configuration,
                          execute=mounts.execute, host=host)
    driver._execute = mounts.execute
    return driver


def stop_looping_calls(driver):
    """Stop the driver's periodic tasks (EMS, housekeeping, cache, SSC)."""
    looping = getattr(driver, 'loopingcalls', None)
    for task in getattr(looping, 'tasks', ()):
        task.looping_call.stop()


def setup_cinder_process(workdir):
    """Set this process up the way cinder-volume would be, minus the
    service, for a standalone program (the demo, the benchmarks) that runs
    a driver against the simulator. Returns ``(CONF, context, objects)``.

    * native threads, not eventlet (the simulator serves from threads);
    * ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` removed: ``requests`` lets
      them override a session's CA bundle, and clients must verify the
      simulator against its own CA;
    * a sqlite database, state, lock and image conversion directories under
      ``workdir`` (NetApp's client opens the SSH known-hosts file in the
      state directory even when it never uses SSH);
    * privileged helpers (the format inspector behind ``qemu_img_info``)
      through a real privsep daemon started without sudo.
    """
    os.environ['OS_CINDER_DISABLE_EVENTLET_PATCHING'] = '1'
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        os.environ.pop(name, None)
    from cinder import monkey_patch
    monkey_patch.patch()
    from cinder.common import config as cinder_config
    from cinder import context
    from cinder.db import migration
    from cinder import objects
    conf = cinder_config.CONF
    conf([], project='cinder', default_config_files=[])
    objects.register_all()
    conf.set_override('connection', 'sqlite:///%s' % os.path.join(
        workdir, 'cinder.sqlite'), group='database')
    migration.db_sync()
    dirs = {name: os.path.join(workdir, name)
            for name in ('state', 'locks', 'conversion')}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    open(os.path.join(dirs['state'], 'ssh_known_hosts'), 'a').close()
    conf.set_override('state_path', dirs['state'])
    conf.set_override('lock_path', dirs['locks'], group='oslo_concurrency')
    conf.set_override('image_conversion_dir', dirs['conversion'])
    helper = os.path.join(os.path.dirname(sys.executable), 'privsep-helper')
    conf.set_override('helper_command', helper, group='cinder_sys_admin')
    return conf, context, objects


def setup_privileges():
    """Cinder's privileged parts for a standalone program, before its
    first create: the privsep helper started (or its entry points run in
    this process) and, without root, root commands run as this user.
    Returns what runs as this user instead of as root, one line each (none
    as root), for the program to say once at the top."""
    notes = []
    reason = start_privileged_helper()
    if reason:
        notes.append('privileged helper: in this process, as this user '
                     '(%s)' % reason)
    if root_commands_as_user():
        notes.append('root commands (qemu-img): as this user, not through '
                     'sudo cinder-rootwrap (not root)')
    return notes


def start_privileged_helper(context=None, timeout=30.0):
    """Start Cinder's privileged helper, or run its entry points here.

    cinder-volume runs a few functions (the format inspector behind
    ``qemu_img_info``, ``path.touch``) in a privsep daemon that
    ``privsep-helper`` starts. Without root the helper cannot set its
    capabilities and dies, and oslo.privsep may then wait for it without
    a bound. So the start is tried once, here, for at most ``timeout``
    seconds; if the helper does not come up, ``context`` is switched to
    run its entry points in this process (oslo.privsep's client mode off:
    the same functions, as this user).

    :param context: the ``PrivContext`` (default Cinder's
        ``sys_admin_pctxt``).
    :returns: None when the helper runs, else why it does not.
    """
    if context is None:
        import cinder.privsep
        context = cinder.privsep.sys_admin_pctxt
    _log_privsep_thread_errors()
    failure = []

    def start():
        try:
            context.start()
        except Exception as exc:  # reported as the reason below
            failure.append(exc)

    thread = threading.Thread(target=start, name='privsep-start',
                              daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        reason = 'privsep-helper did not answer within %g s' % timeout
    elif failure:
        reason = 'privsep-helper could not start: %s' % failure[0]
    else:
        return None
    if os.geteuid() != 0:
        reason += '; without root it cannot set its capabilities'
    context.set_client_mode(False)
    return reason


def root_commands_as_user():
    """Without root, run Cinder's ``run_as_root`` commands as this user.

    Cinder runs ``qemu-img info`` and ``qemu-img convert`` with
    ``run_as_root``; as anyone but root that means ``sudo cinder-rootwrap``,
    which a developer's machine has no configuration for. The root helper
    becomes ``env``: the same command lines, as this user, on files this
    user owns. Returns True when it was switched (not root).
    """
    if os.geteuid() == 0:
        return False
    from cinder import utils
    utils.get_root_helper = root_helper_as_user
    return True


def root_helper_as_user():
    """A root helper that runs the command as it is, as this user."""
    return 'env'


def _log_privsep_thread_errors():
    """A helper that dies after connecting ends oslo.privsep's reader
    thread with an exception that Python prints on standard error; it is
    the failure already reported, so it goes to the log instead."""
    if getattr(threading.excepthook, 'netapp_eic', False):
        return
    default = threading.excepthook

    def hook(args):
        name = args.thread.name if args.thread else ''
        if name.startswith('privsep'):
            logging.getLogger(__name__).warning(
                'privsep thread %s ended: %s: %s', name,
                args.exc_type.__name__, args.exc_value)
            return
        default(args)

    hook.netapp_eic = True
    threading.excepthook = hook
