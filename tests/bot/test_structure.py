"""The structure the README's "Layout" promises: no import cycle, no import hidden in a function.

The layer contract itself is ``lint-imports`` (``[tool.importlinter]`` in pyproject.toml), run by
``make test``; these two rules are what it does not check.
"""

from __future__ import annotations

import ast
import sys
import tomllib

import grimp
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.unit

CONTRACT = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = tuple(CONTRACT["root_packages"])
# A function-local import is allowed only for a heavy optional dependency, said on the line above.
ALLOWANCE = "# Heavy optional dependency"


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import each other, directly or through others (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def local_imports(source: str) -> list[int]:
    """Lines of import statements inside functions that lack the allowance on the line above."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    # The allowance covers the block of imports right below it.
                    above = inner.lineno - 2
                    while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
                        above -= 1
                    if above < 0 or not lines[above].strip().startswith(ALLOWANCE):
                        found.append(inner.lineno)
    return sorted(set(found))


def test_the_cycle_finder_sees_a_cycle() -> None:
    class Graph:
        def __init__(self) -> None:
            self.modules = {"a", "b", "c", "d"}
            self.edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return self.edges[module]

    assert cycles(Graph()) == [["a", "b", "c"]]  # type: ignore[arg-type]


def test_no_module_imports_itself_through_others() -> None:
    # Type-only imports count too: a cycle of annotations is still a tangle to read.
    graph = grimp.build_graph(*PACKAGES)
    assert cycles(graph) == []


def test_the_scanner_sees_a_local_import() -> None:
    source = (
        "import os\n"
        "def f():\n    import json\n"
        "def g():\n    # Heavy optional dependency: 2 s to import.\n    import numpy\n    import scipy\n"
        "def h():\n    if True:\n        from x import y\n"
    )
    assert local_imports(source) == [3, 10]


def test_no_import_hides_in_a_function() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "versions" in path.parts:
                continue
            relative = path.relative_to(REPO)
            offenders += [f"{relative}:{line}" for line in local_imports(path.read_text())]
    assert offenders == []


def test_tests_mirror_the_tree() -> None:
    # tests/<path>/ holds the tests of the package <path>; tests/support/ the shared helpers.
    folders = [path.parent for path in (REPO / "tests").rglob("test_*.py")]
    strays = sorted(
        str(folder.relative_to(REPO))
        for folder in set(folders)
        if not (REPO / folder.relative_to(REPO / "tests") / "__init__.py").is_file()
    )
    assert strays == []
