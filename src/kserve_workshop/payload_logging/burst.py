"""Sending events to a sink on this machine: one at a time (grading), or a bounded burst at a rate.

A burst is an open loop, like the agent under load: event *i* is due at ``i / rate`` seconds, each
pair's request then response, with at most ``concurrency`` deliveries in flight (the agent has five
workers). It ends when every event was answered or after ``timeout``. Only loopback targets are
allowed (the load generator's rule).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import WorkshopError
from ..load.targets import check_target
from .events import AgentEvent, Delivery, binary_delivery, sample_bodies

#: The agent's default number of log workers (``--workers``, cmd/agent/main.go).
AGENT_WORKERS = 5
MAX_EVENTS = 100_000


def post_deliveries(url: str, deliveries: Sequence[Delivery], *, timeout: float = 5.0) -> list[int | str]:
    """POST each delivery in turn; the HTTP status of each, or the error's name when a call failed."""
    from ..processes import loopback_session
    import requests

    check_target(url)
    statuses: list[int | str] = []
    with loopback_session() as session:
        for delivery in deliveries:
            try:
                answer = session.post(
                    url, headers=delivery.headers, data=delivery.body, timeout=timeout, allow_redirects=False
                )  # a redirect could leave loopback
                statuses.append(answer.status_code)
            except requests.RequestException as exc:
                statuses.append(type(exc).__name__)
    return statuses


@dataclass
class BurstResult:
    """What a burst measured: answers by status, and the latency of each delivery (from its due time)."""

    events: int
    rate: float
    elapsed: float
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(count for status, count in self.statuses.items() if status.startswith("2"))

    @property
    def failed(self) -> int:
        return self.events - self.accepted

    @property
    def achieved_rate(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")

    def summary(self) -> str:
        return (
            f"{self.events} events at {self.rate:g}/s (achieved {self.achieved_rate:.0f}/s): "
            f"{self.accepted} accepted, {self.failed} not; latency p50 {1000 * self.percentile(50):.1f} ms, "
            f"p99 {1000 * self.percentile(99):.1f} ms"
        )


def burst_deliveries(pairs: int, *, inference_service: str = "sklearn-iris") -> list[Delivery]:
    """``pairs`` request/response pairs (V1, binary mode), each request just before its response."""
    request_body, response_body = sample_bodies("v1")
    deliveries = []
    for _ in range(pairs):
        request = AgentEvent.of("request", request_body, inference_service=inference_service)
        response = AgentEvent.of("response", response_body, id=request.id, inference_service=inference_service)
        deliveries += [binary_delivery(request), binary_delivery(response)]
    return deliveries


def send_burst(
    url: str, deliveries: Sequence[Delivery], *, rate: float, concurrency: int = AGENT_WORKERS, timeout: float = 30.0
) -> BurstResult:
    """Send ``deliveries`` open loop at ``rate`` per second to ``url`` (loopback only) and count the answers."""
    check_target(url)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < rate < float("inf"):
        raise WorkshopError(f"rate must be a positive number of events per second, not {rate!r}")
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 256:
        raise WorkshopError(f"concurrency must be a whole number from 1 to 256, not {concurrency!r}")
    if not 0 < len(deliveries) <= MAX_EVENTS:
        raise WorkshopError(f"a burst sends 1 to {MAX_EVENTS} events, not {len(deliveries)}")
    if not 0 < timeout < float("inf"):
        raise WorkshopError(f"timeout must be a positive number of seconds, not {timeout!r}")
    job = _burst(url, list(deliveries), float(rate), concurrency, float(timeout))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(job)
    # In a notebook an event loop already runs in this thread: give the burst its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="burst") as pool:
        return pool.submit(asyncio.run, job).result()


async def _burst(url: str, deliveries: list[Delivery], rate: float, concurrency: int, timeout: float) -> BurstResult:
    import aiohttp

    result = BurstResult(events=len(deliveries), rate=rate, elapsed=0.0)
    slots = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(session: aiohttp.ClientSession, delivery: Delivery, due: float) -> None:
        async with slots:
            try:
                async with session.post(
                    url, headers=delivery.headers, data=delivery.body, allow_redirects=False
                ) as answer:  # stay on loopback
                    await answer.read()
                    status = str(answer.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                status = type(exc).__name__
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.latencies.append(time.perf_counter() - due)

    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        start = time.perf_counter()
        tasks = []
        for index, delivery in enumerate(deliveries):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(deliver(session, delivery, due)))
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout)
        except asyncio.TimeoutError:
            for task in tasks:
                task.cancel()
            unanswered = len(deliveries) - sum(result.statuses.values())
            result.statuses["unanswered"] = result.statuses.get("unanswered", 0) + unanswered
        result.elapsed = time.perf_counter() - start
    return result
