"""Lab 7's graded checks: right answers (also written other ways) pass, typical wrong answers fail
with a hint that points at the mistake, and odd answers never crash a check."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from kserve_workshop.batching import BatchingCurve, BatchPoint, measure_batching
from kserve_workshop.paths import MANIFESTS_DIR
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.training import iris_split, save_model, train_iris

from support.checks import assert_fails, lab_runner
from support.lab7_files import write_sink

pytest_plugins = ["support.lab7_files"]  # the model_server fixture
#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"model_server"}

SIZES = (1, 2, 4, 8, 16, 32, 64)
UNBATCHED = yaml.safe_load((MANIFESTS_DIR / "labs" / "07-batching-and-logging" / "iris-unbatched.yaml").read_text())
MALFORMED = [None, "text: [", 42, [], object(), True]


run = lab_runner("lab7")


def curve_of(fixed=0.001, per_row=2e-6, one_row=0.001, sizes=SIZES) -> BatchingCurve:
    return BatchingCurve(
        "http://127.0.0.1:1/v1/models/sklearn-iris:predict",
        [BatchPoint(n, fixed + per_row * n, n * one_row) for n in sizes],
        requests=500,
    )


# -- curve -------------------------------------------------------------------------------------------


@pytest.fixture
def server(model_server):
    return model_server


def test_a_real_measurement_of_the_running_server_passes(server):
    curve = measure_batching(server.v1_url, iris_split().X_test.tolist(), sizes=(1, 3, 8, 20, 64), repeats=4)
    result = run("curve", curve=curve, server=server)
    assert result.passed, result.text()
    assert "requests measured on the server" in result.message


def test_a_curve_the_server_never_saw_fails(server):
    made_up = curve_of()
    made_up.url = server.v1_url
    made_up.requests = 10**6
    assert_fails(run("curve", curve=made_up, server=server), "fewer predictions")


def test_a_curve_of_another_server_fails(server):
    assert_fails(run("curve", curve=curve_of(), server=server), "not measured on the lab's server")


@pytest.mark.parametrize("sizes", [(1, 2, 4, 8), (2, 4, 8, 16, 64), (1, 64), (1, 2, 4, 8, 16, 32)])
def test_a_curve_that_does_not_span_1_to_64_rows_fails(server, sizes):
    assert_fails(run("curve", curve=curve_of(sizes=sizes), server=server), "1 to 64")


@pytest.mark.parametrize("answer", MALFORMED + [{}])
def test_anything_but_a_curve_fails_without_crashing(answer, server):
    result = run("curve", curve=answer, server=server)
    assert not result.passed and result.error is None, result.text()


@pytest.mark.slow
def test_a_stopped_server_is_explained(tmp_path):
    save_model(train_iris(), tmp_path)
    server = LocalModelServer(tmp_path)
    server.start()
    curve = measure_batching(server.v1_url, iris_split().X_test.tolist(), sizes=SIZES, repeats=1)
    server.stop()
    assert_fails(run("curve", curve=curve, server=server), "request counter")


# -- cost_model --------------------------------------------------------------------------------------


def noisy_curve() -> BatchingCurve:
    rng = np.random.default_rng(7)
    return BatchingCurve(
        "http://127.0.0.1:1/",
        [BatchPoint(n, 0.0009 + 3e-6 * n + rng.normal(0, 2e-5), n * 0.0009) for n in SIZES],
        requests=500,
    )


def reference_fit(curve):
    slope, intercept = np.polyfit(curve.sizes, [p.one_request for p in curve.points], 1)
    return 1000 * intercept, 1e6 * slope


def test_a_least_squares_line_passes():
    curve = noisy_curve()
    fixed_ms, per_row_us = reference_fit(curve)
    assert run("cost_model", fixed_ms=fixed_ms, per_row_us=per_row_us, curve=curve).passed


def test_the_same_line_computed_by_hand_passes():
    curve = noisy_curve()
    x = np.array(curve.sizes, dtype=float)
    y = np.array([p.one_request for p in curve.points])
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    result = run(
        "cost_model", fixed_ms=1000 * (y.mean() - slope * x.mean()), per_row_us=round(1e6 * slope, 1), curve=curve
    )
    assert result.passed, result.text()


def test_a_line_through_two_points_only_is_close_enough_on_a_clean_curve():
    curve = curve_of(fixed=0.001, per_row=4e-6)
    first, last = curve.points[0], curve.points[-1]
    slope = (last.one_request - first.one_request) / (last.size - first.size)
    assert run("cost_model", fixed_ms=1000 * (first.one_request - slope), per_row_us=1e6 * slope, curve=curve).passed


def test_seconds_instead_of_milliseconds_get_their_hint():
    curve = noisy_curve()
    fixed_ms, per_row_us = reference_fit(curve)
    assert_fails(run("cost_model", fixed_ms=fixed_ms / 1000, per_row_us=per_row_us, curve=curve), "milliseconds")


def test_a_fit_of_the_one_by_one_times_gets_its_hint():
    curve = noisy_curve()
    slope, intercept = np.polyfit(curve.sizes, [p.one_by_one for p in curve.points], 1)
    assert_fails(run("cost_model", fixed_ms=1000 * intercept, per_row_us=1e6 * slope, curve=curve), "one_request")


def test_a_slope_in_milliseconds_gets_the_microseconds_hint():
    curve = curve_of(per_row=20e-6)
    fixed_ms, per_row_us = reference_fit(curve)
    assert_fails(run("cost_model", fixed_ms=fixed_ms, per_row_us=per_row_us / 1000, curve=curve), "microseconds")


@pytest.mark.parametrize("fixed_ms", [None, "1.0", float("nan"), True])
def test_a_cost_that_is_not_a_number_fails(fixed_ms):
    assert not run("cost_model", fixed_ms=fixed_ms, per_row_us=2.0, curve=noisy_curve()).passed


# -- batcher_choice ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, latency", [(4, 2), (8, 3), (16, 7), (32, 13), (8, 20 - 3), (np.int64(12), 5)])
def test_choices_within_the_budget_pass(size, latency):
    result = run("batcher_choice", max_batch_size=size, max_latency_ms=latency, curve=curve_of())
    assert result.passed, result.text()


def test_the_same_choice_fails_on_a_slower_server():
    slow = curve_of(fixed=0.003)  # 3 ms per request: batches of 4 would keep the model busy 188 %
    assert run("batcher_choice", max_batch_size=4, max_latency_ms=2, curve=curve_of()).passed
    assert_fails(run("batcher_choice", max_batch_size=4, max_latency_ms=2, curve=slow), "too small")


def test_a_curve_on_which_nothing_fits_says_to_measure_again():
    # 8 ms per request whatever its size (a busy machine): at 2500 requests/s no batch both fills and is served in time.
    busy = curve_of(fixed=0.008, per_row=0.0, one_row=0.008)
    for size, latency in ((16, 6), (32, 12), (4, 2)):
        assert_fails(run("batcher_choice", max_batch_size=size, max_latency_ms=latency, curve=busy), "measure")
    # On a normal curve a wrong choice keeps its own hint.
    failed = run("batcher_choice", max_batch_size=1, max_latency_ms=1, curve=curve_of())
    assert not failed.passed and "measure" not in failed.hint


def test_no_batching_fails_because_the_model_cannot_keep_up():
    assert_fails(run("batcher_choice", max_batch_size=1, max_latency_ms=1, curve=curve_of()), "busy")


def test_a_short_max_latency_that_keeps_batches_small_gets_its_hint():
    # Batches of up to 32, but closed after 1 ms with 3.5 rows on average: too small on a 1.5 ms model.
    assert_fails(
        run("batcher_choice", max_batch_size=32, max_latency_ms=1, curve=curve_of(fixed=0.0015)), "longer maxLatency"
    )


def test_kserves_defaults_fail_at_a_quiet_hour():
    assert_fails(run("batcher_choice", max_batch_size=32, max_latency_ms=5000, curve=curve_of()), "traffic drops")


def test_batches_too_big_for_the_budget_fail():
    assert_fails(run("batcher_choice", max_batch_size=64, max_latency_ms=18, curve=curve_of()), "fill sooner")


@pytest.mark.parametrize("latency", [0.002, 0.0125])
def test_max_latency_in_seconds_gets_its_hint(latency):
    assert_fails(run("batcher_choice", max_batch_size=8, max_latency_ms=latency, curve=curve_of()), "seconds")


def test_batches_beyond_the_measurement_fail():
    assert_fails(run("batcher_choice", max_batch_size=200, max_latency_ms=10, curve=curve_of()), "beyond")


@pytest.mark.parametrize("size, latency", [("8", 3), (8.0, 3), (0, 3), (8, -1), (None, None), (True, 3)])
def test_malformed_settings_fail_without_crashing(size, latency):
    result = run("batcher_choice", max_batch_size=size, max_latency_ms=latency, curve=curve_of())
    assert not result.passed and result.error is None, result.text()


# -- batcher_manifest --------------------------------------------------------------------------------


def batcher_manifest(size=8, latency=3, **predictor_changes):
    manifest = copy.deepcopy(UNBATCHED)
    manifest["metadata"]["name"] = "iris-batcher"
    manifest["spec"]["predictor"]["batcher"] = {"maxBatchSize": size, "maxLatency": latency}
    manifest["spec"]["predictor"].update(predictor_changes)
    return manifest


def test_a_batcher_manifest_passes_as_dict_and_as_yaml(isvc_schema):
    manifest = batcher_manifest()
    assert run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3).passed
    text = yaml.safe_dump(manifest)
    assert run("batcher_manifest", batcher_yaml=text, max_batch_size=8, max_latency_ms=3).passed


def test_a_batcher_with_a_timeout_too_passes(isvc_schema):
    manifest = batcher_manifest()
    manifest["spec"]["predictor"]["batcher"]["timeout"] = 60
    assert run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3).passed


def test_settings_other_than_the_chosen_ones_fail(isvc_schema):
    assert_fails(
        run("batcher_manifest", batcher_yaml=batcher_manifest(32, 5000), max_batch_size=8, max_latency_ms=3), "defaults"
    )


def test_a_batcher_inside_the_model_fails_the_schema(isvc_schema):
    manifest = batcher_manifest()
    manifest["spec"]["predictor"]["model"]["batcher"] = manifest["spec"]["predictor"].pop("batcher")
    assert_fails(run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3), "batcher")


def test_a_misspelt_or_mistyped_batcher_fails_the_schema(isvc_schema):
    typo = batcher_manifest()
    typo["spec"]["predictor"]["batcher"] = {"maxBatchsize": 8, "maxLatency": 3}
    assert_fails(run("batcher_manifest", batcher_yaml=typo, max_batch_size=8, max_latency_ms=3), "maxBatchsize")
    text = batcher_manifest(latency="3")
    assert_fails(run("batcher_manifest", batcher_yaml=text, max_batch_size=8, max_latency_ms=3), "schema")


def test_no_batcher_fails(isvc_schema):
    manifest = copy.deepcopy(UNBATCHED)
    manifest["metadata"]["name"] = "iris-batcher"
    assert_fails(run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3), "no batcher")


def test_v2_is_not_batched(isvc_schema):
    manifest = batcher_manifest()
    manifest["spec"]["predictor"]["model"]["protocolVersion"] = "v2"
    assert_fails(run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3), "V1")


def test_more_than_one_pod_fails(isvc_schema):
    assert_fails(
        run("batcher_manifest", batcher_yaml=batcher_manifest(maxReplicas=3), max_batch_size=8, max_latency_ms=3),
        "one pod",
    )


def test_another_name_fails(isvc_schema):
    manifest = batcher_manifest()
    manifest["metadata"]["name"] = "sklearn-iris"
    assert_fails(run("batcher_manifest", batcher_yaml=manifest, max_batch_size=8, max_latency_ms=3), "iris-batcher")


@pytest.mark.parametrize("answer", MALFORMED)
def test_a_malformed_batcher_manifest_fails_without_crashing(answer, isvc_schema):
    result = run("batcher_manifest", batcher_yaml=answer, max_batch_size=8, max_latency_ms=3)
    assert not result.passed and result.error is None, result.text()


# -- logger_manifest ---------------------------------------------------------------------------------


def logger_manifest(**logger):
    manifest = copy.deepcopy(UNBATCHED)
    manifest["metadata"]["name"] = "iris-logger"
    del manifest["spec"]["predictor"]["maxReplicas"]
    manifest["spec"]["predictor"]["logger"] = {
        "mode": "all",
        "url": "http://payload-sink.default.svc.cluster.local/",
        **logger,
    }
    return manifest


@pytest.mark.parametrize(
    "url",
    [
        "http://payload-sink.default.svc.cluster.local/",
        "http://payload-sink.default",
        "http://payload-sink.default.svc:80/",
        "http://payload-sink/",
    ],
)
def test_the_sinks_service_by_any_of_its_names_passes(url, isvc_schema):
    result = run("logger_manifest", logger_yaml=yaml.safe_dump(logger_manifest(url=url)))
    assert result.passed, result.text()


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://payload-sink.default.svc.cluster.local/", "https"),
        ("http://payload-sink.default.svc.cluster.local:8080/", "the container's port, not the Service's"),
        ("http://payload-sink.default.svc.cluster.local/events", "a path the sink does not serve"),
        ("http://message-dumper.default/", "KServe's sample sink, not ours"),
        ("http://127.0.0.1:8080/", "the learner's laptop, not the cluster"),
        (None, "no url"),
    ],
)
def test_a_url_that_does_not_reach_the_sink_fails(url, why, isvc_schema):
    manifest = logger_manifest()
    manifest["spec"]["predictor"]["logger"]["url"] = url
    if url is None:
        del manifest["spec"]["predictor"]["logger"]["url"]
    assert_fails(run("logger_manifest", logger_yaml=manifest), "not the sink's Service")


def test_in_a_learner_namespace_the_sink_is_the_one_in_it(isvc_schema, monkeypatch):
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-03")
    for url in ("http://payload-sink.learner-03.svc.cluster.local/", "http://payload-sink/"):
        result = run("logger_manifest", logger_yaml=logger_manifest(url=url))
        assert result.passed, result.text()
    # the workshop's own namespace is another learner's (or nobody's) sink
    result = run("logger_manifest", logger_yaml=logger_manifest(url="http://payload-sink.default.svc.cluster.local/"))
    assert_fails(result, "learner-03")
    assert "NAMESPACE in the URL" in result.hint


@pytest.mark.parametrize(
    "check, answer",
    [
        ("batcher_manifest", {"batcher_yaml": batcher_manifest(), "max_batch_size": 8, "max_latency_ms": 3}),
        ("logger_manifest", {"logger_yaml": logger_manifest(url="http://payload-sink/")}),
    ],
)
def test_a_manifest_names_no_namespace_or_the_labs_own(check, answer, isvc_schema, monkeypatch):
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-03")
    variable = next(iter(answer))
    assert run(check, **answer).passed  # no namespace: kubectl apply -n chooses it
    for namespace, passes in (("learner-03", True), ("default", False), ("learner-04", False)):
        named = {**answer, variable: copy.deepcopy(answer[variable])}
        named[variable]["metadata"]["namespace"] = namespace
        result = run(check, **named)
        if passes:
            assert result.passed, result.text()
        else:
            assert_fails(result, "kubectl apply -n learner-03")


@pytest.mark.parametrize("mode", ["request", "response", None])
def test_a_logger_that_does_not_log_both_halves_fails(mode, isvc_schema):
    manifest = logger_manifest()
    if mode is None:
        del manifest["spec"]["predictor"]["logger"]["mode"]
    else:
        manifest["spec"]["predictor"]["logger"]["mode"] = mode
    assert_fails(run("logger_manifest", logger_yaml=manifest), "mode: all")


def test_an_unknown_mode_fails_the_schema(isvc_schema):
    assert_fails(run("logger_manifest", logger_yaml=logger_manifest(mode="everything")), "schema")


def test_a_logger_with_storage_fails(isvc_schema):
    manifest = logger_manifest(storage={"key": "k", "path": "p", "parameters": {"format": "json"}})
    assert_fails(run("logger_manifest", logger_yaml=manifest), "storage")


def test_no_logger_fails(isvc_schema):
    manifest = logger_manifest()
    del manifest["spec"]["predictor"]["logger"]
    assert_fails(run("logger_manifest", logger_yaml=manifest), "no logger")


@pytest.mark.parametrize("answer", MALFORMED)
def test_a_malformed_logger_manifest_fails_without_crashing(answer, isvc_schema):
    result = run("logger_manifest", logger_yaml=answer)
    assert not result.passed and result.error is None, result.text()


# -- sink --------------------------------------------------------------------------------------------

ALTERNATIVE_SINK = '''
"""A sink written another way: the standard library's HTTP server, one lock, a dict per kind."""
import argparse, json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cloudevents.http import from_http

