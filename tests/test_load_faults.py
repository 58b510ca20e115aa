"""The load generator against misbehaving servers: redirects elsewhere, a server slower than the rate.

The servers are small aiohttp apps on 127.0.0.1 in a thread of this process (no subprocess), so
these tests are fast; what they show holds for any server.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from kserve_workshop.errors import WorkshopError
from kserve_workshop.load import run_load
from kserve_workshop.load.cli import main

from support.loopback_apps import LoopbackApps

PAYLOAD = {"instances": [[6.8, 2.8, 4.8, 1.4]]}


@pytest.fixture(scope="module")
def apps():
    running = LoopbackApps()
    yield running
    running.close()


@pytest.fixture(scope="module")
def sink(apps):
    """A server that counts what reaches it: the "other host" a redirect points at."""
    hits = {"count": 0}

    async def receive(request: web.Request) -> web.Response:
        hits["count"] += 1
        return web.json_response({"predictions": [1]})

    app = web.Application()
    app.router.add_route("*", "/sink", receive)
    return apps.serve(app), hits


@pytest.fixture(scope="module")
def redirecting(apps, sink):
    sink_url, _ = sink

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{sink_url}/sink")

    app = web.Application()
    app.router.add_route("*", "/predict", redirect)
    return apps.serve(app)


@pytest.fixture(scope="module")
def slow(apps):
    """Answers every request after 50 ms: 2 connections carry at most 40 requests/s."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(0.05)
        return web.json_response({"predictions": [1]})

    app = web.Application()
    app.router.add_route("*", "/predict", answer)
    return apps.serve(app)


@pytest.mark.bad_input(
    tool="kserve-workshop-load",
    input="a loopback server that redirects (307) to another host or port",
    example="a server answering 307 with Location: http://elsewhere/",
    behaviour="the redirect is not followed: it counts as an `http_307` answer, so no request "
    "leaves the allowed hosts (before: all the load went to the redirect's target)",
)
def test_redirects_are_not_followed_so_the_loopback_guard_holds(redirecting, sink):
    _, hits = sink
    before = hits["count"]
    result = run_load(f"{redirecting}/predict", PAYLOAD, concurrency=2, max_requests=6, duration=None)
    assert hits["count"] == before, "a redirect was followed: the load reached another server"
    assert result.requests == 6 and result.error_kinds == {"http_307": 6}


@pytest.mark.bad_input(
    tool="kserve-workshop-load",
    input="an open-loop rate the server cannot keep up with",
    example="kserve-workshop-load URL --iris -r 20000 -d 1",
    behaviour="stops issuing at the deadline and reports the requests never sent (`not_sent`, and "
    "a warning): 1.4 s instead of 26.8 s on this machine",
)
def test_an_open_loop_stops_at_the_deadline_and_reports_what_it_never_sent(slow):
    started = time.monotonic()
    result = run_load(f"{slow}/predict", PAYLOAD, concurrency=2, rate=1000, duration=0.5)
    wall = time.monotonic() - started
    # 500 requests were due; two connections at 50 ms each answer about 20 in 0.5 s.
    assert wall < 2.0, f"the run went on for {wall:.1f} s past a 0.5 s deadline"
    assert result.elapsed < 0.5 + 0.3
    assert result.requests + result.not_sent == 500
    assert result.not_sent > 400
    assert result.summary()["not_sent"] == result.not_sent


def test_an_open_loop_that_keeps_up_sends_everything(slow):
    result = run_load(f"{slow}/predict", PAYLOAD, concurrency=8, rate=40, duration=0.5)
    assert result.requests == 20 and result.not_sent == 0


def test_the_cli_warns_when_requests_were_never_sent(slow, capsys):
    assert main([f"{slow}/predict", "--iris", "-c", "2", "-r", "1000", "-d", "0.4"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["not_sent"] > 300
    assert f"{summary['not_sent']} of the requests due in 0.4 s were never sent" in captured.err


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"rate": float("inf")}, "rate must be a positive, finite number"),
        ({"rate": float("nan")}, "rate must be a positive, finite number"),
        ({"timeout": float("inf")}, "timeout must be a positive, finite number"),
        ({"duration": float("inf")}, "duration must be a positive, finite number"),
    ],
)
def test_non_finite_numbers_are_refused(kwargs, word):
    with pytest.raises(WorkshopError, match=word):
        run_load("http://127.0.0.1:9/x", PAYLOAD, **kwargs)


@pytest.mark.parametrize(
    "flags, word",
    [
        (["-r", "inf"], "rate must be a positive, finite number"),
        (["--timeout", "inf"], "timeout must be a positive, finite number"),
    ],
)
def test_the_cli_refuses_non_finite_numbers_in_one_line(flags, word, capsys):
    assert main(["http://127.0.0.1:9/x", "--iris", *flags]) == 1
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err


def test_lab7s_senders_do_not_follow_redirects_either(redirecting, sink):
    from kserve_workshop.batching.measure import measure_batching
    from kserve_workshop.payload_logging.burst import burst_deliveries, post_deliveries, send_burst

    _, hits = sink
    before = hits["count"]
    deliveries = burst_deliveries(3)
    assert post_deliveries(f"{redirecting}/predict", deliveries) == [307] * 6
    assert send_burst(f"{redirecting}/predict", deliveries, rate=100).statuses == {"307": 6}
    with pytest.raises(WorkshopError, match="answered 307"):
        measure_batching(f"{redirecting}/predict", [[6.8, 2.8, 4.8, 1.4]], sizes=[1], repeats=1)
    assert hits["count"] == before, "a redirect was followed: requests reached another server"
