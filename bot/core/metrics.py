"""Prometheus metrics of the intake: messages by outcome, the spool, replays, deliveries, latency.

Served at ``/metrics`` (bot.chat.health). Under gunicorn with several workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before start-up so the figures of every worker are
summed (prometheus-client's multiprocess mode); without it each worker reports its own.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MESSAGES = Counter(
    "citybot_messages_total",
    "Webhook attempts by what became of them",
    ["outcome"],  # handled, failed, spooled, retry_answered, retry_silent, taken_over
)
SPOOL_DEPTH = Gauge(
    "citybot_spool_depth", "Messages waiting in the local spool for the database", multiprocess_mode="max"
)
REPLAYS = Counter("citybot_spool_replays_total", "Spooled messages replayed into the journal", ["result"])
RECOVERED = Counter("citybot_recovered_total", "Messages whose lease expired, handled by the recovery loop")
DELIVERIES = Counter(
    "citybot_customer_service_deliveries_total",
    "Replies sent as customer-service messages, by result",
    ["result"],  # sent, expired, retry, failed
)
HANDLER_SECONDS = Histogram(
    "citybot_handler_seconds",
    "Time from taking a message's lease to committing its outcome",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.5, 10.0, 30.0),
)


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type, summed across workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