TYPES = {"org.kubeflow.serving.inference.request": "requests", "org.kubeflow.serving.inference.response": "responses"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = from_http(dict(self.headers), body)
            side = TYPES[event["type"]]
            data = event.data if isinstance(event.data, dict) else json.loads(event.data)
            assert isinstance(data, dict)
        except Exception:
            self.send_response(422)
            self.end_headers()
            return
        with self.server.lock:
            halves = self.server.halves
            halves[side][event["id"]] = (event, data)
            other = "responses" if side == "requests" else "requests"
            if event["id"] in halves[other]:
                request = halves["requests"].pop(event["id"])
                response = halves["responses"].pop(event["id"])
                with open(self.server.store, "a") as out:
                    out.write(json.dumps({"id": event["id"], "inferenceservice": request[0]["inferenceservicename"],
                                          "namespace": request[0]["namespace"], "request": request[1],
                                          "response": response[1]}) + "\\n")
        self.send_response(202)
        self.end_headers()


parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
parser.add_argument("--store")
args = parser.parse_args()
server = ThreadingHTTPServer((args.host, args.port), Handler)
server.lock, server.store, server.halves = threading.Lock(), args.store, {"requests": {}, "responses": {}}
server.serve_forever()
'''


@pytest.mark.slow
def test_the_master_sink_passes(tmp_path):
    result = run("sink", sink_file=write_sink(tmp_path))
    assert result.passed, result.text()


@pytest.mark.slow
def test_a_sink_written_another_way_passes(tmp_path):
    result = run("sink", sink_file=str(write_sink(tmp_path, source=ALTERNATIVE_SINK)))
    assert result.passed, result.text()


@pytest.mark.slow
@pytest.mark.parametrize(
    "replacements, mentions",
    [
        # Keeps any event type as a request.
        ({'kind = KINDS.get(event["type"])': 'kind = KINDS.get(event["type"], "request")'}, "another type"),
        # Pairs only when the response comes second.
        (
            {
                '        waiting = self.pending.setdefault(event["id"], {})': '        if event["kind"] == "response" and event["id"] not in self.pending:\n'
                "            return None\n"
                '        waiting = self.pending.setdefault(event["id"], {})'
            },
            "was not kept",
        ),
        # Does not check the payload: bytes reach json.dumps and the server answers 500.
        (
            {
                '    if not isinstance(data, dict):\n        raise BadEvent("the payload is not a JSON object")\n': "",
                "        try:\n            data = json.loads(data)\n        except ValueError:\n"
                '            raise BadEvent("the payload is not JSON") from None\n': "        pass\n",
            },
            "not JSON",
        ),
        # Lets the SDK's exceptions through: a malformed event is a 500.
        ({"    except GenericException as error:": "    except KeyError as error:"}, "5xx says the sink broke"),
        # Writes every event as it comes, not pairs.
        (
            {
                "        if len(waiting) < 2:\n            return None\n": '        self.file.write(json.dumps({"id": event["id"], event["kind"]: event["body"]}) + "\\n")\n'
                "        self.file.flush()\n"
                "        if len(waiting) < 2:\n            return None\n"
            },
            "kept twice",
        ),
        # Forgets to write the namespace.
        ({'"namespace": request["namespace"], ': ""}, "lacks namespace"),
        # Reads structured mode's payload from "data" by hand: an event carrying data_base64 is lost.
        (
            {
                "    data = event.data\n": "    data = event.data\n"
                '    if headers.get("Content-Type") == "application/cloudevents+json" and "data" not in json.loads(body):\n'
                '        raise BadEvent("no data")\n'
            },
            "data_base64",
        ),
        # Does not check that the payload is a JSON object: a bare list completes a pair.
        (
            {'    if not isinstance(data, dict):\n        raise BadEvent("the payload is not a JSON object")\n': ""},
            "JSON list",
        ),
    ],
)
def test_typical_wrong_sinks_fail(tmp_path, replacements, mentions):
    result = run("sink", sink_file=write_sink(tmp_path, replacements))
    assert_fails(result, mentions)


@pytest.mark.slow
def test_the_student_skeleton_fails_with_the_reason(tmp_path):
    from kserve_workshop.labkit.labgen import blank_source
    from support.lab7_files import master_sink_source

    skeleton = blank_source(master_sink_source(), "sink")
    result = run("sink", sink_file=write_sink(tmp_path, source=skeleton))
    assert_fails(result, "expected a 2xx")


@pytest.mark.slow
def test_a_sink_that_does_not_start_fails(tmp_path):
    broken = write_sink(tmp_path, {"import argparse": "import argparse\nimport no_such_module"})
    assert_fails(run("sink", sink_file=broken), "did not start")


@pytest.mark.slow
@pytest.mark.parametrize("answer", [None, 42, "no/such/file.py", object()])
def test_no_sink_file_fails_without_crashing(answer):
    result = run("sink", sink_file=answer)
    assert not result.passed and result.error is None, result.text()


@pytest.mark.slow
def test_the_check_leaves_the_learners_running_sink_alone(tmp_path):
    # The lab sends its burst to the learner's sink after check("lab7.sink"): the check's own sink
    # (the same file, so the same server name) must not replace it.
    from kserve_workshop.payload_logging.burst import burst_deliveries, send_burst
    from kserve_workshop.payload_logging.sink_process import SinkProcess

    sink_file = write_sink(tmp_path)
    with SinkProcess(sink_file, tmp_path / "pairs.jsonl", fresh=True) as learners:
        assert run("sink", sink_file=sink_file).passed
        assert learners.running
        assert send_burst(learners.event_url, burst_deliveries(5), rate=100).accepted == 10
