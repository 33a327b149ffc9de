"""The ``[intake]`` and ``[conversation]`` sections of the chat engine."""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.core.config import Section


class IntakeSettings(Section):
    """How the webhook keeps every verified message and every reply (bot.chat.inbox, bot.chat.recovery)."""

    # Seconds one WeChat attempt may take before its answer no longer counts (WeChat waits 5 s).
    passive_budget: float = Field(4.5, ge=0.5, le=4.9)
    # Seconds a handler holds a message; an attempt that died is taken over after this.
    lease: float = Field(8.0, ge=1.0, le=600.0)
    # Seconds after the first delivery by which WeChat has stopped retrying (3 attempts of 5 s);
    # a reply no attempt took by then goes out as a customer-service message.
    retry_horizon: float = Field(16.0, ge=5.0, le=600.0)
    # Seconds a message waits for the same resident's earlier messages still being handled.
    order_wait: float = Field(1.0, ge=0.0, le=4.0)
    # Where verified messages wait while the database is unreachable ("": <instance_path>/spool).
    spool_dir: str = ""
    # Seconds between passes of each worker's recovery loop (0: no loop; run `citybot messages recover`).
    recovery_interval: float = Field(1.0, ge=0.0, le=300.0)
    # Customer-service sends over quota (45047) or with WeChat unreachable are tried this often.
    delivery_attempts: int = Field(5, ge=1, le=50)
    delivery_backoff: float = Field(30.0, ge=1.0)

    @model_validator(mode="after")
    def _horizon(self) -> IntakeSettings:
        if self.retry_horizon <= self.lease:
            raise ValueError("retry_horizon must exceed lease (a retry must be able to take a lease over)")
        return self


class ConversationSettings(Section):
    timeout: int = Field(1800, ge=10)
