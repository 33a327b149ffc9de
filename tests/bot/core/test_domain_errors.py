"""Every domain error's codes have a sentence in the catalogue, with exactly the placeholders of the
values the code carries; rendering fills them in (in Chinese) and checks raise sites at run time."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from pathlib import Path

import pytest

from bot.app import catalogues, load_texts
from bot.core.errors import DomainError, Label, render, subclasses
from bot.core.texts import Texts
from reports.limits import RateLimitedError
from reports.workflow import StaleDecisionError, WorkflowError
from waste.table import TableError, read_table

pytestmark = pytest.mark.unit

DOMAINS = ("menu", "reports", "broadcasts", "geodata", "waste", "staff")


def _import_domains() -> None:
    for name in DOMAINS:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.endswith(".cli"):
                importlib.import_module(module.name)


def _declared() -> list[tuple[str, str, tuple[str, ...]]]:
    _import_domains()
    found = []
    for cls in subclasses():
        assert cls.namespace, f"{cls.__name__} declares no namespace"
        for code, values in cls.codes.items():
            found.append((cls.__name__, f"{cls.namespace}.{code}", values))
    return found


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_every_domain_declares_its_errors() -> None:
    _import_domains()
    assert {cls.namespace.split(".")[0] for cls in subclasses()} >= set(DOMAINS)


@pytest.mark.parametrize(
    ("owner", "key", "values"), _declared(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_code_has_a_sentence_with_its_placeholders(
    owner: str, key: str, values: tuple[str, ...]
) -> None:
    catalogue = Texts.defaults(catalogues())
    assert key in catalogue, f"{owner}: no sentence for {key} in its feature's texts.toml"
    assert _fields(catalogue[key]) == set(values), f"{key}: placeholders differ from {owner}'s values"
    namespace = key.rsplit(".", 1)[0]
    assert namespace.split(".")[1] == "errors", f"{key} is not under its domain's errors"


def _raise_sites() -> list[tuple[str, type[DomainError], ast.Call]]:
    """Every ``SomeError("code", message, name=value)`` in the domains, for classes taking that form."""
    _import_domains()
    plain = {cls.__name__: cls for cls in subclasses() if cls.__init__ is DomainError.__init__}
    root = Path(__file__).resolve().parents[3]
    sites = []
    for domain in DOMAINS:
        for path in sorted((root / domain).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in plain:
                    sites.append((f"{path.relative_to(root)}:{node.lineno}", plain[name], node))
    return sites


def test_every_raise_site_gives_a_declared_code_and_its_values() -> None:
    sites = _raise_sites()
    assert len(sites) > 50
    for where, cls, call in sites:
        code = call.args[0] if call.args else None
        if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
            continue  # a computed code (e.g. f"{field}_too_long") is checked when it is raised
        assert code.value in cls.codes, f"{where}: {cls.__name__} declares no code {code.value!r}"
        given = {keyword.arg for keyword in call.keywords}
        given.discard(None)
        assert given == set(cls.codes[code.value]), f"{where}: {code.value} takes {cls.codes[code.value]}"


def test_a_code_not_declared_or_a_wrong_value_is_refused_at_the_raise_site() -> None:
    with pytest.raises(TypeError, match="declares no code"):
        WorkflowError("no_such_code", "x")
    with pytest.raises(TypeError, match="takes the values"):
        WorkflowError("original_rejected", "x", original="R1")


def test_render_fills_in_values_and_labels_in_chinese() -> None:
    texts = load_texts()
    stale = StaleDecisionError(1, "R20240101-0001", "submitted", "accepted")  # type: ignore[arg-type]
    assert render(texts, stale) == "举报 R20240101-0001 已被他人处理（当前状态：已采纳），您的操作未执行。"
    assert "accepted" in str(stale)  # the English message is for logs
    assert str(Label("reports.status.accepted")) == "accepted"


def test_render_joins_nested_problems_one_per_line() -> None:
    with pytest.raises(TableError) as caught:
        read_table("name,category\n,有害垃圾\n电池,火星垃圾\n".encode())
    assert render(load_texts(), caught.value) == (
        "表格有 2 处问题，未导入任何内容：\n第 2 行：名称为空。\n第 3 行：无法识别的类别“火星垃圾”。"
    )


def test_domain_errors_are_exceptions_with_a_key() -> None:
    error = RateLimitedError("day", 5)
    assert isinstance(error, DomainError)
    assert (error.key, error.values) == ("reports.errors.rate_limited_day", {"limit": 5})
