# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The seams of the package, read from the import statements of the
sources (any import, also one inside a function):

* the EIC core and the ONTAP client import nothing from Cinder, so they
  run (and are tested) without it and no driver object can reach them;
* the driver side imports nothing from the simulator or the test harness;
  only ``netapp-eic bench``, which runs on the embedded simulator (the
  ``[simulator]`` extra), may import the simulator.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'netapp_eic'
SIMULATOR_USERS = {'cmd/bench.py'}


def _imports(path):
    """Every module name an import statement of ``path`` names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module or '')
            names.update('%s.%s' % (node.module, alias.name)
                         for alias in node.names)
    return names


def _modules(*parts):
    root = PACKAGE.joinpath(*parts)
    return sorted(p for p in root.rglob('*.py'))


def _under(name, package):
    return name == package or name.startswith(package + '.')


@pytest.mark.parametrize('subpackage', ['core', 'ontap'])
def test_core_and_client_import_nothing_of_cinder(subpackage):
    modules = _modules(subpackage)
    assert modules
    offending = {str(p.relative_to(PACKAGE)): sorted(
        n for n in _imports(p) if _under(n, 'cinder'))
        for p in modules}
    assert {k: v for k, v in offending.items() if v} == {}


def test_driver_side_imports_neither_simulator_nor_harness():
    driver_side = [p for p in _modules()
                   if p.relative_to(PACKAGE).parts[0] != 'simulator']
    offending = {}
    for path in driver_side:
        relative = path.relative_to(PACKAGE).as_posix()
        names = _imports(path)
        bad = sorted(n for n in names if _under(n, 'netapp_eic_testing'))
        if relative not in SIMULATOR_USERS:
            bad += sorted(n for n in names
                          if _under(n, 'netapp_eic.simulator'))
        if bad:
            offending[relative] = bad
    assert offending == {}


def test_the_check_sees_imports_inside_functions(tmp_path):
    """The lazy import in ``netapp-eic bench`` is found, so the allowance
    above is needed and the check can fail."""
    assert 'netapp_eic.simulator' in _imports(PACKAGE / 'cmd' / 'bench.py')
    sample = tmp_path / 'sample.py'
    sample.write_text('def f():\n    from cinder.volume import driver\n')
    assert 'cinder.volume.driver' in _imports(sample)
