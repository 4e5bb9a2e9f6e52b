"""The package stays readable: short modules, short functions, no long argument lists.

A reviewer should find each rule in a module of a few hundred lines and read each function
on one screen. These limits are checked over every module of the package (a module's length
counts its docstrings; a function's length does not count its own docstring), so that the
layout cannot drift back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sibsim

PACKAGE = Path(sibsim.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))

#: Limits of the house style (see docs/internals.rst).
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
MAX_ARGUMENTS = 12


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _code_lines(node: ast.FunctionDef) -> int:
    """Lines of a function without its docstring (a reader skims the docstring apart)."""
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        length -= first.end_lineno - first.lineno + 1
    return length


def _arguments(node: ast.FunctionDef) -> int:
    args = node.args
    names = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    return len([a for a in names if a.arg not in ("self", "cls")])


def test_there_are_modules_to_check():
    assert len(MODULES) > 20


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_length(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines > {MAX_MODULE_LINES}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_function_length_and_arguments(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    too_long, too_many = [], []
    for node in _functions(tree):
        length = _code_lines(node)
        if length > MAX_FUNCTION_LINES:
            too_long.append(f"{node.name} ({length} lines)")
        if _arguments(node) > MAX_ARGUMENTS:
            too_many.append(f"{node.name} ({_arguments(node)} arguments)")
    assert not too_long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {too_long}"
    assert not too_many, f"{path.name}: functions over {MAX_ARGUMENTS} arguments: {too_many}"
