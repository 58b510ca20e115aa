"""Graded checks of Lab 7 (request batching and payload logging).

The batching answers are graded on the learner's *own* measurement (``batching``), against the
lab's fixed scenario (``LAB_SCENARIO``, not the notebook's copy of it). The sink is graded through
its real server: the learner's file is started on 127.0.0.1 with a fresh store, sent the agent's
events (``payload_logging.cases``), and judged on its answers and on the pairs it kept.
"""

from __future__ import annotations

import math
import numbers
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...batching import LAB_SCENARIO, UTILISATION_LIMIT, BatchingCurve, estimate_batcher, fit_cost
from ...batching.estimate import check_batcher_settings
from ...errors import WorkshopError
from ...namespace import workshop_namespace
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from .isvc_rules import as_manifest, has_small_resources, model_of, schema_valid, uses_sklearn_runtime

#: A measurement spans one row to the batcher's default batch size and beyond.
SMALLEST, LARGEST, MIN_SIZES = 1, 64, 5
#: Relative and absolute tolerances of the cost model against the reference fit.
FIXED_TOLERANCE, FIXED_SLACK_MS = 0.10, 0.05
PER_ROW_TOLERANCE, PER_ROW_SLACK_US = 0.25, 1.0
BATCHER_NAME, LOGGER_NAME = "iris-batcher", "iris-logger"
SINK_SERVICE = "payload-sink"


def sink_hosts(namespace: str) -> set[str]:
    """The names of the sink's Service that resolve from a pod of ``namespace`` (where the sink runs too)."""
    return {
        SINK_SERVICE,
        f"{SINK_SERVICE}.{namespace}",
        f"{SINK_SERVICE}.{namespace}.svc",
        f"{SINK_SERVICE}.{namespace}.svc.cluster.local",
    }


def _curve(curve: Any) -> BatchingCurve:
    if not isinstance(curve, BatchingCurve) or not curve.points:
        raise CheckFailed(
            "`curve` is not a batching measurement",
            expected="the BatchingCurve of measure_batching(...)",
            found=curve,
            hint="curve = measure_batching(server.v1_url, rows, sizes=SIZES)",
        )
    return curve


