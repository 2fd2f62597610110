# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic`` run as an operator runs it: a separate process reading a
real cinder.conf, against the simulator over HTTPS with the shares mounted
where os-brick mounts them. Each test checks the output and the exit
status, and that the ONTAP password never shows."""

import json
import os
import subprocess
import sys

import pytest

from netapp_eic.core import cache
from netapp_eic.core import records
from netapp_eic_testing import cinder as cinder_mod
from netapp_eic_testing import glance_http
from netapp_eic_testing import images
from netapp_eic_testing import stack as stack_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
POOL_A, POOL_B = stack_mod.DEFAULT_SHARES
DRIVER = 'netapp_eic.driver.NetAppEicNfsDriver'
SIZE = 4 * 1024 * 1024


@pytest.fixture(scope='module')
def stack(tmp_path_factory):
    with stack_mod.Stack(base_dir=str(tmp_path_factory.mktemp('stack')),
                         seed=11) as started:
        yield started


@pytest.fixture
def mounted(stack):
    """The pools mounted where the CLI looks for them (/proc/mounts): the
    harness bind-mounts them as root and can only link them otherwise."""
    if stack.mounts.mode != 'bind':
        pytest.skip('needs root: netapp-eic reads pools through real mounts '
                    '(/proc/mounts); without root the harness links them')


def write_conf(stack, directory, shares=stack_mod.DEFAULT_SHARES,
               default=None, **overrides):
    """A cinder.conf with one EIC backend [netapp_eic] on the stack."""
    values = cinder_mod.backend_values(
        stack.sim, stack.mounts, shares, shares_dir=str(directory),
        volume_driver=DRIVER, **overrides)
    sections = {'DEFAULT': dict({'enabled_backends': 'netapp_eic',
                                 'state_path': str(directory)},
                                **(default or {})),
                'netapp_eic': values}
    return cinder_mod.write_cinder_conf(str(directory / 'cinder.conf'),
                                        sections)


def run(conf, *args):
    """``netapp-eic --config-file conf ARGS``: (status, stdout, stderr)."""
    argv = [sys.executable, '-m', 'netapp_eic.cmd.main']
    if conf:
        argv += ['--config-file', conf]
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run(argv + list(args), capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    return result.returncode, result.stdout, result.stderr


def rows(stdout):
    return {row['Check']: row for row in json.loads(stdout)}


def assert_no_secret(stack, *texts):
    for text in texts:
        assert stack.sim.password not in text


# -- doctor -----------------------------------------------------------------

@pytest.mark.usefixtures('mounted')
def test_doctor_passes_on_the_simulator(stack, tmp_path):
    conf = write_conf(stack, tmp_path)
    status, out, err = run(conf, '--debug', 'doctor', '-f', 'json')
    assert status == 0, err
    found = rows(out)
    assert not [c for c, r in found.items() if r['Result'] == 'fail']
    for name in ('volume driver', 'Cinder release', 'ONTAP connection',
                 'ONTAP TLS', 'ONTAP credentials', 'ONTAP version',
                 'share %s' % POOL_A, 'share %s' % POOL_B,
                 'mount %s' % POOL_A, 'mount %s' % POOL_B,
                 'copy offload tool', 'coordination', 'cache %s' % POOL_A):
        assert found[name]['Result'] == 'ok', (name, found[name])
    assert found['share %s' % POOL_A]['Detail'] == (
        'SVM vs0, data LIF 127.0.0.1, FlexVol vol_cinder_a at /vol_cinder_a')
    assert found['ONTAP TLS']['Detail'].endswith(
        'verified against %s' % stack.sim.ca_file)
    assert found['ONTAP version']['Detail'].startswith('ONTAP 9.14.1')
    assert found['Glance locations']['Result'] == 'warn'
    assert 'show_multiple_locations' in found['Glance locations']['Detail']
    assert found['Glance FlexVols']['Result'] == 'ok'
    assert 'of SVM vs0' in found['Glance FlexVols']['Detail']
    # The simulator fingerprints files (an assumption about ONTAP, see
    # doc/simulator-coverage.rst); a pool's small file is compared when the
    # pools are mounted, else the check says it had none to read.
    assert found['array fingerprints']['Result'] in ('ok', 'skip')
    assert_no_secret(stack, out, err)


@pytest.mark.usefixtures('mounted')
def test_doctor_array_fingerprints_ok_then_refused(stack, tmp_path):
    conf = write_conf(stack, tmp_path)
    # A small file in a pool for the check to fingerprint.
    records.write(stack.share_dir(POOL_A), records.Record(
        'probe', None, 'raw', 1, 1.0, 1.0, 'test', False))
    status, out, err = run(conf, 'doctor', '-f', 'json')
    check = rows(out)['array fingerprints']
    assert check['Result'] == 'ok', check
    assert 'sha256 images are checked by the array' in check['Detail']
    stack.sim.add_fault(method='POST',
                        path='/api/storage/snaplock/file-fingerprints',
                        refuse='forbidden')
    status, out, err = run(conf, 'doctor', '-f', 'json')
    check = rows(out)['array fingerprints']
    assert check['Result'] == 'warn', check
    assert 'HTTP 403' in check['Detail']
    assert status == 0


def test_doctor_table_has_the_four_columns(stack, tmp_path):
    status, out, err = run(write_conf(stack, tmp_path), 'doctor')
    assert status == 0, err
    header = out.splitlines()[1]
    assert [c.strip() for c in header.strip('|').split('|')] == [
        'Check', 'Result', 'Detail', 'Action']


def test_doctor_fails_on_a_wrong_password(stack, tmp_path):
    wrong = 'not-the-password-42'
    conf = write_conf(stack, tmp_path, netapp_password=wrong)
    status, out, err = run(conf, '-v', '--debug', 'doctor', '-f', 'json')
    assert status == 1
    found = rows(out)
    assert found['ONTAP credentials']['Result'] == 'fail'
    assert found['ONTAP credentials']['Detail'] == (
        'ONTAP refused user admin with a password (HTTP 401)')
    assert 'netapp_password' in found['ONTAP credentials']['Action']
    assert found['ONTAP checks']['Result'] == 'skip'
    assert 'share %s' % POOL_A not in found
    assert wrong not in out + err
    assert_no_secret(stack, out, err)


def test_doctor_fails_on_a_wrong_ca(stack, tmp_path):
    from netapp_eic.simulator import tls
    other_ca, _cert, _key = tls.generate(str(tmp_path))
    conf = write_conf(stack, tmp_path, netapp_ssl_cert_path=other_ca)
    status, out, err = run(conf, 'doctor', '-f', 'json')
    assert status == 1
    found = rows(out)
    assert found['ONTAP TLS']['Result'] == 'fail'
    assert found['ONTAP TLS']['Detail'].startswith(
        'certificate of 127.0.0.1 not trusted by %s' % other_ca)
    assert 'netapp_ssl_cert_path' in found['ONTAP TLS']['Action']
    assert 'ONTAP credentials' not in found
    assert_no_secret(stack, out, err)


def test_doctor_names_the_svm_peer_glance_needs_then_passes(stack,
                                                            tmp_path):
    """Glance's FlexVol in SVM vs1 (netapp_eic_image_shares): doctor fails
    with the command to run, and passes once the peer exists."""
    from netapp_ontap import HostConnection
    from netapp_ontap.resources import SvmPeer
    conf = write_conf(stack, tmp_path,
                      netapp_eic_image_shares='127.0.0.2:/vol_vs1')
    status, out, _err = run(conf, 'doctor', '-f', 'json')
    found = rows(out)['SVM peer vs0-vs1']
    assert (status, found['Result']) == (1, 'fail')
    assert found['Detail'] == (
        'SVM vs1 is not peered with SVM vs0 for file copy (Glance share '
        '127.0.0.2:/vol_vs1): File Copy from it is skipped, creates '
        'download')
    assert found['Action'] == ('vserver peer create -vserver vs0 '
                               '-peer-vserver vs1 -applications file-copy')
    sim = stack.sim
    connection = HostConnection(sim.host, sim.username, sim.password,
                                verify=sim.ca_file, port=sim.port)
    peer = SvmPeer(svm={'name': 'vs0'}, peer={'svm': {'name': 'vs1'}},
                   applications=['file_copy'])
    peer.set_connection(connection)
    peer.post()
    try:
        status, out, err = run(conf, 'doctor', '-f', 'json')
        found = rows(out)['SVM peer vs0-vs1']
        assert found['Result'] == 'ok', found
        assert 'File Copy from Glance share 127.0.0.2:/vol_vs1' in (
            found['Detail'])
        assert 'fail' not in {r['Result'] for r in rows(out).values()}
    finally:
        peer.delete()


def test_doctor_fails_on_a_share_that_is_no_flexvol(stack, tmp_path):
    bogus = '127.0.0.1:/no_such_volume'
    conf = write_conf(stack, tmp_path, shares=(POOL_A, bogus))
    status, out, err = run(conf, 'doctor', '-f', 'json')
    assert status == 1
    found = rows(out)
    assert found['share %s' % POOL_A]['Result'] == 'ok'
    assert found['share %s' % bogus]['Result'] == 'fail'
    assert 'no FlexVol of SVM vs0 is mounted at /no_such_volume' in (
        found['share %s' % bogus]['Detail'])
    assert found['mount %s' % bogus]['Result'] == 'warn'


def test_doctor_active_active_and_copy_offload(stack, tmp_path):
    tool = stack.sim.write_copyoffload_tool(str(tmp_path))
    conf = write_conf(stack, tmp_path, default={'cluster': 'az1'},
                      netapp_copyoffload_tool_path=tool)
    status, out, _err = run(conf, 'doctor', '-f', 'json')
    assert status == 1
    found = rows(out)
    assert found['coordination']['Result'] == 'fail'
    assert 'cluster = az1' in found['coordination']['Detail']
    assert found['copy offload tool']['Result'] == 'warn'
    assert found['copy offload tool']['Detail'] == (
        '%s (deprecated; used instead of File Copy)' % tool)
    assert found['vStorage on SVM vs0'] == {
        'Check': 'vStorage on SVM vs0', 'Result': 'ok', 'Detail': 'enabled',
        'Action': ''}


def test_unknown_backend_is_named(stack, tmp_path):
    status, out, err = run(write_conf(stack, tmp_path), '--backend', 'nope',
                           'doctor')
    assert status == 1 and out == ''
    assert 'no section [nope]' in err


# -- explain ----------------------------------------------------------------

def add_image(stack, service, tmp_path, seed, fmt='raw'):
    path = str(tmp_path / ('src-%d' % seed))
    images.make_image(path, fmt, SIZE, seed=seed)
    return service.add_image(path, fmt)


def meta_file(service, image_id, tmp_path, **changes):
    """Glance's JSON of an image, as ``GET /v2/images/{id}`` with
    ``show_multiple_locations`` gives it."""
    direct_url, locations = service.get_location(None, image_id)
    meta = dict(service.show(None, image_id), locations=locations,
                direct_url=direct_url)
    meta.update(changes)
    path = tmp_path / ('%s.json' % image_id)
    path.write_text(json.dumps(meta, default=str))
    return str(path)


def explain(conf, *args):
    status, out, err = run(conf, 'explain', '-f', 'json', *args)
    assert status == 0, err
    plan = {}
    for row in json.loads(out):
        plan.setdefault(row['Pool'], []).append(
            (row['Order'], row['Path'], row['Decision'], row['Detail']))
    return plan


def tried(plan, pool):
    return [path for _order, path, decision, _d in plan[pool]
            if decision == 'try']


def state(stack):
    """What a command could have changed: the FlexVols' files and the
    requests that change anything."""
    files = {share: sorted(os.listdir(path))
             for share, path in stack.sim.shares.items()}
    changes = [r for r in stack.sim.request_log()
               if r['method'] in ('POST', 'PATCH', 'DELETE')]
    return files, changes


def test_explain_direct_clone_and_file_copy(stack, tmp_path):
    glance = stack.glance('vol_cinder_a', 'glance-images')
    image_id = add_image(stack, glance, tmp_path, 31)
    conf = write_conf(stack, tmp_path)
    before = state(stack)
    plan = explain(conf, '--image-meta', meta_file(glance, image_id,
                                                   tmp_path))
    assert state(stack) == before
    assert tried(plan, POOL_A) == ['direct-clone', 'download']
    assert tried(plan, POOL_B) == ['file-copy', 'download']
    skipped = {path: detail for _o, path, decision, detail in plan[POOL_A]
               if decision == 'skip'}
    assert skipped['cache-clone'] == (
        'no cache entry in FlexVol vol_cinder_a')
    assert plan[POOL_B][0][3].startswith('from file://')


@pytest.mark.usefixtures('mounted')
def test_explain_cache_clone_and_copy_offload(stack, tmp_path):
    image_id = add_image(stack, stack.image_service, tmp_path, 32)
    meta = stack.image_service.show(None, image_id)
    entry_dir = stack.share_dir(POOL_A)
    tmp_name = cache.temp_name('test')
    with open(stack.image_service.image_path(image_id), 'rb') as src, open(
            os.path.join(entry_dir, tmp_name), 'wb') as dst:
        dst.write(src.read())
    cache.ImageCache(entry_dir, 'vol_cinder_a').publish(
        tmp_name, records.Record(image_id, records.content_id(meta), 'raw',
                                 SIZE, 0, 0, 'test', True))
    tool = stack.sim.write_copyoffload_tool(str(tmp_path))
    conf = write_conf(stack, tmp_path, netapp_copyoffload_tool_path=tool)
    plan = explain(conf, '--image', image_id, '--image-meta',
                   meta_file(stack.image_service, image_id, tmp_path))
    assert tried(plan, POOL_A) == ['cache-clone', 'copy-offload',
                                   'file-copy', 'download']
    assert tried(plan, POOL_B) == ['copy-offload', 'file-copy',
                                   'copy-offload', 'file-copy', 'download']
    entry = 'from %s/%s' % (POOL_A, cache.entry_name(image_id))
    assert [row[3] for row in plan[POOL_B][:2]] == [entry, entry]
    glance_file = 'from file://%s' % stack.image_service.image_path(image_id)
    assert [row[3] for row in plan[POOL_B][2:4]] == [glance_file] * 2


def test_explain_download_with_reasons(stack, tmp_path):
    image_id = add_image(stack, stack.image_service, tmp_path, 33)
    url = 'http://glance.example.com/v2/images/%s' % image_id
    path = meta_file(stack.image_service, image_id, tmp_path,
                     direct_url=None)
    meta = json.loads(open(path).read())
    meta['locations'] = [{'url': url, 'metadata': {}}]
    with open(path, 'w') as f:
        json.dump(meta, f)
    plan = explain(write_conf(stack, tmp_path), '--image-meta', path,
                   '--pool', POOL_B, '--size', '2')
    assert list(plan) == [POOL_B, '(image)']
    [(_order, path, decision, detail)] = plan['(image)']
    assert (path, decision) == ('content check', 'planned')
    assert detail.startswith('a verification record of the Glance file')
    assert tried(plan, POOL_B) == ['download']
    details = ' '.join(row[3] for row in plan[POOL_B])
    assert "unsupported scheme 'http'" in details


def test_explain_asks_glance(stack, tmp_path):
    image_id = add_image(stack, stack.image_service, tmp_path, 34)
    with glance_http.GlanceApi(stack.image_service) as api:
        conf = write_conf(stack, tmp_path, default={
            'glance_api_servers': api.url, 'auth_strategy': 'noauth'})
        plan = explain(conf, '--image', image_id, '--pool', POOL_A)
    assert tried(plan, POOL_A) == ['file-copy', 'download']
    assert api.requests == ['/v2/images/%s' % image_id,
                            '/v2/images/%s/locations' % image_id]


def test_explain_needs_an_image(stack, tmp_path):
    status, out, err = run(write_conf(stack, tmp_path), 'explain')
    assert status == 1
    assert 'pass --image ID or --image-meta FILE' in err


# -- bench and help ---------------------------------------------------------

def test_bench_writes_its_chart(tmp_path):
    png = tmp_path / 'bench.png'
    status, out, err = run(None, 'bench', '--size-mib', '2', '--runs', '1',
                           '--output', str(png), '--workdir', str(tmp_path),
                           '-f', 'json')
    assert status == 0, err
    table = json.loads(out)
    assert [r['Path'] for r in table] == [
        'cache clone (warm)', 'direct clone (cold)', 'File Copy (cold)',
        'copy offload tool (cold)', 'bare ONTAP file clone',
        'bare ONTAP File Copy', 'download through this host']
    assert all(float(r['Median s']) > 0 for r in table)
    assert table[2]['Time vs bare op'].endswith('x bare ONTAP File Copy')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'embedded simulator, clones by ' in err
    assert [p for p in os.listdir(tmp_path)] == ['bench.png']


def test_bench_names_the_extra_without_matplotlib(tmp_path):
    code = ('import sys; sys.modules["matplotlib"] = None; '
            'from netapp_eic.cmd.main import main; '
            'sys.exit(main(["bench", "--output", %r]))'
            % str(tmp_path / 'x.png'))
    result = subprocess.run([sys.executable, '-c', code], text=True,
                            capture_output=True, check=False, timeout=120,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 1
    assert "pip install 'netapp-eic[bench]'" in result.stderr
    assert not os.path.exists(tmp_path / 'x.png')


@pytest.mark.parametrize('args', [['--help'], ['doctor', '--help'],
                                  ['explain', '--help'], ['bench', '--help']])
def test_help_needs_no_configuration(args, capsys):
    from netapp_eic.cmd import main
    assert main.main(['--config-file', '/nonexistent.conf'] + args) == 0
    out = capsys.readouterr().out
    assert 'usage:' in out


def test_explain_names_the_glance_flexvol_and_why(stack, tmp_path):
    image_id = add_image(stack, stack.image_service, tmp_path, 35)
    plan = explain(write_conf(stack, tmp_path), '--image-meta',
                   meta_file(stack.image_service, image_id, tmp_path),
                   '--pool', POOL_A)
    [(_order, path, decision, detail)] = plan['(Glance)']
    assert path == 'Glance FlexVol vol_glance'
    # explain mounts nothing: the FlexVol is used where cinder-volume
    # mounted it, else said to be not mounted.
    assert decision in ('mounted', 'not mounted')
    assert detail.startswith('127.0.0.1:/vol_glance: ')
    if decision == 'not mounted':
        assert 'this command changes nothing' in detail
