# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""netapp_eic.support: the tested versions, the release check, and the
README's support table saying the same."""

import os

from netapp_eic import support

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_installed_cinder_is_a_tested_release():
    assert support.cinder_version() in support.TESTED_CINDER_VERSIONS
    assert support.cinder_tested(support.cinder_version())


def test_release_check():
    assert support.cinder_tested('29.1.0')
    for version in ('30.0.0', '28.2.1', '', None, 'dev'):
        assert not support.cinder_tested(version)
    message = support.untested_cinder_message('30.0.0')
    assert 'tested with Cinder 29.0.0; this is Cinder 30.0.0' in message
    assert 'netapp_eic_allow_untested_cinder = True' in message


def test_ontap_minimum():
    assert support.ontap_supported((9, 11, 1))
    assert support.ontap_supported((9, 14, 1))
    assert not support.ontap_supported((9, 10, 1))
    assert support.dotted(support.MIN_ONTAP) == '9.11.1'


def test_readme_support_table_matches():
    with open(os.path.join(ROOT, 'README.rst')) as readme:
        text = readme.read()
    table = text[text.index('Supported versions'):
                 text.index("The operator's command")]
    for version in support.TESTED_CINDER_VERSIONS + support.TESTED_PYTHON:
        assert version in table
    assert '%s or later' % support.dotted(support.MIN_ONTAP) in table
