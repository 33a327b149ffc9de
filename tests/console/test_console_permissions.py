"""Every console route, found in the app's url_map, refuses anonymous visitors and every role that
lacks its permission. A new route is covered without touching this file."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from console.access import is_public, permission_of
from staff.roles import Permission, Role, permissions_of
from tests.support.console import ConsoleClient, add_staff

pytestmark = pytest.mark.integration

# The only console endpoints an anonymous visitor may reach.
PUBLIC = {"console.static", "console.auth.login"}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    permission: Permission | None


def console_routes(app: Flask) -> list[Route]:
    adapter = app.url_map.bind("localhost")
    routes: list[Route] = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console."):
            continue
        values = {name: _placeholder(rule, name) for name in rule.arguments}
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, values, method=method)
            routes.append(Route(rule.endpoint, method, path, permission_of(view)))
    return routes


def visit(client: ConsoleClient, route: Route, token: str) -> TestResponse:
    """Request the route as a form would, with a valid CSRF token for POSTs."""
    if route.method == "GET":
        return client.get(route.path)
    return client.post(route.path, {"csrf_token": token}, csrf=False)


def _placeholder(rule: Rule, name: str) -> object:
    converter = rule._converters.get(name)
    if isinstance(converter, IntegerConverter):
        return 999999
    if name == "filename":
        return "console.css"
    return "no-such-thing"


def test_every_console_view_is_public_or_declares_a_permission(app: Flask) -> None:
    routes = console_routes(app)
    assert len({r.endpoint for r in routes}) >= 10
    for route in routes:
        view = app.view_functions[route.endpoint]
        if is_public(route.endpoint, view):
            assert route.endpoint in PUBLIC, f"{route.endpoint} is public but not listed as such"
        else:
            assert route.permission is not None, f"{route.endpoint} declares no permission"


def test_anonymous_visitors_are_sent_to_login(app: Flask) -> None:
    client = ConsoleClient(app)
    token = client.token()
    for route in console_routes(app):
        if route.endpoint in PUBLIC:
            continue
        response = visit(client, route, token)
        assert response.status_code == 302, (route, response.status_code)
        assert response.headers["Location"].startswith("/console/login"), route


ROLE_SETS = [pytest.param(frozenset({role}), id=role.value) for role in Role] + [
    pytest.param(frozenset(), id="no-role")
]


@pytest.mark.parametrize("roles", ROLE_SETS)
def test_each_role_is_refused_what_it_lacks(app: Flask, roles: frozenset[Role]) -> None:
    granted = permissions_of(roles)
    add_staff(app, "someone", roles)
    client = ConsoleClient(app).logged_in("someone")
    token = client.token()
    refused = 0
    # Logging out last keeps the session for every other route.
    routes = sorted(console_routes(app), key=lambda r: r.endpoint == "console.auth.logout")
    for route in routes:
        if route.permission is None:
            continue
        response = visit(client, route, token)
        if route.permission in granted:
            assert response.status_code != 403, route
            if route.endpoint != "console.auth.logout":
                assert not response.headers.get("Location", "").startswith("/console/login"), route
        else:
            assert response.status_code == 403, (route, response.status_code)
            assert "没有权限" in response.get_data(as_text=True)
            refused += 1
    if Role.ADMIN in roles:
        assert refused == 0
    else:
        assert refused > 0
