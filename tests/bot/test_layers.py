"""The application never depends on the development tools: devtools/ imports bot/, not the reverse.

Only the tools' two commands (``citybot chat`` and ``citybot fake-wechat``, in ``cli/``) may load
``devtools``; the layer contract (``lint-imports``) says the same of whole packages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.unit

APPLICATION = (
    "bot",
    "handlers",
    "geodata",
    "reports",
    "broadcasts",
    "menu",
    "staff",
    "waste",
    "console",
    "miniprogram_api",
    "open311",
    "cli",
)
# The tools' two commands; the root command group adds them beside the features' commands.
ENTRY_POINTS = frozenset({Path("cli/chat.py"), Path("cli/fake_wechat.py")})
TOOLS = "devtools"


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import statement anywhere in ``source``, nested ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def imports_tools(source: str) -> list[int]:
    return sorted({line for line, module in imported_modules(source) if module.split(".")[0] == TOOLS})


def test_the_scanner_sees_every_spelling() -> None:
    source = (
        "import devtools\n"
        "from devtools.fake_wechat import FakeWeChat\n"
        "import devtools.simulator as sim\n"
        "def f():\n    from devtools import simulator\n"
        "if TYPE_CHECKING:\n    from devtools.simulator import WeChatSimulator\n"
        "import devtoolsx\nfrom bot.devtools import x\nfrom . import devtools\n"
    )
    assert imports_tools(source) == [1, 2, 3, 5, 7]


def test_the_application_does_not_import_the_development_tools() -> None:
    offenders = []
    for package in APPLICATION:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO)
            if relative in ENTRY_POINTS:
                continue
            offenders += [f"{relative}:{line}" for line in imports_tools(path.read_text())]
    assert offenders == []


def test_the_entry_points_exist() -> None:
    # An exemption for a module that has gone would hide nothing, but would no longer mean anything.
    assert all((REPO / path).is_file() for path in ENTRY_POINTS)


def test_loading_the_application_loads_no_development_tool() -> None:
    program = (
        "import importlib, sys\n"
        f"for name in {APPLICATION!r}: importlib.import_module(name)\n"
        "from bot import create_app\n"
        "create_app({'demo': True})\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] == {TOOLS!r})\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
