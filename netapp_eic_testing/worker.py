# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""A cinder-volume stand-in process for active/active tests.

``python -m netapp_eic_testing.worker SPEC.json`` sets this process up as a
cinder-volume host would be (own sqlite database and state directory,
Cinder's coordinator started on the spec's ``backend_url``), builds the real
``NetAppEicNfsDriver`` against an already running simulator whose shares
the parent already mounted, prints ``ready``, waits until the spec's
``go_file`` exists, then fires ``creates`` calls of ``clone_image`` at once
(one thread each) and writes one JSON line per create to ``result_file``.
It never mounts or unmounts anything; the parent owns the storage.
"""

import json
import os
import sys
import threading
import time
import types


def _spec(path):
    with open(path) as spec_file:
        return json.load(spec_file)


def _start_cinder(spec):
    from netapp_eic_testing import cinder as cinder_mod
    conf, context, objects = cinder_mod.setup_cinder_process(spec['workdir'])
    conf.set_override('backend_url', spec['backend_url'],
                      group='coordination')
    from cinder import coordination
    coordination.COORDINATOR.start()
    return context, objects, coordination.COORDINATOR


def _driver(spec):
    from netapp_eic.driver import NetAppEicNfsDriver
    from netapp_eic_testing import cinder as cinder_mod
    from netapp_eic_testing import nfs
    sim = types.SimpleNamespace(**spec['sim'])
    mounts = nfs.NfsMounts(spec['shares'], spec['mount_point_base'])
    config = cinder_mod.make_cinder_configuration(
        sim, mounts, list(spec['pools']), backend=spec['backend'],
        shares_dir=spec['workdir'], **spec.get('overrides', {}))
    driver = cinder_mod.build_driver(
        NetAppEicNfsDriver, config, mounts,
        '%s@%s' % (spec['hostname'], spec['backend']))
    from cinder import context
    driver.do_setup(context.get_admin_context())
    driver.check_for_setup_error()
    cinder_mod.stop_looping_calls(driver)
    return driver


def _create(driver, ctx, objects, spec, n, results, lock):
    from netapp_eic_testing import cinder as cinder_mod
    from netapp_eic_testing import outcomes as outcomes_mod
    volume = objects.Volume(
        context=ctx, size=1, status='creating', provider_location=None,
        host=cinder_mod.pool_host(spec['pools'][0], spec['backend'],
                                  spec['hostname']),
        display_name='%s-%d' % (spec['hostname'], n))
    volume.create()
    outcomes = outcomes_mod.recorder(driver)
    start = time.monotonic()
    try:
        model, cloned = driver.clone_image(
            ctx, volume, spec['image_location'], spec['image_meta'], None)
        outcome = outcomes.of(volume.id)
        line = {'volume': volume.name, 'cloned': cloned,
                'path': str(outcome.path), 'host_bytes': outcome.host_bytes,
                'verified': outcome.verified,
                'seconds': time.monotonic() - start}
    except Exception as e:  # reported to the parent, which fails the test
        line = {'volume': volume.name, 'error': repr(e)}
    with lock:
        results.append(line)


def main(argv=None):
    spec = _spec((argv or sys.argv[1:])[0])
    context, objects, coordinator = _start_cinder(spec)
    try:
        driver = _driver(spec)
        ctx = context.get_admin_context()
        print('ready', flush=True)
        while not os.path.exists(spec['go_file']):
            time.sleep(0.01)
        results, lock = [], threading.Lock()
        threads = [threading.Thread(target=_create, args=(
            driver, ctx, objects, spec, n, results, lock))
            for n in range(spec['creates'])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with open(spec['result_file'], 'w') as out:
            out.writelines(json.dumps(r) + '\n' for r in results)
    finally:
        coordinator.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
