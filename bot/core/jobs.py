"""Background jobs: RQ on Redis when ``redis_url`` is set, else inline in this process.

A job is a plain importable function taking JSON-able arguments, named by its dotted path. Domain
code never enqueues directly: it calls ``defer(session, func, *args)``, and the job is handed to the
queue only after that session commits (dropped if it rolls back), so a worker never looks for a row
that is not there yet.

- ``InlineQueue`` (embedded default) hands the job, right after the commit, to a background thread
  of this process, so the request that deferred it answers at once; work due later waits on a timer
  (lost on restart: what must not be lost is recorded in rows that ``citybot jobs run-due`` sweeps).
- ``RQQueue`` hands the job to RQ (JSON serializer); ``citybot worker`` runs it, with RQ's scheduler
  for work due later.

This is the only module that imports rq. Work that must never be lost is recorded in the database
first (photo downloads, notifications) and swept by the features' sweepers (``Feature.sweepers``).
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import queue as queue_module
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from bot.core import audit, services
from bot.core.clock import utcnow
from bot.core.config import Settings
from bot.core.database import sessionmaker_for
from bot.core.queue import JobQueue
from bot.core.store import binary_redis

log = logging.getLogger("citybot.jobs")

# Functions ``citybot jobs run-due`` calls, each ``fn(app) -> int`` (how many items it handled).

_PENDING = "citybot.jobs.pending"

JobRef = str | Callable[..., Any]


class JobError(Exception):
    """A job reference cannot be resolved, or its arguments are not JSON-able."""


def job_path(func: JobRef) -> str:
    """The dotted path of a module-level function; checks that it resolves back to it."""
    if isinstance(func, str):
        resolve(func)
        return func
    path = f"{func.__module__}.{func.__qualname__}"
    if resolve(path) is not func:
        raise JobError(f"{path} is not an importable module-level function")
    return path


def resolve(path: str) -> Callable[..., Any]:
    module_name, _, name = path.rpartition(".")
    try:
        target = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise JobError(f"cannot import job {path}: {exc}") from exc
    if not callable(target):
        raise JobError(f"job {path} is not callable")
    job: Callable[..., Any] = target
    return job


def _check_args(path: str, args: tuple[Any, ...]) -> list[Any]:
    try:
        checked: list[Any] = json.loads(json.dumps(list(args)))
        return checked
    except (TypeError, ValueError) as exc:
        raise JobError(f"arguments of {path} must be JSON-able: {exc}") from exc


class InlineQueue(JobQueue):
    """Runs jobs in this process on one background thread, inside an app context; failures are logged.

    The thread keeps slow work (a photo download, a WeChat API call) out of the webhook's 5-second
    window, as an RQ worker would. Work due later waits on a timer, then joins the same thread.
    ``drain()`` waits until nothing is queued or running (for tests and orderly shutdown).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._work: queue_module.SimpleQueue[tuple[str, list[Any]] | None] = queue_module.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._inflight = 0
        self._closed = False

    def enqueue(self, path: str, args: list[Any], *, at: datetime | None = None) -> None:
        delay = 0.0 if at is None else (at - utcnow()).total_seconds()
        if delay <= 0:
            self._submit(path, args)
            return
        with self._lock:
            if self._closed:
                return
            timer = threading.Timer(delay, self._fire, args=(path, args))
            timer.daemon = True
            self._timers.add(timer)
        timer.start()

    def _fire(self, path: str, args: list[Any]) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
        self._submit(path, args)

    def _submit(self, path: str, args: list[Any]) -> None:
        with self._lock:
            if self._closed:
                return
            self._inflight += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="citybot-inline-jobs", daemon=True)
                self._thread.start()
        self._work.put((path, args))

    def _loop(self) -> None:
        while (item := self._work.get()) is not None:
            path, args = item
            try:
                with self.app.app_context():
                    resolve(path)(*args)
            except Exception:
                log.exception("inline job %s failed", path)
            finally:
                with self._idle:
                    self._inflight -= 1
                    self._idle.notify_all()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no job is queued or running; False when ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    def pending(self) -> int:
        """Jobs waiting on timers (due later)."""
        with self._lock:
            return sum(1 for t in self._timers if t.is_alive())

    def close(self) -> None:
        """Cancel the jobs waiting on timers and stop the thread once it has finished its queue."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
            thread = self._thread
        for timer in timers:
            timer.cancel()
        if thread is not None:
            self._work.put(None)
            thread.join(timeout=30)


class RQQueue(JobQueue):
    def __init__(self, settings: Settings) -> None:
        # Heavy optional dependency: rq takes 0.7 s to import and is used only with a Redis queue.
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.connection = binary_redis(settings.redis_url)
        self.name = f"{settings.redis_prefix}{settings.jobs.queue}"
        self.queue = Queue(
            self.name,
            connection=self.connection,
            default_timeout=settings.jobs.job_timeout,
            serializer=JSONSerializer,
        )

    def enqueue(self, path: str, args: list[Any], *, at: datetime | None = None) -> None:
        if at is not None and at > utcnow():
            self.queue.enqueue_at(at, path, *args)
        else:
            self.queue.enqueue(path, *args)

    def close(self) -> None:
        self.connection.close()

    def work(self, *, burst: bool = False) -> bool:
        """Run a worker on this queue in this process (no fork), with RQ's scheduler."""
        # Heavy optional dependency: see __init__.
        from rq.serializers import JSONSerializer
        from rq.worker import SimpleWorker

        # No job descriptions in the log: job arguments may identify a resident.
        worker = SimpleWorker(
            [self.queue], connection=self.connection, serializer=JSONSerializer, log_job_description=False
        )
        with audit.through(audit.Channel.SYSTEM):  # jobs are the system's acts, whoever started the worker
            return worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")


