"""The load generator: many concurrent HTTP requests against one URL, timed one by one.

Two ways to drive a server:

* **closed loop** (``rate=None``): ``concurrency`` workers each send a request, wait for the answer
  and send the next — the server always holds ``concurrency`` requests in flight. This measures
  capacity: how much throughput a given number of concurrent users gets, at what latency.
* **open loop** (``rate=R``): requests are due at fixed times, ``R`` per second, whatever the
  server does; at most ``concurrency`` are in flight. A request sent late, because every worker
  was still waiting for an answer, is timed from when it was *due*, so a server that falls behind
  shows up as latency rather than being hidden by sending fewer requests (the "coordinated
  omission" trap of closed-loop tools). A request sent on time is timed from when it was sent:
  event-loop timers wake up to a millisecond late, which is not the server's doing.

A run stops after ``duration`` seconds and/or ``max_requests`` requests, whichever comes first;
requests in flight at the deadline are awaited and counted. The deadline is wall-clock time: an
open loop whose server cannot keep up stops issuing at the deadline and reports the requests that
were due but never sent (``LoadResult.not_sent``), instead of running on until every one was sent.

Redirects are not followed: a 3xx answer counts as a response (an error, ``http_307``...), so the
loopback guard (``targets.check_target``), which looked at the URL given, holds for every request.

Overhead per request is kept small because the generator shares the machine with the server it
measures: one ``ClientSession`` whose connection pool is sized to the concurrency (connections are
reused, never re-opened), the body serialised once to bytes, ``time.perf_counter`` for timing and
plain list appends for recording. uvloop is used when installed.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping, Sequence

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from ..console import step
from ..errors import WorkshopError
from .results import LoadResult
from .targets import check_target

#: Bounds on arguments, so a typo does not open ten thousand sockets.
MAX_CONCURRENCY = 1024
#: Stop a run early when this many connection attempts failed and none succeeded: nothing listens.
_UNREACHABLE_AFTER = 3


def encode_payload(payload: Any) -> bytes | None:
    """The request body as bytes: JSON for dicts/lists, UTF-8 for text, bytes as they are."""
    if payload is None or isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    try:
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise WorkshopError(
            f"the payload cannot be sent as JSON: {exc}", hint="pass a dict or list of plain numbers/strings, or bytes"
        ) from None


def _positive_finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0 and math.isfinite(value)


#: An HTTP method is a "token" (RFC 9110): no spaces, no separators.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def validate_arguments(
    *,
    concurrency: int,
    rate: float | None,
    duration: float | None,
    max_requests: int | None,
    timeout: float,
    names: Mapping[str, str] | None = None,
) -> None:
    """Raise WorkshopError for arguments a run cannot use (one message naming the argument).

    ``names`` maps an argument to the name the user typed (the CLI's flags, e.g. ``-n/--requests``).
    """
    names = {**{arg: arg for arg in ("concurrency", "rate", "duration", "max_requests", "timeout")}, **(names or {})}
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise WorkshopError(
            f"{names['concurrency']} must be a whole number from 1 to {MAX_CONCURRENCY}, got {concurrency!r}"
        )
    if rate is not None and not _positive_finite(rate):
        raise WorkshopError(
            f"{names['rate']} must be a positive, finite number of requests per second, got {rate!r}",
            hint="for as many requests as the server answers, leave the rate out (a closed loop)",
        )
    if duration is not None and not _positive_finite(duration):
        raise WorkshopError(f"{names['duration']} must be a positive, finite number of seconds, got {duration!r}")
    if max_requests is not None and (
        isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1
    ):
        raise WorkshopError(f"{names['max_requests']} must be a whole number of at least 1, got {max_requests!r}")
    if duration is None and max_requests is None:
        raise WorkshopError("a run needs a bound: give a duration, a number of requests, or both")
    if not _positive_finite(timeout):
        raise WorkshopError(f"{names['timeout']} must be a positive, finite number of seconds, got {timeout!r}")


def _request_headers(headers: Mapping[str, str] | None, body: bytes | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    if body is not None:
        # KServe answers form-encoded bodies (curl's default) with a misleading HTTP 500.
        merged["Content-Type"] = "application/json"
    for key, value in (headers or {}).items():
        if not isinstance(key, str) or not isinstance(value, str) or not key or "\n" in key + value:
            raise WorkshopError(
                f"bad header {key!r}: {value!r}", hint="headers are text, e.g. {'Host': 'x.example.com'}"
            )
        merged = {k: v for k, v in merged.items() if k.lower() != key.lower()}
        merged[key] = value
    return merged


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect_error"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server_disconnected"
    return type(exc).__name__


class _Run:
    """Shared state of one run: the request budget, the deadline and what was recorded."""

    def __init__(self, *, origin: float, duration: float | None, max_requests: int | None, rate: float | None):
        self.origin = origin
        self.deadline = origin + duration if duration is not None else float("inf")
        self.max_requests = max_requests if max_requests is not None else float("inf")
        self.interval = 1.0 / rate if rate else None
        #: Open loop: the requests due before the deadline (or the request budget, if smaller).
        self.planned = min(self.max_requests, math.ceil(duration * rate)) if rate and duration else self.max_requests
        self.issued = 0
        self.starts: list[float] = []
        self.durations: list[float] = []
        self.oks: list[bool] = []
        self.error_kinds: dict[str, int] = {}
        self.connect_failures = 0
        self.unreachable: BaseException | None = None
        self.last_answer = origin

    def fail(self, kind: str, exc: BaseException | None = None) -> None:
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        if kind == "connect_error":
            self.connect_failures += 1
            if self.connect_failures >= _UNREACHABLE_AFTER and not any(self.oks):
                self.unreachable = exc


async def _worker(
    session: aiohttp.ClientSession, run: _Run, method: str, url: URL, body: bytes | None, headers: CIMultiDict
) -> None:
    # Locals instead of attribute lookups on the hot path.
    perf = time.perf_counter
    request = session.request
    starts, durations, oks = run.starts, run.durations, run.oks
    interval, origin = run.interval, run.origin
    while run.unreachable is None and run.issued < run.max_requests:
        slot = run.issued
        if interval is None:
            began = perf()
            if began >= run.deadline:
                break
        else:
            began = origin + slot * interval  # when this request is due
            # Due after the deadline, or still unsent when the deadline passed: the run is over.
            if began >= run.deadline or perf() >= run.deadline:
                break
        run.issued += 1
        if interval is not None:
            delay = began - perf()
            if delay > 0:
                # On time: the timer wakes up to a millisecond late (event loops count in ms), which
                # is not the server's doing, so time the request from when it is actually sent.
                await asyncio.sleep(delay)
                began = perf()
        try:
            async with request(method, url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            ended = perf()
            run.fail(_error_kind(exc), exc)
            ok = False
        else:
            ended = perf()
            ok = 200 <= status < 300
            if not ok:
                run.fail(f"http_{status}")
        starts.append(began - origin)
        durations.append(ended - began)
        oks.append(ok)
        if ended > run.last_answer:
            run.last_answer = ended


async def run_load_async(
    url: str,
    payload: Any = None,
    *,
    concurrency: int = 4,
    rate: float | None = None,
    duration: float | None = 10.0,
    max_requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    method: str | None = None,
    allow_hosts: Sequence[str] = (),
) -> LoadResult:
    """Like :func:`run_load`, inside a running event loop."""
    check_target(url, allow_hosts)
    validate_arguments(
        concurrency=concurrency, rate=rate, duration=duration, max_requests=max_requests, timeout=timeout
    )
    body = encode_payload(payload)
    # A ready-made CIMultiDict saves aiohttp from rebuilding the headers on every request.
    request_headers = CIMultiDict(_request_headers(headers, body))
    method = (method or ("POST" if body is not None else "GET")).upper()
    if not _HTTP_TOKEN.fullmatch(method):
        raise WorkshopError(f"not an HTTP method: {method!r}", hint="e.g. POST or GET")
    target = URL(url, encoded=False)

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, ttl_dns_cache=None)
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
    )
    async with session:
        started_at = time.time()
        run = _Run(origin=time.perf_counter(), duration=duration, max_requests=max_requests, rate=rate)
        await asyncio.gather(
            *(_worker(session, run, method, target, body, request_headers) for _ in range(concurrency))
        )
    if run.unreachable is not None:
        raise WorkshopError(
            f"cannot connect to {url}: {run.unreachable}", hint="is the server running and listening on that port?"
        )
    not_sent = int(run.planned - len(run.oks)) if rate and math.isfinite(run.planned) else 0
    return LoadResult(
        url=url,
        concurrency=concurrency,
        rate=rate,
        started_at=started_at,
        elapsed=run.last_answer - run.origin,
        starts=run.starts,
        durations=run.durations,
        oks=run.oks,
        error_kinds=run.error_kinds,
        not_sent=max(0, not_sent),
    )


def run_load(
    url: str,
    payload: Any = None,
    *,
    concurrency: int = 4,
    rate: float | None = None,
    duration: float | None = 10.0,
    max_requests: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    method: str | None = None,
    allow_hosts: Sequence[str] = (),
    progress: bool = False,
) -> LoadResult:
    """Send load to ``url`` and return what was measured.

    ``payload`` is sent as the body of every request (dict/list as JSON, or bytes/str as is; with
    no payload the requests are GETs). ``concurrency`` is the number of requests in flight (and of
    connections); ``rate`` (requests/s) switches to an open loop. The run ends after ``duration``
    seconds or ``max_requests`` requests, whichever comes first. ``url`` must be on this machine,
    or its host listed in ``allow_hosts`` (the workshop's ingress). Works in notebooks too: when an
    event loop is already running, the run gets its own loop in a helper thread. ``progress=True``
    shows what runs (for long runs).
    """
    if progress:
        with step(describe_run(url, concurrency=concurrency, rate=rate, duration=duration, max_requests=max_requests)):
            return run_load(
                url,
                payload,
                concurrency=concurrency,
                rate=rate,
                duration=duration,
                max_requests=max_requests,
                headers=headers,
                timeout=timeout,
                method=method,
                allow_hosts=allow_hosts,
            )

    def job():
        return run_load_async(
            url,
            payload,
            concurrency=concurrency,
            rate=rate,
            duration=duration,
            max_requests=max_requests,
            headers=headers,
            timeout=timeout,
            method=method,
            allow_hosts=allow_hosts,
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run_in_new_loop(job)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as pool:
        return pool.submit(_run_in_new_loop, job).result()


def describe_run(
    url: str, *, concurrency: int, rate: float | None, duration: float | None, max_requests: int | None
) -> str:
    """One line saying what a run does, e.g. for progress output."""
    mode = f"{rate:g} req/s" if rate else "closed loop"
    bounds = " and ".join(
        filter(None, [f"{duration:g} s" if duration else "", f"{max_requests} requests" if max_requests else ""])
    )
    return f"load on {url}: concurrency {concurrency}, {mode}, up to {bounds}"


def _run_in_new_loop(job: Callable[[], Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with kserve's dependencies
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(job())
