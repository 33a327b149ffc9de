"""Jobs on both backends: handed over only after the commit, dropped on rollback, JSON-able only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from bot.core import jobs, services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from tests.support.job_probe import remember
from tests.support.reports import close_queue, drain

pytestmark = pytest.mark.contract


@pytest.fixture
def job_app(app: Flask) -> Iterator[Flask]:
    yield app
    close_queue(app)


def mark(app: Flask, key: str) -> str | None:
    return services.store(app).get(f"probe:{key}")


def test_backend_follows_redis_url(job_app: Flask, backend: str) -> None:
    expected = jobs.InlineQueue if backend == "embedded" else jobs.RQQueue
    assert isinstance(jobs.queue(job_app), expected)


def test_a_job_runs_after_the_commit(job_app: Flask) -> None:
    with job_app.app_context(), session_scope(job_app) as session:
        jobs.defer(session, remember, "committed", "yes")
        assert jobs.deferred(session) == [("tests.support.job_probe.remember", ["committed", "yes"], None)]
        assert mark(job_app, "committed") is None  # not before the commit
    drain(job_app)
    assert mark(job_app, "committed") == "yes"


def test_a_rolled_back_job_never_runs(job_app: Flask) -> None:
    def failing_unit() -> None:
        with job_app.app_context(), session_scope(job_app) as session:
            jobs.defer(session, "tests.support.job_probe.remember", "rolled-back", "yes")
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError):
        failing_unit()
    drain(job_app)
    assert mark(job_app, "rolled-back") is None


def test_work_due_later_is_not_run_now(job_app: Flask) -> None:
    later = utcnow() + timedelta(hours=1)
    with job_app.app_context(), session_scope(job_app) as session:
        jobs.defer(session, remember, "later", "yes", at=later)
    drain(job_app)
    assert mark(job_app, "later") is None


def test_work_due_soon_runs_when_due(job_app: Flask) -> None:
    soon = utcnow() + timedelta(seconds=2)
    with job_app.app_context(), session_scope(job_app) as session:
        jobs.defer(session, remember, "soon", "yes", at=soon)
    drain(job_app)
    assert mark(job_app, "soon") is None
    deadline = time.monotonic() + 10
    while mark(job_app, "soon") is None and time.monotonic() < deadline:
        time.sleep(0.2)
        drain(job_app)  # RQ: the scheduler moves it to the queue once due; inline: a timer runs it
    assert mark(job_app, "soon") == "yes"


@pytest.mark.parametrize(
    ("func", "args", "message"),
    [
        (lambda: None, (), "cannot import"),
        ("tests.support.job_probe.absent", (), "cannot import"),
        (remember, (utcnow(), "x"), "JSON-able"),
    ],
)
def test_only_importable_functions_with_json_arguments(
    job_app: Flask, func: object, args: tuple[object, ...], message: str
) -> None:
    with (
        job_app.app_context(),
        session_scope(job_app) as session,
        pytest.raises(jobs.JobError, match=message),
    ):
        jobs.defer(session, func, *args)  # type: ignore[arg-type]


def test_savepoints_neither_release_nor_drop_the_outer_jobs(job_app: Flask) -> None:
    with job_app.app_context(), session_scope(job_app) as session:
        jobs.defer(session, remember, "outer", "yes")
        with session.begin_nested():
            jobs.defer(session, remember, "released-savepoint", "yes")
        assert mark(job_app, "outer") is None  # releasing a savepoint is not the commit
        savepoint = session.begin_nested()
        jobs.defer(session, remember, "rolled-back-savepoint", "yes")
        savepoint.rollback()
        assert [path_args[1][0] for path_args in jobs.deferred(session)] == ["outer", "released-savepoint"]
    drain(job_app)
    assert mark(job_app, "outer") == "yes"
    assert mark(job_app, "released-savepoint") == "yes"
    assert mark(job_app, "rolled-back-savepoint") is None