def make_queue(app: Flask) -> JobQueue:
    """Choose the backend once, from configuration."""
    settings: Settings = app.config["CITYBOT"]
    if settings.redis_url:
        return RQQueue(settings)
    return InlineQueue(app)


def init_app(app: Flask) -> None:
    queue = make_queue(app)
    services.of(app).jobs = queue
    attach(sessionmaker_for(app), queue)
    if isinstance(queue, InlineQueue):
        # Let the inline thread finish what it holds when the process exits normally.
        atexit.register(_close_if_alive, weakref.ref(queue))


def _close_if_alive(ref: weakref.ref[InlineQueue]) -> None:
    queue = ref()
    if queue is not None:
        queue.close()


def queue(app: Flask) -> JobQueue:
    return services.of(app).jobs


def attach(maker: sessionmaker[Session], queue: JobQueue) -> None:
    """Hand jobs deferred in this maker's sessions to ``queue`` once their transaction commits."""

    @event.listens_for(maker, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: the outer transaction may still roll back
        for path, args, at, _savepoint in session.info.pop(_PENDING, []):
            try:
                queue.enqueue(path, args, at=at)
            except Exception:
                # The job's rows are committed; `citybot jobs run-due` will find them.
                log.exception("could not enqueue job %s", path)

    @event.listens_for(maker, "after_soft_rollback")
    def _after_rollback(session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            session.info.pop(_PENDING, None)
            return
        # A savepoint rolled back: drop only what was deferred inside it.
        kept = [job for job in session.info.get(_PENDING, []) if job[3] is not previous]
        session.info[_PENDING] = kept


def defer(session: Session, func: JobRef, *args: Any, at: datetime | None = None) -> None:
    """Enqueue ``func(*args)`` once ``session`` commits."""
    path = job_path(func)
    checked = _check_args(path, args)
    session.info.setdefault(_PENDING, []).append((path, checked, at, session.get_nested_transaction()))


def deferred(session: Session) -> list[tuple[str, list[Any], datetime | None]]:
    """Jobs waiting for this session to commit (for tests and diagnostics)."""
    return [(path, args, at) for path, args, at, _savepoint in session.info.get(_PENDING, [])]


def run_due(app: Flask) -> dict[str, int]:
    """Call every sweeper once; returns how many items each handled."""
    done: dict[str, int] = {}
    with app.app_context(), audit.through(audit.Channel.SYSTEM):
        for sweeper in services.of(app).sweepers:
            done[job_path(sweeper)] = int(sweeper(app))
    return done
