# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.options: names, help, defaults, registration, entry point."""

import importlib.metadata
import os

import pytest
from oslo_config import cfg

from netapp_eic import options

EXPECTED = {
    'netapp_eic_file_copy_timeout': 600,
    'netapp_eic_file_copy_return_timeout': 120,
    'netapp_eic_poll_initial_interval': 0.05,
    'netapp_eic_poll_max_interval': 2.0,
    'netapp_eic_visibility_timeout': 10.0,
    'netapp_eic_cache_enabled': True,
    'netapp_eic_cache_max_entries': 0,
    'netapp_eic_cache_max_size_gb': 0.0,
    'netapp_eic_cache_max_percent': 20,
    'netapp_eic_cache_eviction_policy': 'gdsf',
    'netapp_eic_cache_half_life_uses': 250,
    'netapp_eic_convert_images': True,
    'netapp_eic_allow_untested_cinder': False,
    'netapp_eic_scheduler_report_images': 250,
    'netapp_eic_verify_image_content': True,
    'netapp_eic_verification_records': True,
    'netapp_eic_array_fingerprints': True,
    'netapp_eic_fingerprint_md5': False,
    'netapp_eic_fingerprint_min_rate_mib': 100.0,
    'netapp_eic_mount_glance_flexvols': True,
    'netapp_eic_image_shares': [],
    'netapp_eic_max_image_virtual_size_gb': 1024,
    'netapp_eic_copyoffload_timeout': 0,
    'netapp_eic_copyoffload_min_rate_mib': 50,
    'netapp_eic_copyoffload_breaker_seconds': 300,
    'netapp_eic_copyoffload_breaker_max_seconds': 3600,
    'netapp_eic_create_svm_peers': False,
    'netapp_eic_agent_images': 'all',
    'netapp_eic_agent_image_mark': 'netapp_eic_warm',
    'netapp_eic_agent_private_owners': [],
    'netapp_eic_agent_pools': [],
    'netapp_eic_agent_pool_count': 0,
    'netapp_eic_agent_parallel_copies': 2,
    'netapp_eic_agent_max_gb_per_hour': 0.0,
    'netapp_eic_agent_reconcile_interval': 600,
    'netapp_eic_agent_transport_url': None,
    'netapp_eic_agent_topics': ['notifications'],
    'netapp_eic_agent_listener_pool': 'netapp-eic-agent',
}
SCHEDULER = {'netapp_eic_image_cache_weight_multiplier': 2.0}
PARENT_OPTS = ('netapp_copyoffload_tool_path', 'thres_avl_size_perc_start',
               'thres_avl_size_perc_stop', 'expiry_thres_minutes')


def test_list_opts_pinned():
    [(group, opts), (scheduler_group, scheduler)] = options.list_opts()
    assert group == 'backend_defaults'
    assert [o.name for o in opts] == list(EXPECTED)
    assert scheduler_group == 'DEFAULT'
    assert [o.name for o in scheduler] == list(SCHEDULER)


def test_defaults_and_help():
    for _group, opts in options.list_opts():
        for opt in opts:
            assert opt.help and len(opt.help) > 20, opt.name
            assert opt.default == dict(EXPECTED, **SCHEDULER)[opt.name], \
                opt.name


def test_list_opts_is_a_copy():
    [(_group, opts), _scheduler] = options.list_opts()
    assert opts[0] is not options.eic_opts[0]


def test_bounds():
    by_name = {o.name: o for o in options.eic_opts}
    rt = by_name['netapp_eic_file_copy_return_timeout'].type
    assert (rt.min, rt.max) == (0, 120)
    assert by_name['netapp_eic_file_copy_timeout'].type.min == 1


def test_parent_options_not_redeclared():
    assert not set(PARENT_OPTS) & {o.name for o in options.eic_opts}


def test_registered_in_shared_group():
    group = cfg.CONF.backend_defaults
    for name, default in EXPECTED.items():
        assert getattr(group, name) == default


def test_entry_point_resolves():
    eps = importlib.metadata.entry_points(group='oslo.config.opts')
    [ep] = [ep for ep in eps if ep.name == 'netapp_eic']
    assert ep.value == 'netapp_eic.options:list_opts'
    assert ep.load() is options.list_opts


def _documented_defaults(path):
    """The ``netapp_eic_* = value`` lines after "defaults shown", up to
    the first line that is not an option (README's indented block or the
    sample stanza)."""
    found = {}
    with open(path) as f:
        lines = iter(f)
        for line in lines:
            if 'defaults shown' in line:
                break
        for line in lines:
            name, sep, value = line.strip().partition(' = ')
            if not sep or not name.startswith('netapp_eic_'):
                break
            found[name] = value
    return found


@pytest.mark.parametrize('doc', ['README.rst',
                                 'etc/cinder.conf.sample-stanza'])
def test_documented_defaults_are_the_declared_ones(doc):
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    documented = _documented_defaults(os.path.join(root, doc))
    assert len(documented) >= 8, documented
    declared = {o.name: o for o in options.eic_opts}
    for name, value in documented.items():
        assert name in declared, name
        assert declared[name].type(value) == declared[name].default, name
