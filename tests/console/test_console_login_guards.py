"""Console sign-in under pressure: concurrent guesses, sessions of disabled accounts, hostile input.

Every test runs on both backends (SQLite + in-process store, PostgreSQL + Redis).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from bot.cli import cli
from bot.core import services
from console import access, throttle
from console.throttle import Attempt, Lock, LoginThrottle
from staff import models
from staff.roles import Role
from tests.support.console import PASSWORD, ConsoleClient, add_staff, text
from tests.support.live import write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash check made (the dummy check for unknown names included)."""
    calls: list[str] = []
    guard = threading.Lock()

    def counting(real: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        def check(pwhash: str, password: str) -> bool:
            with guard:
                calls.append(password)
            return real(pwhash, password)

        return check

    monkeypatch.setattr(models, "check_password_hash", counting(models.check_password_hash))
    monkeypatch.setattr(access, "check_password_hash", counting(access.check_password_hash))
    return calls


def guess_concurrently(app: Flask, logins: list[tuple[str, str]], ip: str = "203.0.113.9") -> list[int]:
    """Post every (username, password) at once from its own browser; returns the status codes."""
    clients = [ConsoleClient(app, ip=ip) for _ in logins]
    tokens = [client.token() for client in clients]
    barrier = threading.Barrier(len(logins))
    statuses: list[int] = []

    def attempt(client: ConsoleClient, token: str, username: str, password: str) -> None:
        barrier.wait()
        response = client.post(
            "/console/login", {"username": username, "password": password, "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=attempt, args=(client, token, username, password))
        for client, token, (username, password) in zip(clients, tokens, logins, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_forty_concurrent_guesses_check_at_most_the_limit(
    make_app: Callable[..., Flask], verified: list[str]
) -> None:
    app = make_app(console={"max_failures_per_user": 5, "max_failures_per_ip": 100, "lock_seconds": 600})
    add_staff(app, "li.wei", {Role.REVIEWER})
    statuses = guess_concurrently(app, [("li.wei", f"guess number {i}") for i in range(40)])
    assert statuses == [401] * 40
    assert len(verified) <= 5
    assert len(verified) >= 1
    # Locked now: the right password is refused without being checked.
    before = len(verified)
    locked = ConsoleClient(app, ip="198.51.100.7").login("li.wei")
    assert "该账号登录失败次数过多" in text(locked)
    assert len(verified) == before


def test_concurrent_guesses_from_one_address_check_at_most_its_limit(
    make_app: Callable[..., Flask], verified: list[str]
) -> None:
    app = make_app(console={"max_failures_per_user": 5, "max_failures_per_ip": 4, "lock_seconds": 600})
    statuses = guess_concurrently(app, [(f"user.{i:02d}", "guess-guess") for i in range(40)])
    assert statuses == [401] * 40
    assert 1 <= len(verified) <= 4
    assert "本机登录失败次数过多" in text(ConsoleClient(app, ip="203.0.113.9").login("user.99", "x" * 12))


def test_a_success_forgets_earlier_attempts_but_not_those_racing_with_it(app: Flask) -> None:
    gate = LoginThrottle(services.store(app), per_user=5, per_ip=50, lock_seconds=600)
    for _ in range(3):
        first = gate.admit("li.wei", "10.0.0.1")
        assert isinstance(first, Attempt)
        assert gate.failed(first) is None
    rightful = gate.admit("li.wei", "10.0.0.2")
    racing = gate.admit("li.wei", "10.0.0.3")
    assert isinstance(rightful, Attempt)
    assert isinstance(racing, Attempt)
    assert (rightful.counts["user"], racing.counts["user"]) == (4, 5)
    gate.succeeded(rightful)  # forgets the three failures and itself, not the racing attempt
    assert gate.failed(racing) is None
    admitted = [gate.admit("li.wei", "10.0.0.4") for _ in range(5)]
    assert [isinstance(a, Attempt) for a in admitted] == [True, True, True, True, False]
    assert isinstance(admitted[-1], Lock)
    # A success gives its attempt back to the address, which keeps its failures.
    store = services.store(app)
    assert store.get(throttle._key("fail", "ip", "10.0.0.2")) == "0"
    assert store.get(throttle._key("fail", "ip", "10.0.0.1")) == "3"


def test_a_refused_attempt_is_not_counted(app: Flask) -> None:
    gate = LoginThrottle(services.store(app), per_user=2, per_ip=50, lock_seconds=600)
    held = [gate.admit("li.wei", "10.0.0.1") for _ in range(2)]
    assert all(isinstance(a, Attempt) for a in held)
    assert isinstance(gate.admit("li.wei", "10.0.0.1"), Lock)
    store = services.store(app)
    assert store.get(throttle._key("fail", "user", "li.wei")) == "2"
    assert store.get(throttle._key("fail", "ip", "10.0.0.1")) == "2"


def disable_and_enable_in_console(app: Flask, username: str) -> None:
    root = ConsoleClient(app, ip="10.1.2.3").logged_in("root")
    assert root.post(f"/console/staff/{username}/disable").status_code == 302
    assert root.post(f"/console/staff/{username}/enable").status_code == 302


def test_disabling_ends_idle_sessions_for_good(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    add_staff(app, "li.wei", {Role.REVIEWER})
    laptop = ConsoleClient(app).logged_in("li.wei")
    phone = ConsoleClient(app).logged_in("li.wei")
    assert laptop.get("/console/").status_code == 200
    # Neither session makes a request while the account is disabled.
    disable_and_enable_in_console(app, "li.wei")
    for client in (laptop, phone):
        ended = client.get("/console/")
        assert ended.status_code == 302
        assert ended.headers["Location"].startswith("/console/login")
    # The account itself works again: a fresh login starts a session that lasts.
    fresh = ConsoleClient(app).logged_in("li.wei")
    assert fresh.get("/console/").status_code == 200
    assert fresh.get("/console/").status_code == 200


def test_disabling_on_the_command_line_ends_sessions_too(
    app: Flask, base_overrides: dict[str, Any], tmp_path: Path
) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    idle = ConsoleClient(app).logged_in("li.wei")
    config = write_config(str(tmp_path / "c.toml"), base_overrides)
    runner = CliRunner()
    for command in ("disable", "enable"):
        outcome = runner.invoke(cli, ["--config", config, "staff", command, "li.wei"])
        assert outcome.exit_code == 0, outcome.output
    assert idle.get("/console/").status_code == 302
    assert ConsoleClient(app).logged_in("li.wei").get("/console/").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "/console/\r\nSet-Cookie: stolen=1",
        "/console/stats/\nX: y",
        "/console/\x00",
        "/console/\\\\evil.example/",
        "/\\evil.example/console/",
    ],
)
def test_next_with_control_characters_is_ignored(app: Flask, target: str) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app)
    page = client.get("/console/login", query_string={"next": target})
    assert page.status_code == 200
    response = client.post("/console/login", {"username": "li.wei", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    assert "stolen" not in str(response.headers)
    # Already signed in: the same target sends home as well.
    again = client.get("/console/login", query_string={"next": target})
    assert again.headers["Location"] == "/console/"


def test_username_with_nul_bytes_is_a_form_error(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    client = ConsoleClient(app)
    refused = client.post("/console/login", {"username": "li\x00wei", "password": PASSWORD})
    assert refused.status_code == 400
    assert "用户名含有无效字符" in text(refused)
    admin = ConsoleClient(app).logged_in("root")
    # In a path, control characters are refused by the console's check of every request: a 400 page.
    assert admin.get("/console/staff/li%00wei").status_code == 400
    assert admin.post("/console/staff/ro%00ot/disable").status_code == 400