def _number(value: Any, variable: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise CheckFailed(f"`{variable}` must be a number", found=value)
    return float(value)


@lab_check("lab7", hint="curve = measure_batching(server.v1_url, rows, sizes=SIZES) on the running server")
def curve(curve, server):
    """A real measurement of the lab's model server, from 1 to 64 rows."""
    measured = _curve(curve)
    sizes = measured.sizes
    if sizes[0] != SMALLEST or sizes[-1] < LARGEST or len(sizes) < MIN_SIZES:
        raise CheckFailed(
            "the sizes do not span one row to 64 rows",
            expected=f"at least {MIN_SIZES} sizes from 1 to 64",
            found=sizes,
            hint="SIZES = (1, 2, 4, 8, 16, 32, 64)",
        )
    bad = [p.size for p in measured.points if not (0 < p.one_request < 10 and 0 < p.one_by_one < 60)]
    if bad:
        raise CheckFailed(f"the times for sizes {bad} are not plausible", found=measured.to_dataframe().to_string())
    from ...metrics.exposition import histogram_count, read_metrics

    url = getattr(server, "v1_url", None)
    if measured.url != url:
        raise CheckFailed("the curve was not measured on the lab's server", expected=url, found=measured.url)
    try:
        served = histogram_count(read_metrics(server.url), "request_predict_seconds", model_name=server.model_name)
    except Exception as exc:  # noqa: BLE001 - a stopped server, a closed port...
        raise CheckFailed(
            "cannot read the model server's request counter",
            found=f"{type(exc).__name__}: {exc}",
            hint="is the server still running? start it again and measure again",
        ) from None
    if served < measured.requests:
        raise CheckFailed(
            "the server counted fewer predictions than the curve says it sent",
            expected=f"at least {measured.requests}",
            found=f"{served:.0f}",
            hint="the server was restarted after the measurement: measure again",
        )
    largest = measured.points[-1]
    return (
        f"{measured.requests} requests measured on the server: {largest.size} rows in one request took "
        f"{1000 * largest.one_request:.2f} ms, one by one {1000 * largest.one_by_one:.1f} ms "
        f"({largest.speedup:.0f}x)"
    )


@lab_check("lab7", hint="fit one_request = fixed + per_row x rows, e.g. numpy.polyfit(sizes, times, 1)")
def cost_model(fixed_ms, per_row_us, curve):
    """The straight line through the batched times: a fixed cost per request and a cost per row."""
    reference = fit_cost(_curve(curve))
    fixed, per_row = _number(fixed_ms, "fixed_ms"), _number(per_row_us, "per_row_us")
    want_fixed, want_per_row = 1000 * reference.fixed, 1e6 * reference.per_row
    expected = f"fixed_ms ≈ {want_fixed:.3f}, per_row_us ≈ {want_per_row:.2f} (a least-squares line through curve)"
    fixed_ok = abs(fixed - want_fixed) <= max(FIXED_TOLERANCE * abs(want_fixed), FIXED_SLACK_MS)
    per_row_ok = abs(per_row - want_per_row) <= max(PER_ROW_TOLERANCE * abs(want_per_row), PER_ROW_SLACK_US)
    if fixed_ok and per_row_ok:
        if want_per_row * LARGEST < 0.1 * want_fixed:
            weight = f"even {LARGEST} rows cost less than a tenth of the fixed part"
        else:
            weight = f"the fixed part weighs as much as {want_fixed / (want_per_row / 1000):.0f} rows"
        return f"a request costs {fixed:.3f} ms before its first row and {per_row:.2f} µs per row: {weight}"
    if not fixed_ok and abs(fixed * 1000 - want_fixed) <= max(FIXED_TOLERANCE * abs(want_fixed), FIXED_SLACK_MS):
        hint = "fixed_ms is in milliseconds: the curve's times are in seconds, multiply by 1000"
    elif not per_row_ok and abs(per_row - 1e6 * _per_row_of_one_by_one(curve)) <= 0.25 * abs(
        1e6 * _per_row_of_one_by_one(curve)
    ):
        hint = "that is the cost of a whole one-row request per row: fit the one-request times (one_request)"
    elif not per_row_ok and abs(per_row * 1000 - want_per_row) <= max(
        PER_ROW_TOLERANCE * abs(want_per_row), PER_ROW_SLACK_US
    ):
        hint = "per_row_us is in microseconds (1e-6 s): multiply the slope in seconds by 1,000,000"
    else:
        hint = "fit a line to (size, one_request) over every point of the curve, then convert the units"
    raise CheckFailed(
        "the cost model does not fit your measurement",
        expected=expected,
        found=f"fixed_ms {fixed:g}, per_row_us {per_row:g}",
        hint=hint,
    )


def _per_row_of_one_by_one(curve: BatchingCurve) -> float:
    import numpy as np

    return float(np.polyfit(curve.sizes, [p.one_by_one for p in curve.points], 1)[0])


@lab_check(
    "lab7",
    hint=f"With your curve, estimate_batcher(curve, {LAB_SCENARIO.rate:g}, size, latency_ms) must "
    f"keep the worst case within {LAB_SCENARIO.budget_ms:g} ms and the model busy at most "
    f"{UTILISATION_LIMIT:.0%} of the time, and a lone request (maxLatency + 2 x the one-row time) "
    "must fit too; maxLatency is in milliseconds",
)
def batcher_choice(max_batch_size, max_latency_ms, curve):
    """maxBatchSize/maxLatency that serve the lab's arrival rate within its latency budget, on the learner's curve."""
    measured = _curve(curve)
    rate, budget = LAB_SCENARIO.rate, LAB_SCENARIO.budget
    if isinstance(max_latency_ms, float) and 0 < max_latency_ms < 1:
        raise CheckFailed(
            "maxLatency is in milliseconds, and a whole number",
            found=max_latency_ms,
            hint=f"{max_latency_ms} looks like seconds: {max_latency_ms * 1000:g} ms",
        )
    try:
        size, latency_ms = check_batcher_settings(max_batch_size, max_latency_ms)
        estimate = estimate_batcher(measured, rate, size, latency_ms)
    except WorkshopError as exc:
        raise CheckFailed(exc.message, found=(max_batch_size, max_latency_ms), hint=exc.hint) from None
    if size > measured.sizes[-1]:
        raise CheckFailed(
            f"maxBatchSize {size} is beyond the measured sizes (up to {measured.sizes[-1]})",
            found=(max_batch_size, max_latency_ms),
            hint="in a burst batches grow to maxBatchSize: choose a size whose cost you measured",
        )
    expected = (
        f"a worst case within {LAB_SCENARIO.budget_ms:g} ms and a model busy at most "
        f"{UTILISATION_LIMIT:.0%} of the time at {rate:g} requests/s"
    )
    lone = latency_ms / 1000 + 2 * measured.latency(1)
    if estimate.fits(budget) and lone <= budget:
        return estimate.describe()
    if estimate.fits(budget):
        expected += ", also when traffic drops"
        hint = (
            f"when traffic drops a batch closes on time: a lone request waits maxLatency ({latency_ms} ms), "
            f"then the model, {1000 * lone:.1f} ms in all. maxLatency guards the budget at low traffic"
        )
    elif not estimate.stable or estimate.utilisation > UTILISATION_LIMIT:
        hint = (
            f"batches of {estimate.batch_size:.1f} rows are too small: the model would be busy "
            f"{estimate.utilisation:.0%} of the time. Allow bigger batches"
            + (" and a longer maxLatency so they can fill" if estimate.closes_when == "on time" else "")
        )
    elif latency_ms >= 1000 * budget:
        hint = "maxLatency alone is longer than the budget: a request can wait that long for its batch to close"
    else:
        hint = (
            f"a batch's first request waits {1000 * estimate.fill_wait:.1f} ms for it to close: "
            "smaller batches (or a shorter maxLatency) fill sooner"
        )
    if not _some_batcher_serves(measured, rate, budget):
        hint = (
            f"no maxBatchSize up to {measured.sizes[-1]} with any maxLatency does, on the curve you measured "
            f"(one row {1000 * measured.latency(1):.1f} ms, {measured.sizes[-1]} rows "
            f"{1000 * measured.latency(measured.sizes[-1]):.1f} ms): the machine was probably busy while you "
            "measured. Run the measurement cell again when it is idle, then choose again"
        )
    raise CheckFailed(
        "this batcher does not serve the scenario", expected=expected, found=estimate.describe(), hint=hint
    )


def _some_batcher_serves(measured: BatchingCurve, rate: float, budget: float) -> bool:
    """Whether any maxBatchSize (up to the measured sizes) and maxLatency (whole ms within the budget)
    serve ``rate`` within ``budget`` on ``measured``, also when traffic drops."""
    for size in range(1, measured.sizes[-1] + 1):
        for latency_ms in range(1, max(1, math.floor(1000 * budget)) + 1):
            if latency_ms / 1000 + 2 * measured.latency(1) > budget:
                break
            if estimate_batcher(measured, rate, size, latency_ms).fits(budget):
                return True
    return False


def _predictor(manifest: dict, variable: str) -> dict:
    predictor = (manifest.get("spec") or {}).get("predictor")
    if not isinstance(predictor, dict):
        raise CheckFailed(f"`{variable}` has no spec.predictor", found=manifest.get("spec"))
    return predictor


def _isvc(value: Any, variable: str, name: str) -> tuple[dict, dict]:
    manifest = as_manifest(value, variable)
    schema_valid(manifest, variable)
    metadata = manifest.get("metadata") or {}
    if metadata.get("name") != name:
        raise CheckFailed(
            f"the InferenceService must be called {name}",
            expected=f"metadata.name: {name}",
            found=metadata.get("name"),
            hint="the cluster cells use that name",
        )
    namespace = workshop_namespace()
    if metadata.get("namespace", namespace) != namespace:
        raise CheckFailed(
            "metadata.namespace is not the lab's namespace",
            expected=f"no namespace, or {namespace}",
            found=quoted(metadata.get("namespace")),
            hint=f"leave namespace out: `kubectl apply -n {namespace}` puts it there, and refuses a "
            "manifest that names another",
        )
    model = model_of(manifest, variable)
    uses_sklearn_runtime(model)
    has_small_resources(model)
    return manifest, _predictor(manifest, variable)


@lab_check(
    "lab7",
    hint="spec.predictor.batcher: {maxBatchSize: <yours>, maxLatency: <yours>} next to model:, "
    "with minReplicas and maxReplicas 1",
)
def batcher_manifest(batcher_yaml, max_batch_size, max_latency_ms):
    """An InferenceService whose predictor batches with the learner's settings (V1, one pod)."""
    _, predictor = _isvc(batcher_yaml, "batcher_yaml", BATCHER_NAME)
    batcher = predictor.get("batcher")
    if not isinstance(batcher, dict):
        raise CheckFailed(
            "the predictor has no batcher",
            expected="spec.predictor.batcher: {maxBatchSize: ..., maxLatency: ...}",
            found=sorted(predictor),
            hint="batcher sits beside model:, not inside it",
        )
    wanted = {"maxBatchSize": max_batch_size, "maxLatency": max_latency_ms}
    if {key: batcher.get(key) for key in wanted} != wanted:
        raise CheckFailed(
            "the batcher's settings are not the ones you chose",
            expected=wanted,
            found=batcher,
            hint="without them the agent uses its defaults, 32 rows and 5000 ms",
        )
    if (predictor.get("model") or {}).get("protocolVersion") == "v2":
        raise CheckFailed(
            "the batcher batches only V1 :predict calls",
            found="protocolVersion: v2",
            hint="V2 /infer requests pass through it unbatched: leave protocolVersion out (v1)",
        )
    replicas = (predictor.get("minReplicas"), predictor.get("maxReplicas"))
    if replicas != (1, 1):
        raise CheckFailed(
            "the comparison needs exactly one pod",
            expected="minReplicas: 1 and maxReplicas: 1",
            found=f"minReplicas {replicas[0]}, maxReplicas {replicas[1]}",
            hint="each pod batches on its own: with several, batches split between them",
        )
    return f"{BATCHER_NAME} batches up to {max_batch_size} rows or {max_latency_ms} ms, in one pod"


def _plain_http_root(parts) -> bool:
    """``http://HOST/`` (port 80, path /): how the agent reaches a Service."""
    try:
        return parts is not None and parts.scheme == "http" and parts.port in (None, 80) and parts.path in ("", "/")
    except ValueError:  # a port that is not a number
        return False


@lab_check(
    "lab7", hint="logger: {mode: all, url: http://payload-sink.<your NAMESPACE>.svc.cluster.local/} beside model:"
)
def logger_manifest(logger_yaml):
    """An InferenceService whose predictor logs requests and responses to the sink's Service."""
    _, predictor = _isvc(logger_yaml, "logger_yaml", LOGGER_NAME)
    logger = predictor.get("logger")
    if not isinstance(logger, dict):
        raise CheckFailed(
            "the predictor has no logger",
            expected="spec.predictor.logger: {mode: all, url: ...}",
            found=sorted(predictor),
            hint="logger sits beside model:, not inside it",
        )
    if logger.get("mode") != "all":
        raise CheckFailed(
            "the logger must log both requests and responses",
            expected="mode: all",
            found=logger.get("mode"),
            hint="KServe's webhook refuses a logger without a mode; 'request' "
            "or 'response' alone leaves nothing to pair",
        )
    url = logger.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    namespace = workshop_namespace()
    if not (_plain_http_root(parts) and parts.hostname in sink_hosts(namespace)):
        elsewhere = _plain_http_root(parts) and (parts.hostname or "").startswith(f"{SINK_SERVICE}.")
        raise CheckFailed(
            "the url is not the sink's Service",
            expected=f"http://{SINK_SERVICE}.{namespace}.svc.cluster.local/",
            found=url,
            hint=f"your sink runs in your namespace, {namespace}: put NAMESPACE in the URL (an f-string)"
            if elsewhere
            else "the agent POSTs to exactly this URL from inside the pod: the Service's DNS name, port 80, path /",
        )
    if "storage" in logger:
        raise CheckFailed(
            "this logger sends to the sink, not to a bucket",
            found=logger["storage"],
            hint="storage is for s3:// urls (later in the lab)",
        )
    return f"{LOGGER_NAME} sends every request and response to {url}"


@lab_check(
    "lab7",
    hint="parse_event: from_http(headers, body), keep only the two inference types, decode JSON "
    "data; Pairs.add: pair by id in any order, write the pair once both halves are in",
)
def sink(sink_file):
    """The learner's sink, run for real: the agent's events in, 2xx/4xx and the kept pairs out."""
    from ...payload_logging.burst import post_deliveries
    from ...payload_logging.cases import graded_deliveries, judge_answers, judge_store
    from ...payload_logging.sink_process import SinkProcess
    from ...payload_logging.store import read_pairs

    if not isinstance(sink_file, (str, Path)) or not Path(sink_file).is_file():
        raise CheckFailed("`sink_file` is not a file", found=sink_file, hint="run the %%writefile cell first")
    graded = graded_deliveries()
    with tempfile.TemporaryDirectory(prefix="lab7-sink-") as scratch:
        try:
            # replaces=False: the learner's own sink, running in the notebook, stays up.
            with SinkProcess(sink_file, Path(scratch) / "pairs.jsonl", replaces=False) as process:
                statuses = post_deliveries(process.event_url, [case.delivery for case in graded.cases])
                log = process.log_tail(8)
                store = process.store
        except WorkshopError as exc:
            raise CheckFailed(
                "the sink did not start",
                found=exc.message,
                hint="run the file yourself: python payload_sink.py --port 8099 --store /tmp/p.jsonl",
            ) from None
        problems = judge_answers(graded.cases, statuses)
        try:
            problems += judge_store(graded, read_pairs(store))
        except WorkshopError as exc:
            problems.append(exc.message)
    if problems:
        raise CheckFailed(
            f"{len(problems)} problem(s) with what the sink answered or kept",
            expected="2xx for the agent's events and pairs kept once, 4xx for the rest",
            found="; ".join(problems[:4])
            + (" ..." if len(problems) > 4 else "")
            + (f" | last lines of its log: {log[-300:]}" if log and any(s == 500 for s in statuses) else ""),
        )
    return (
        f"{len(graded.cases)} deliveries: every agent event accepted, every malformed one refused with a 4xx, "
        f"{len(graded.pairs)} pairs kept (V1 and V2, binary and structured, in either order)"
    )
