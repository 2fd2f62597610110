# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Parts of the package talk through what they offer, and a create's
outcome is a value (issue 17), read from the sources:

* no module reads another object's private attribute (``obj._name`` where
  ``obj`` is not ``self``, ``cls`` or ``super()`` and no definition of
  ``_name`` is in the same module): a part gets what it needs handed to
  it, it does not reach into another;
* nothing assigns to an outcome's fields: :class:`Outcome` is frozen and
  built once, when the create ends.
"""

import ast
import dataclasses
import pathlib

import pytest

from netapp_eic.core.types import Outcome, Route

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'netapp_eic'
MODULES = sorted(PACKAGE.rglob('*.py'))


def _own_private_names(tree):
    """The private names a module defines: functions, classes, module
    names and attributes it sets on ``self``/``cls``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target,
                                                            ast.Name):
            names.add(node.target.id)
        elif (isinstance(node, ast.Attribute) and
              isinstance(node.value, ast.Name) and
              node.value.id in ('self', 'cls')):
            names.add(node.attr)
    return {n for n in names if n.startswith('_')}


def _is_own_object(node):
    if isinstance(node, ast.Name):
        return node.id in ('self', 'cls')
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == 'super')


def private_reads(path):
    """``line: expression`` of each read of another module's private
    attribute in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    own = _own_private_names(tree)
    return ['%d: %s' % (node.lineno, ast.unparse(node))
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr.startswith('_') and not node.attr.startswith('__')
            and not _is_own_object(node.value) and node.attr not in own]


def outcome_assignments(path):
    """``line: target`` of each assignment to a field of an outcome."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        targets = (node.targets if isinstance(node, ast.Assign) else
                   [node.target] if isinstance(node, (ast.AugAssign,
                                                      ast.AnnAssign))
                   else [])
        for target in targets:
            if (isinstance(target, ast.Attribute) and
                    'outcome' in ast.unparse(target.value).lower()):
                found.append('%d: %s' % (node.lineno, ast.unparse(target)))
    return found


@pytest.mark.parametrize('path', MODULES,
                         ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_no_module_reads_another_modules_private_attributes(path):
    assert private_reads(path) == []


@pytest.mark.parametrize('path', MODULES,
                         ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_nothing_assigns_to_an_outcome(path):
    assert outcome_assignments(path) == []


def test_the_checks_find_what_they_look_for(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text(
        'class A:\n'
        '    def __init__(self, other):\n'
        '        self._mine = other._theirs\n'
        '        self._mine.outcome.path = 1\n'
        '        outcome.failures += [2]\n'
        '    def _helper(self, other):\n'
        '        return other._helper(), self._mine\n')
    assert private_reads(sample) == ['3: other._theirs']
    assert outcome_assignments(sample) == ['4: self._mine.outcome.path',
                                           '5: outcome.failures']


def test_an_outcome_cannot_be_changed():
    outcome = Outcome(Route.DOWNLOAD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.path = Route.FILE_COPY
