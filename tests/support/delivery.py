"""A WeChat-like sender: signed pushes, 5 seconds per attempt, 3 attempts, at a steady rate.

WeChat pushes each message to the webhook and waits 5 seconds for an answer; on a timeout or a
broken connection it tries again, 3 attempts in all, each with a fresh timestamp and nonce. The
first HTTP 200 ends it: its body is the passive reply (``success`` or empty means none).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests

from bot.core.clock import epoch
from devtools.simulator import WeChatSimulator


@dataclass
class Pushed:
    openid: str
    xml: str
    attempts: list[str] = field(default_factory=list)  # "200", "timeout", "error", "HTTP 5xx"
    body: str | None = None

    @property
    def answered_passively(self) -> bool:
        return self.body is not None and self.body.strip() not in ("", "success")


class WeChatLike:
    def __init__(self, url: str, token: str, *, attempt_timeout: float = 5.0, attempts: int = 3) -> None:
        self.url = url.rstrip("/") + "/wechat"
        self.attempt_timeout = attempt_timeout
        self.max_attempts = attempts
        self.sim = WeChatSimulator(lambda path, body: (200, b""), token=token)

    def push(self, pushed: Pushed) -> Pushed:
        for _ in range(self.max_attempts):
            timestamp, nonce = str(int(epoch())), str(secrets.randbelow(10**9))
            body, query = self.sim.envelope(pushed.xml, timestamp, nonce)
            try:
                response = requests.post(
                    f"{self.url}?{urlencode(query)}",
                    data=body,
                    headers={"Content-Type": "text/xml"},
                    timeout=self.attempt_timeout,
                )
            except requests.Timeout:
                pushed.attempts.append("timeout")
                continue
            except requests.RequestException:
                pushed.attempts.append("error")
                time.sleep(0.2)
                continue
            if response.status_code == 200:
                pushed.attempts.append("200")
                pushed.body = response.text
                return pushed
            pushed.attempts.append(f"HTTP {response.status_code}")
        return pushed


def stream(
    sender: WeChatLike,
    messages: Sequence[Pushed],
    *,
    rate: float,
    at_second: dict[float, Callable[[], None]] | None = None,
    workers: int = 96,
) -> list[Pushed]:
    """Push ``messages`` at ``rate`` per second; run each ``at_second`` action on its own thread at
    that moment of the stream; return when every push has ended (answered or out of attempts)."""
    pool = ThreadPoolExecutor(max_workers=workers)
    began = time.monotonic()
    actions = []
    for moment, action in sorted((at_second or {}).items()):
        timer = threading.Timer(moment, action)
        timer.start()
        actions.append(timer)
    futures: list[Future[Pushed]] = []
    for index, message in enumerate(messages):
        delay = began + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(sender.push, message))
    done = [future.result(timeout=60) for future in futures]
    for timer in actions:
        timer.join(60)
    pool.shutdown(wait=True)
    return done
