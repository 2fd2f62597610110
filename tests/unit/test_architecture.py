# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``doc/architecture.rst`` is a newcomer's map of the tree: every module
of the package, of the harness and of the benchmarks is named in it, and
every module it names exists."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / 'doc' / 'architecture.rst'
TREES = ('netapp_eic', 'netapp_eic_testing', 'benchmarks')


def modules():
    return sorted(p for tree in TREES for p in (ROOT / tree).rglob('*.py')
                  if p.name not in ('__init__.py', '__main__.py'))


def named_in_doc():
    return set(re.findall(r'``([a-z_0-9]+\.py)``', DOC.read_text()))


def test_every_module_is_on_the_map():
    named = named_in_doc()
    missing = [str(p.relative_to(ROOT)) for p in modules()
               if p.name not in named]
    assert missing == []


def test_every_module_on_the_map_exists():
    present = {p.name for p in modules()}
    tests = {p.name for p in (ROOT / 'tests').rglob('*.py')}
    assert sorted(named_in_doc() - present - tests) == []
