"""A real HTTP server on loopback serving an app, for tests that must go over the wire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_config(path: str, overrides: dict[str, object]) -> str:
    """Write settings overrides as a TOML file (one level of sections)."""
    lines: list[str] = []
    sections: list[str] = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            sections.append(f"[{key}]")
            sections.extend(f"{k} = {toml_value(v)}" for k, v in value.items())
        else:
            lines.append(f"{key} = {toml_value(value)}")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join([*lines, *sections]) + "\n")
    return path


def cli_config(path: str, base_overrides: dict[str, object]) -> str:
    """A config file for ``citybot`` commands that share a test app's database and store."""
    keys = ("database_url", "redis_url", "redis_prefix", "secret_key", "instance_path", "wechat")
    return write_config(path, {key: base_overrides[key] for key in keys if key in base_overrides})
