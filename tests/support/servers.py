"""Private servers for fault tests: Redis, PostgreSQL and gunicorn that the test owns and stops.

Fault tests never touch the machine's shared services: each server here runs on a free loopback
port from a throwaway folder, and is stopped or restarted by the PID it started (PostgreSQL under a
non-root user when the tests run as root, as ``initdb`` requires).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import requests

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with contextlib.suppress(OSError):
        # A zombie (our own child, not yet reaped) counts as gone.
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state == "Z"
    return False


def available() -> str | None:
    """Why the private servers cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server not installed"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and shutil.which("initdb") is None:
        return "PostgreSQL server binaries (initdb) not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser not available to run PostgreSQL as a non-root user"
    return None


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="citybot-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._pings, 10, "private redis")

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivatePostgres:
    """A throwaway cluster: ``initdb`` under ``nobody`` when root, trust auth, loopback only."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(found[-1]).parent if found else Path(str(shutil.which("initdb"))).parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="citybot-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.socket_dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.folder, "nobody", "nogroup")
            shutil.chown(self.socket_dir, "nobody", "nogroup")

    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "nobody", "--", *argv] if self.as_root else argv

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            self._as_user([*initdb, "-E", "UTF8", "--no-sync", "--no-instructions"]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        server = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        options = ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=60"]
        self.process = subprocess.Popen(
            self._as_user([*server, "-k", str(self.socket_dir), *options]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self._accepts, 30, "private postgres")

    def _accepts(self) -> bool:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", connect_timeout=1
            ):
                return True
        except psycopg.Error:
            return False

    @property
    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def stop(self) -> None:
        """Fast shutdown of this cluster only, by its postmaster's PID."""
        if self.process is None:
            return
        pid = self.postmaster_pid
        os.kill(pid, signal.SIGINT)
        _wait(lambda: _gone(pid), 30, "private postgres shutdown")
        self.process.wait(30)
        self.process = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Gunicorn:
    """citybot under gunicorn with sync workers, configured by a TOML file."""

    def __init__(self, config: Path, *, workers: int = 2) -> None:
        self.config = config
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = config.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "CITYBOT_CONFIG": str(self.config)}
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers)]
        argv += ["--bind", f"127.0.0.1:{self.port}", "--no-control-socket"]
        argv += ["--timeout", "60", "--graceful-timeout", "5", "bot:create_app()"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
        _wait(self._healthy, 60, "gunicorn")
        _wait(lambda: len(self.worker_pids()) == self.workers, 30, "gunicorn workers")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        master = self.process.pid
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().split(") ", 1)[1].split()
                if int(fields[1]) == master and fields[0] != "Z":
                    found.append(int(stat.parent.name))
        return sorted(found)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@contextlib.contextmanager
def running(server: PrivateRedis | PrivatePostgres | Gunicorn) -> Iterator[None]:
    server.start()
    try:
        yield
    finally:
        server.stop()
