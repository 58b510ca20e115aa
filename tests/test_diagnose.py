"""Diagnose: every fixture gets the right cause, evidence cites real fields, errors are clear."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kserve_workshop.diagnose import (
    RULES,
    DirSource,
    Evidence,
    Finding,
    LiveSource,
    diagnose_call,
    diagnose_isvc,
    diagnose_snapshot,
    explain_call_failure,
    explain_not_ready,
    findings_from_error_text,
    render_json,
    render_text,
    save_snapshot,
)
from kserve_workshop.diagnose import findings as F
from kserve_workshop.diagnose.findings import rank
from kserve_workshop.diagnose.snapshot import LogKey
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "diagnose"
NAME = "sklearn-iris"

# The failure each fixture was written for: overall state and the rule that must rank first.
EXPECTED = {
    "healthy": (F.HEALTHY, None),
    "ingress-not-configured": (F.NOT_READY, "ingress-not-configured"),
    "no-supporting-runtime": (F.NOT_READY, "no-supporting-runtime"),
    "storage-uri-not-found": (F.NOT_READY, "storage-initializer-failed"),
    "storage-access-denied": (F.NOT_READY, "storage-initializer-failed"),
    "sklearn-version-mismatch": (F.NOT_READY, "sklearn-version-mismatch"),
    "import-error": (F.NOT_READY, "server-import-failed"),
    "model-file-missing": (F.READY_WITH_WARNINGS, "model-file-missing"),
    "mnt-models-missing": (F.NOT_READY, "mnt-models-missing"),
    "pending-insufficient-cpu": (F.NOT_READY, "pods-unschedulable"),
    "image-pull-backoff": (F.NOT_READY, "image-pull-failed"),
    "image-digest-resolution": (F.NOT_READY, "image-tag-resolution"),
    "webhook-not-ready": (F.NOT_READY, "webhook-not-ready"),
    "oom-killed": (F.NOT_READY, "container-oom-killed"),
    "exec-format-error": (F.NOT_READY, "wrong-architecture"),
    "revision-failed": (F.NOT_READY, "revision-failed"),
    "not-reconciled": (F.NOT_READY, "not-reconciled"),
    "starting": (F.STARTING, "still-starting"),
    "unknown-state": (F.UNKNOWN, None),
    "wrong-host": (F.HEALTHY, None),
}
# Words the top finding's title must contain: the cause in plain words, not just the rule id.
TITLE_WORDS = {
    "storage-uri-not-found": "no files",
    "storage-access-denied": "denied access",
    "pending-insufficient-cpu": "not enough cpu",
    "image-pull-backoff": "kserve/sklearnserver:v0.99.0",
    "image-digest-resolution": "digest",
    "no-supporting-runtime": "'sklearn'",
    "oom-killed": "64Mi",
    "import-error": "'kserve_workshop.training'",
}


def snap(case: str):
    return DirSource(FIXTURES / case).snapshot(NAME)


def diagnose(case: str):
    return diagnose_isvc(NAME, None, source=DirSource(FIXTURES / case))


# --- every fixture, the right cause -------------------------------------------------------------


def test_every_fixture_directory_has_an_expected_cause():
    dirs = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert dirs == set(EXPECTED), "add new fixture directories to EXPECTED (and to the README)"
    readme = (FIXTURES / "README.md").read_text()
    assert all(f"`{case}`" in readme for case in dirs)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture_is_diagnosed_with_the_right_top_cause(case):
    state, top_rule = EXPECTED[case]
    diagnosis = diagnose(case)
    assert diagnosis.state == state, render_text(diagnosis)
    assert (diagnosis.top.rule if diagnosis.top else None) == top_rule, render_text(diagnosis)
    assert not [m for m in diagnosis.missing if m.startswith("internal")], diagnosis.missing
    if case in TITLE_WORDS:
        assert TITLE_WORDS[case] in diagnosis.top.title.lower() or TITLE_WORDS[case] in diagnosis.top.title
    if diagnosis.top:
        assert diagnosis.top.fix and diagnosis.top.cause
        assert diagnosis.top.title in render_text(diagnosis)


def test_healthy_says_healthy_and_nothing_else():
    diagnosis = diagnose("healthy")
    text = render_text(diagnosis)
    assert diagnosis.healthy and diagnosis.findings == []
    assert "HEALTHY" in text and "nothing looks wrong" in text
    assert "http://sklearn-iris.kserve-test.example.com" in text
    assert "Conditions that are not True" not in text


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_no_rule_fires_on_the_healthy_fixture(rule):
    assert list(rule(snap("healthy"))) == []


def test_unknown_state_says_so_and_shows_the_raw_conditions():
    diagnosis = diagnose("unknown-state")
    text = render_text(diagnosis)
    assert diagnosis.state == F.UNKNOWN and diagnosis.findings == []
    assert "UNKNOWN STATE" in text and "none of the known causes matches" in text
    assert "Raw conditions" in text and "NotOwned" in text
    assert "placeholder Service" in text  # the raw message, not a paraphrase
    data = json.loads(render_json(diagnosis))
    assert {
        "object": "Route kserve-test/sklearn-iris-predictor",
        "type": "IngressReady",
        "status": "False",
        "reason": "NotOwned",
        "message": 'There is an existing placeholder Service "sklearn-iris-predictor" that we do not own.',
    } in data["conditions"]


def test_still_starting_is_not_said_next_to_a_real_failure():
    # Everything is Unknown (nothing False) here, so "still starting" matches too; the real cause wins alone.
    from kserve_workshop.diagnose.rules import still_starting

    assert [f.rule for f in still_starting(snap("ingress-not-configured"))] == ["still-starting"]
    assert [f.rule for f in diagnose("ingress-not-configured").findings] == ["ingress-not-configured"]


def test_starting_is_not_reported_as_a_failure():
    diagnosis = diagnose("starting")
    assert diagnosis.state == F.STARTING
    assert [f.severity for f in diagnosis.findings] == ["info"]
    assert "nothing has failed" in diagnosis.summary


# --- evidence cites the field it used ------------------------------------------------------------

SEGMENT = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+?)(?:\[(?P<sel_key>\w+)=(?P<sel_value>[^\]]+)\])?$")


def resolve(obj, path: str):
    """Follow ``status.conditions[type=Ready].reason``-style paths; raise KeyError when absent."""
    parts = re.findall(r"[^.\[]+(?:\[[^\]]*\])?", path)
    for part in parts:
        match = SEGMENT.match(part)
        assert match, f"bad path segment {part!r} in {path!r}"
        obj = obj[match["key"]]
        if match["sel_key"]:
            obj = next(item for item in obj if str(item.get(match["sel_key"])) == match["sel_value"])
    return obj


def _norm(text: str) -> str:
    return " ".join(str(text).split()).rstrip("…")


def _objects(snapshot):
    from kserve_workshop.diagnose.snapshot import ref

    objects = [snapshot.isvc, *snapshot.ksvcs, *snapshot.revisions, *snapshot.routes, *snapshot.pods]
    if snapshot.namespace_obj:
        objects.append(snapshot.namespace_obj)
    return {ref(o): o for o in objects}


def check_evidence(snapshot, evidence: Evidence) -> None:
    objects = _objects(snapshot)
    if evidence.source in objects:
        if evidence.value == "(absent)":
            with pytest.raises((KeyError, StopIteration)):
                resolve(objects[evidence.source], evidence.field)
            return
        found = resolve(objects[evidence.source], evidence.field)
        if not isinstance(found, (dict, list)):
            assert _norm(evidence.value) in _norm(found), f"{evidence} but the field holds {found!r}"
    elif evidence.source.startswith("log "):
        lineno = int(evidence.field.removeprefix("line "))
        key = next(k for k in snapshot.logs if evidence.source == f"log {k.describe()}")
        line = snapshot.logs[key].splitlines()[lineno - 1]
        assert _norm(evidence.value) in _norm(line)
    elif evidence.source.startswith("Event "):
        reason, name = evidence.source.split()[1], evidence.source.split()[-1]
        assert any(
            e["reason"] == reason
            and e["involvedObject"]["name"] == name
            and _norm(evidence.value) in _norm(e["message"])
            for e in snapshot.events
        ), evidence
    else:
        pytest.fail(f"evidence from an unknown source: {evidence}")


@pytest.mark.parametrize("case", sorted(c for c, (_, rule) in EXPECTED.items() if rule))
def test_every_piece_of_evidence_cites_a_field_holding_its_value(case):
    snapshot = snap(case)
    diagnosis = diagnose_snapshot(snapshot)
    assert diagnosis.top.evidence
    for finding in diagnosis.findings:
        for evidence in finding.evidence:
            check_evidence(snapshot, evidence)


def test_the_evidence_check_itself_catches_a_wrong_citation():
    snapshot = snap("no-supporting-runtime")
    with pytest.raises(AssertionError):
        check_evidence(
            snapshot,
            Evidence(
                "InferenceService kserve-test/sklearn-iris",
                "status.modelStatus.lastFailureInfo.reason",
                "ModelLoadFailed",
            ),
        )
    with pytest.raises(KeyError):
        check_evidence(snapshot, Evidence("InferenceService kserve-test/sklearn-iris", "status.nope", "x"))


def test_top_evidence_names_the_upstream_field_it_read():
    fields = {e.field for e in diagnose("no-supporting-runtime").top.evidence}
    assert "status.modelStatus.lastFailureInfo.reason" in fields
    fields = {e.field for e in diagnose("ingress-not-configured").top.evidence}
    assert "status.conditions[type=PredictorReady].reason" in fields


# --- the fixtures are valid objects --------------------------------------------------------------


def _fixture_objects(filename: str):
    for path in sorted(FIXTURES.glob(f"*/{filename}")):
        data = json.loads(path.read_text())
        for item in data.get("items", [data]):
            yield f"{path.parent.name}/{filename}", item


def test_core_objects_in_fixtures_match_the_kubernetes_schemas():
    from kserve_workshop.validate import errors, validate_object

    checked = 0
    for filename in ("pods.json", "events.json", "namespace.json"):
        for where, item in _fixture_objects(filename):
            assert errors(validate_object(item, file=where)) == [], where
            checked += 1
    assert checked > 40
    bad = json.loads((FIXTURES / "healthy" / "pods.json").read_text())["items"][0]
    bad["status"]["containerStatuses"][0]["restartCounts"] = 1  # a typo must be caught
    assert "restartCounts" in str(errors(validate_object(bad)))


def test_inferenceservices_in_fixtures_match_kserves_crd_schema():
    import jsonschema

    from kserve_workshop.schemas import isvc_schema

    schema = isvc_schema()
    if schema is None:
        pytest.skip("KServe's CRD schema is not cached (run `invoke schemas`)")
    validator = jsonschema.Draft202012Validator(schema)
    for where, item in _fixture_objects("inferenceservice.json"):
        assert not list(validator.iter_errors(item)), where
    wrong = json.loads((FIXTURES / "no-supporting-runtime" / "inferenceservice.json").read_text())
    wrong["status"]["modelStatus"]["lastFailureInfo"]["reason"] = "NoRuntime"
    assert list(validator.iter_errors(wrong))


# --- rules are general, not tuned to the fixtures ------------------------------------------------


def test_unschedulable_for_memory_names_memory():
    snapshot = snap("pending-insufficient-cpu")
    text = json.dumps([snapshot.pods, snapshot.events, snapshot.revisions]).replace(
        "Insufficient cpu", "Insufficient memory"
    )
    snapshot.pods, snapshot.events, snapshot.revisions = json.loads(text)
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "pods-unschedulable" and "memory" in top.title and "cpu" not in top.title


def test_unschedulable_title_names_the_resources_without_the_schedulers_punctuation():
    assert diagnose("pending-insufficient-cpu").top.title == "Pods are Pending: not enough cpu on the nodes"
    snapshot = snap("pending-insufficient-cpu")
    text = json.dumps([snapshot.pods, snapshot.events, snapshot.revisions]).replace(
        "1 Insufficient cpu.", "1 Insufficient memory, 1 Insufficient nvidia.com/gpu."
    )
    snapshot.pods, snapshot.events, snapshot.revisions = json.loads(text)
    assert (
        diagnose_snapshot(snapshot).top.title == "Pods are Pending: not enough memory and nvidia.com/gpu on the nodes"
    )


def test_unschedulable_for_a_taint_quotes_the_scheduler():
    snapshot = snap("pending-insufficient-cpu")
    taint = "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}."
    text = json.dumps([snapshot.pods, snapshot.events, snapshot.revisions]).replace(
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
        taint,
    )
    snapshot.pods, snapshot.events, snapshot.revisions = json.loads(text)
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "pods-unschedulable" and "untolerated taint" in top.cause and top.confidence < 0.9


def test_an_import_error_at_start_is_a_broken_image_not_an_unpicklable_model():
    diagnosis = diagnose("import-error")
    assert diagnosis.top.rule == "server-import-failed"
    assert (
        "before any model is loaded" in diagnosis.top.cause
        and "not a problem with the model file" in diagnosis.top.cause
    )
    assert "kserve-workshop/custom-model:0.1.0" in diagnosis.top.cause
    assert "model-file-not-loadable" not in {f.rule for f in diagnosis.findings}
    assert "unpickling" not in render_text(diagnosis).lower()


# The same ModuleNotFoundError raised by pickle inside joblib.load: the model file names a class from
# a module the runtime lacks (here a scikit-learn module that was renamed). That IS the model file.
UNPICKLE_IMPORT = """Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "<frozen runpy>", line 88, in _run_code
  File "/sklearnserver/sklearnserver/__main__.py", line 35, in <module>
    model.load()
  File "/sklearnserver/sklearnserver/model.py", line 52, in load
    self._model = joblib.load(model_files[0])
                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/prod_venv/lib/python3.11/site-packages/joblib/numpy_pickle.py", line 632, in _unpickle
    obj = unpickler.load()
          ^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/pickle.py", line 1213, in load
    dispatch[key[0]](self)
  File "/usr/local/lib/python3.11/pickle.py", line 1538, in load_stack_global
    self.append(self.find_class(module, name))
                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.11/pickle.py", line 1580, in find_class
    __import__(module, level=0)
ModuleNotFoundError: No module named 'sklearn.ensemble.gradient_boosting'
"""


def _crashed_with(text: str):
    """The import-error fixture with another crash text everywhere KServe and the kubelet copy it:
    the log, the termination message (FallbackToLogsOnError) and lastFailureInfo.message."""
    snapshot = snap("import-error")
    key = next(k for k in snapshot.logs if k.container == "kserve-container")
    snapshot.logs[key] = text
    snapshot.isvc["status"]["modelStatus"]["lastFailureInfo"]["message"] = text
    for pod in snapshot.pods:
        for status in pod["status"]["containerStatuses"]:
            if status["name"] == "kserve-container":
                status["lastState"]["terminated"]["message"] = text
    return snapshot


def test_an_import_error_while_unpickling_is_still_the_model_file():
    diagnosis = diagnose_snapshot(_crashed_with(UNPICKLE_IMPORT))
    assert diagnosis.top.rule == "model-file-not-loadable" and "unpickling" in diagnosis.top.title
    assert "server-import-failed" not in {f.rule for f in diagnosis.findings}


@pytest.mark.parametrize(
    "text, missing",
    [
        (
            "/opt/venv/bin/python: Error while finding module specification for 'kserve_workshop.runtime.server' "
            "(ModuleNotFoundError: No module named 'kserve_workshop.runtime')\n",
            "'kserve_workshop.runtime'",
        ),
        ("/usr/local/bin/python3.11: No module named kserve_workshop.model_server\n", "kserve_workshop.model_server"),
        (
            'Traceback (most recent call last):\n  File "/app/x.py", line 3, in <module>\n    from kserve import Model\n'
            "ImportError: cannot import name 'Model' from 'kserve' (/opt/venv/lib/python3.11/site-packages/kserve/__init__.py)\n",
            "'Model' from 'kserve'",
        ),
    ],
)
def test_import_failures_of_every_shape_are_recognised(text, missing):
    top = diagnose_snapshot(_crashed_with(text)).top
    assert top.rule == "server-import-failed" and missing in top.title, top.title


def test_a_crash_with_an_unknown_error_shows_the_last_log_lines():
    snapshot = snap("oom-killed")
    status = snapshot.pods[0]["status"]["containerStatuses"][0]
    status["lastState"]["terminated"].update(reason="Error", exitCode=3)
    key = LogKey(snapshot.pods[0]["metadata"]["name"], "kserve-container", True)
    snapshot.logs[key] = "starting\nTraceback (most recent call last):\nRuntimeError: the flux capacitor is cold\n"
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "container-crashing" and "exit code 3" in top.title
    assert "the flux capacitor is cold" in top.cause


def test_a_storage_error_no_pattern_knows_still_gets_reported_with_its_log():
    snapshot = snap("storage-uri-not-found")
    odd = "2026-08-24 10:02:51.842 1 storage.initializer ERROR [x.py:y():1] Unexpected error during storage initialization: boom\n"
    snapshot.pods[0]["status"]["initContainerStatuses"][0]["lastState"]["terminated"]["message"] = odd
    snapshot.logs = {LogKey(snapshot.pods[0]["metadata"]["name"], "storage-initializer", True): odd}
    top = diagnose_snapshot(snapshot).top
    assert (
        top.rule == "storage-initializer-failed" and top.title == "The storage initializer failed to download the model"
    )
    assert "boom" in top.cause and top.confidence < 0.9


def test_image_pull_unauthorized_is_about_credentials():
    snapshot = snap("image-pull-backoff")
    text = json.dumps([snapshot.pods, snapshot.events]).replace("not found", "unauthorized: authentication required")
    snapshot.pods, snapshot.events = json.loads(text)
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "image-pull-failed" and "credentials" in top.cause


def test_a_version_warning_on_a_ready_model_is_a_warning_with_both_versions():
    snapshot = snap("healthy")
    key = next(k for k in snapshot.logs if k.container == "kserve-container")
    snapshot.logs[key] = (
        "/prod_venv/lib/python3.11/site-packages/sklearn/base.py:376: InconsistentVersionWarning: "
        "Trying to unpickle estimator LogisticRegression from version 1.7.1 when using version 1.5.2. "
        "This might lead to breaking code or invalid results.\n" + snapshot.logs[key]
    )
    diagnosis = diagnose_snapshot(snapshot)
    assert diagnosis.state == F.READY_WITH_WARNINGS
    assert diagnosis.top.rule == "sklearn-version-mismatch" and diagnosis.top.severity == "warning"
    assert "1.7.1" in diagnosis.top.title and "1.5.2" in diagnosis.top.title
    from kserve_workshop.versions import pin

    assert f"scikit-learn=={pin('python', 'scikit_learn')}" in " ".join(diagnosis.top.fix)


def test_the_runtime_fix_uses_the_pinned_chart():
    from kserve_workshop.versions import pin

    fix = " ".join(diagnose("no-supporting-runtime").top.fix)
    assert f"{pin('kserve', 'chart_repo')}/kserve-runtime-configs --version {pin('kserve')}" in fix
    assert "kserve.servingruntime.enabled=true" in fix


@pytest.mark.parametrize(
    "tail, expected",
    [
        ("x509: certificate signed by unknown authority", "certificate"),
        ("context deadline exceeded", "9443"),
        ('no endpoints available for service "kserve-webhook-server-service"', "not running or not ready"),
        ("dial tcp 10.96.201.17:443: connect: connection refused", "not running or not ready"),
    ],
)
def test_webhook_failures_are_explained_by_their_error(tail, expected):
    snapshot = snap("webhook-not-ready")
    text = json.dumps([snapshot.events, snapshot.revisions]).replace(
        "dial tcp 10.96.201.17:443: connect: connection refused", json.dumps(tail)[1:-1]
    )
    snapshot.events, snapshot.revisions = json.loads(text)
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "webhook-not-ready" and expected in " ".join([top.cause, *top.fix])
    others = {"certificate", "9443", "not running or not ready"} - {expected}
    assert not [word for word in others if word in top.cause]  # one explanation, not all of them


def test_an_apply_refused_by_the_webhook_is_explained_from_the_error_text():
    error = (
        'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
        'webhook "inferenceservice.kserve-webhook-server.defaulter": failed to call webhook: Post '
        '"https://kserve-webhook-server-service.kserve.svc:443/mutate-serving-kserve-io-v1beta1-inferenceservice?timeout=10s": '
        "dial tcp 10.96.239.251:443: connect: connection refused"
    )
    [finding] = findings_from_error_text(error, "kubectl apply")
    assert finding.rule == "webhook-not-ready" and "KServe" in finding.title
    assert "kserve-controller-manager" in " ".join(finding.fix)
    assert findings_from_error_text("the server could not find the requested resource") == []


def _runtime_not_recognized(runtime: str):
    """The no-supporting-runtime fixture, as KServe reports a named runtime it cannot find
    (components/predictor.go: RuntimeNotRecognized, "Waiting for runtime to become available")."""
    snapshot = snap("no-supporting-runtime")
    snapshot.isvc["spec"]["predictor"]["model"]["runtime"] = runtime
    snapshot.isvc["status"]["modelStatus"]["lastFailureInfo"] = {
        "reason": "RuntimeNotRecognized",
        "message": "Waiting for runtime to become available",
    }
    return diagnose_snapshot(snapshot).top


def test_runtime_not_recognized_names_the_runtime():
    top = _runtime_not_recognized("kserve-sklearn")
    assert top.rule == "no-supporting-runtime" and "'kserve-sklearn'" in top.title
    assert "Did you mean 'kserve-sklearnserver'?" in " ".join(top.fix)
    assert "servingruntime.enabled" not in " ".join(top.fix)


def test_kserves_own_runtime_missing_is_the_runtime_configs_chart_without_its_flag():
    from kserve_workshop.versions import pin

    top = _runtime_not_recognized("kserve-sklearnserver")
    assert top.rule == "no-supporting-runtime"
    assert top.title == "KServe's runtime 'kserve-sklearnserver' is not installed"
    assert "kserve.servingruntime.enabled=true" in top.cause
    install = next(line for line in top.fix if line.startswith("Install KServe's runtimes: "))
    assert (
        f"helm upgrade --install kserve-runtime-configs oci://ghcr.io/kserve/charts/kserve-runtime-configs "
        f"--version {pin('kserve')} -n kserve --set kserve.servingruntime.enabled=true"
    ) in install


def test_mnt_models_without_the_label_is_less_sure_and_says_why():
    snapshot = snap("mnt-models-missing")
    del snapshot.namespace_obj["metadata"]["labels"]["control-plane"]
    top = diagnose_snapshot(snapshot).top
    assert top.rule == "mnt-models-missing" and top.confidence < 0.95
    assert "storageUri" in " ".join(top.fix)


def test_still_starting_is_not_said_when_a_condition_failed():
    snapshot = snap("starting")
    snapshot.revisions[0]["status"]["conditions"][2].update(status="False", reason="Boom", message="x")
    assert [f.rule for f in diagnose_snapshot(snapshot).findings if f.rule == "still-starting"] == []


def test_stale_events_do_not_make_a_healthy_service_look_broken():
    snapshot = snap("healthy")
    old = json.loads((FIXTURES / "no-supporting-runtime" / "events.json").read_text())["items"]
    snapshot.events += old + json.loads((FIXTURES / "pending-insufficient-cpu" / "events.json").read_text())["items"]
    assert diagnose_snapshot(snapshot).state == F.HEALTHY
    # ...but the same events count while it is not Ready
    snapshot.isvc["status"]["conditions"][5]["status"] = "False"
    assert {"no-supporting-runtime", "pods-unschedulable"} <= {f.rule for f in diagnose_snapshot(snapshot).findings}


def test_events_about_pods_that_are_gone_are_ignored():
    snapshot = snap("image-pull-backoff")
    gone = "sklearn-iris-predictor-00001-deployment-7c9d8f6b5d-old00"
    for event in snapshot.events:
        if event["involvedObject"]["kind"] == "Pod":
            event["involvedObject"]["name"] = gone
    snapshot.pods[0]["status"]["containerStatuses"][0]["state"] = {"running": {"startedAt": "2026-08-24T10:09:00Z"}}
    assert "image-pull-failed" not in [f.rule for f in diagnose_snapshot(snapshot).findings]


def test_a_broken_rule_is_reported_not_swallowed():
    def broken(_snapshot):
        raise KeyError("spec")

    diagnosis = diagnose_snapshot(snap("healthy"), rules=[broken])
    assert any("rule broken failed" in m for m in diagnosis.missing)


def test_findings_validate_confidence_and_severity_and_rank_errors_first():
    with pytest.raises(ValueError):
        Finding("r", "t", "c", [], [], 1.5)
    with pytest.raises(ValueError):
        Finding("r", "t", "c", [], [], 0.5, "fatal")
    info = Finding("a", "t", "c", [], [], 0.99, "info")
    warning = Finding("b", "t", "c", [], [], 0.95, "warning")
    weak, strong = Finding("c", "t", "c", [], [], 0.5), Finding("d", "t", "c", [], [], 0.9)
    assert [f.rule for f in rank([info, weak, warning, strong])] == ["d", "c", "b", "a"]


def test_messages_with_brackets_render_verbatim():
    text = render_text(diagnose("mnt-models-missing"))
    assert "[Errno 2] No such file or directory: '/mnt/models'" in text


# --- calls ------------------------------------------------------------------------------------


def test_wrong_host_fixture_call_is_diagnosed_as_wrong_host():
    call = json.loads((FIXTURES / "wrong-host" / "call.json").read_text())
    status_url = snap("wrong-host").isvc["status"]["url"]
    diagnosis = diagnose_call(
        call["response"]["status"],
        call["response"]["body"],
        host=call["request"]["headers"]["Host"],
        status_url=status_url,
        path=call["request"]["path"],
        model_name=NAME,
        server=call["response"]["headers"]["server"],
    )
    assert diagnosis.state == F.CALL_EXPLAINED and diagnosis.top.rule == "call-wrong-host"
    assert "sklearn-iris.kserve-test.example.com" in diagnosis.top.title
    assert Evidence("request", "Host header", "sklearn-iris.default.example.com") in diagnosis.top.evidence
    assert Evidence("InferenceService", "status.url", status_url) in diagnosis.top.evidence


@pytest.mark.parametrize(
    "status, body, kwargs, rule",
    [
        (404, "", {"host": None}, "call-no-host"),
        (404, "", {"host": "sklearn-iris.kserve-test.example.com:8080"}, "call-gateway-no-route"),
        (404, "", {"host": "sklearn-iris.kserve-test.example.com", "path": "/predict"}, "call-wrong-path"),
        (
            404,
            '{"error":"Model with name iris does not exist."}',
            {"path": "/v1/models/iris:predict"},
            "call-wrong-model-name",
        ),
        (404, '{"error":"Model with name sklearn-iris does not exist."}', {}, "call-model-not-loaded"),
        (503, "no healthy upstream", {}, "call-no-ready-pod"),
        (503, '{"error":"Model with name sklearn-iris is not ready."}', {}, "call-model-not-ready"),
        (
            500,
            '{"error":"Expected 2D array, got 1D array instead"}',
            {"content_type": "application/x-www-form-urlencoded"},
            "call-not-json",
        ),
        (400, '{"error":"Invalid input"}', {}, "call-bad-payload"),
        # KServe's sklearn runtime: every predict error is an InferenceError, answered with HTTP 500.
        (
            500,
            '{"error":"X has 3 features, but SVC is expecting 4 features as input."}',
            {"content_type": "application/json"},
            "call-bad-payload",
        ),
        (500, '{"error":"Input X contains NaN."}', {"content_type": "application/json"}, "call-bad-payload"),
        (
            500,
            '{"error":"Expected 2D array, got 1D array instead"}',
            {"content_type": "application/json"},
            "call-bad-payload",
        ),
        (None, "", {"error": "Connection refused"}, "call-no-answer"),
    ],
)
def test_failed_calls_are_explained(status, body, kwargs, rule):
    kwargs = {"host": "sklearn-iris.kserve-test.example.com", **kwargs}
    diagnosis = diagnose_call(
        status, body, status_url="http://sklearn-iris.kserve-test.example.com", model_name=NAME, **kwargs
    )
    assert diagnosis.top.rule == rule


def test_a_feature_count_error_names_both_counts():
    diagnosis = diagnose_call(
        500,
        '{"error":"X has 3 features, but SVC is expecting 4 features as input."}',
        host="sklearn-iris.kserve-test.example.com",
        status_url="http://sklearn-iris.kserve-test.example.com",
        model_name=NAME,
    )
    assert diagnosis.top.title == "The rows have 3 features, the model expects 4"
    assert "HTTP 500" in diagnosis.top.cause and "rows of 4 numbers" in diagnosis.top.fix[0]


def test_a_500_that_is_not_about_the_payload_is_not_called_one():
    diagnosis = diagnose_call(500, '{"error":"ValueError : boom"}', host="h", status_url="http://h")
    assert diagnosis.state == F.CALL_UNKNOWN


def test_an_unexplained_call_says_so_and_shows_the_body():
    diagnosis = diagnose_call(418, "I'm a teapot", host="h", status_url="http://h")
    assert diagnosis.state == F.CALL_UNKNOWN and diagnosis.findings == []
    assert "I'm a teapot" in render_text(diagnosis)
    assert "Wrong Host" in explain_call_failure(404, "", host="x", status_url="http://y")


# --- saved directories ------------------------------------------------------------------------


def copy_fixture(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(FIXTURES / case, target)
    return target


def test_missing_optional_files_are_listed_not_fatal():
    diagnosis = diagnose("not-reconciled")
    assert "ksvc.json (not saved)" in diagnosis.missing and "pods.json (not saved)" in diagnosis.missing
    assert "ksvc.json (not saved)" in render_text(diagnosis)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: (d / "pods.json").write_text('{"items": ['), r"pods\.json is not valid JSON \(.*line 1"),
        (lambda d: (d / "pods.json").write_text('"pods"'), r"pods\.json does not hold Kubernetes objects"),
        (lambda d: (d / "inferenceservice.json").unlink(), r"has no inferenceservice\.json"),
        (
            lambda d: (d / "inferenceservice.json").write_text((d / "namespace.json").read_text()),
            r"inferenceservice\.json, item 0 is a Namespace \(v1\), but inferenceservice\.json holds InferenceService",
        ),
        (lambda d: (d / "inferenceservice.json").write_bytes(b"\xff\xfe\x00"), r"not a UTF-8 text file"),
    ],
)
def test_broken_directories_give_one_clear_error(tmp_path, mutate, message):
    folder = copy_fixture("healthy", tmp_path)
    mutate(folder)
    with pytest.raises(WorkshopError, match=message):
        DirSource(folder).snapshot(NAME)


def _edit(folder: Path, filename: str, change) -> None:
    """Load a saved file, let ``change`` alter the decoded JSON in place, write it back."""
    path = folder / filename
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _first_pod(data):
    return data["items"][0]


@pytest.mark.parametrize(
    "filename, change, message",
    [
        (
            "pods.json",
            lambda d: _first_pod(d).update(status="Running"),
            r"pods\.json, item 0: status must be an object, not 'Running'",
        ),
        (
            "pods.json",
            lambda d: _first_pod(d)["status"].update(containerStatuses={"name": "kserve-container"}),
            r"item 0: status\.containerStatuses must be a list",
        ),
        (
            "pods.json",
            lambda d: _first_pod(d)["status"]["containerStatuses"][0].update(restartCount="5"),
            r"status\.containerStatuses\[0\]\.restartCount must be a whole number, not '5'",
        ),
        (
            "pods.json",
            lambda d: _first_pod(d)["status"]["containerStatuses"][0].update(state=["running"]),
            r"containerStatuses\[0\]\.state must be an object",
        ),
        ("pods.json", lambda d: _first_pod(d).update(metadata=None), r"item 0: metadata must be an object, not None"),
        (
            "pods.json",
            lambda d: d["items"].append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}),
            r"pods\.json, item 1 is a Service \(v1\), but pods\.json holds Pod objects",
        ),
        (
            "ksvc.json",
            lambda d: d["items"][0].update(apiVersion="v1"),
            r"ksvc\.json, item 0 is a Service \(v1\), but ksvc\.json holds Service objects of serving\.knative\.dev",
        ),
        ("inferenceservice.json", lambda d: d.update(metadata=None), r"metadata must be an object, not None"),
        (
            "inferenceservice.json",
            lambda d: d["status"].update(conditions="Ready"),
            r"status\.conditions must be a list, not 'Ready'",
        ),
        (
            "inferenceservice.json",
            lambda d: d["status"]["conditions"][0].update(status=True),
            r"status\.conditions\[0\]\.status must be a string, not True",
        ),
        ("inferenceservice.json", lambda d: d.update(status=[]), r"status must be an object, not \[\]"),
        ("events.json", lambda d: d["items"][0].update(involvedObject="pod"), r"involvedObject must be an object"),
        (
            "namespace.json",
            lambda d: d["metadata"].update(labels=["control-plane"]),
            r"metadata\.labels must be an object",
        ),
    ],
)
def test_malformed_objects_give_one_clear_error(tmp_path, filename, change, message):
    folder = copy_fixture("healthy", tmp_path)
    _edit(folder, filename, change)
    with pytest.raises(WorkshopError, match=message) as info:
        DirSource(folder).snapshot(NAME)
    assert "invoke diagnose.snapshot" in info.value.hint


def test_json_nested_beyond_reason_is_refused(tmp_path):
    folder = copy_fixture("healthy", tmp_path)
    (folder / "pods.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(WorkshopError, match=r"pods\.json is nested too deeply"):
        DirSource(folder).snapshot(NAME)


@pytest.mark.parametrize(
    "meta, message",
    [
        ({"missing": 5}, r"snapshot\.json: missing must be a list, not 5"),
        ({"missing": ["ok", {"file": "x"}]}, r"snapshot\.json: missing\[1\] must be a string"),
        ({"origin": ["cluster"]}, r"snapshot\.json: origin must be a string"),
        (["not", "an", "object"], r"snapshot\.json: the object must be an object"),
    ],
)
def test_a_malformed_snapshot_json_is_refused(tmp_path, meta, message):
    folder = copy_fixture("healthy", tmp_path)
    (folder / "snapshot.json").write_text(json.dumps(meta))
    with pytest.raises(WorkshopError, match=message):
        DirSource(folder).snapshot(NAME)


def test_a_well_formed_snapshot_json_is_read(tmp_path):
    folder = copy_fixture("healthy", tmp_path)
    (folder / "snapshot.json").write_text(
        json.dumps(
            {"origin": "cluster (context x)", "saved_at": "now", "missing": ["events (forbidden for your user)"]}
        )
    )
    snapshot = DirSource(folder).snapshot(NAME)
    assert "taken from cluster (context x) at now" in snapshot.origin
    assert "events (forbidden for your user)" in snapshot.missing


def test_a_log_that_is_a_directory_is_ignored_with_a_note(tmp_path):
    folder = copy_fixture("healthy", tmp_path)
    odd = folder / "logs" / "sklearn-iris-predictor-00001-deployment-7c9d8f6b5d-x2k4p_extra.log"
    odd.mkdir()
    snapshot = DirSource(folder).snapshot(NAME)
    assert any(odd.name in m and "not a file" in m for m in snapshot.missing)
    assert render_text(diagnose_snapshot(snapshot))


def test_name_and_namespace_must_match_the_saved_object():
    with pytest.raises(WorkshopError, match="not 'other'"):
        DirSource(FIXTURES / "healthy").snapshot("other")
    with pytest.raises(WorkshopError, match="namespace 'kserve-test', not 'default'"):
        DirSource(FIXTURES / "healthy").snapshot(NAME, "default")
    with pytest.raises(WorkshopError, match="needs the InferenceService's name"):
        diagnose_isvc("", None, source=DirSource(FIXTURES / "healthy"))


def test_badly_named_log_files_are_ignored_with_a_note(tmp_path):
    folder = copy_fixture("healthy", tmp_path)
    (folder / "logs" / "kserve-container.txt").write_text("x")
    snapshot = DirSource(folder).snapshot(NAME)
    assert any("kserve-container.txt" in m for m in snapshot.missing)
    assert len(snapshot.logs) == 2


@pytest.mark.parametrize("case", ["mnt-models-missing", "sklearn-version-mismatch", "not-reconciled"])
def test_a_saved_snapshot_reads_back_to_the_same_diagnosis(tmp_path, case):
    original = snap(case)
    save_snapshot(original, tmp_path / "out")
    again = DirSource(tmp_path / "out").snapshot(NAME)
    first, second = diagnose_snapshot(original), diagnose_snapshot(again)
    assert (second.state, second.findings, second.conditions) == (first.state, first.findings, first.conditions)
    assert again.logs == original.logs


def test_saving_redacts_secrets_and_refuses_a_used_directory(tmp_path):
    snapshot = snap("healthy")
    snapshot.pods[0]["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    snapshot.pods[0]["spec"]["containers"][0]["env"].append({"name": "AWS_SECRET_ACCESS_KEY", "value": "hunter2"})
    snapshot.isvc["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{...}"
    save_snapshot(snapshot, tmp_path / "out")
    saved = (tmp_path / "out" / "pods.json").read_text()
    assert "hunter2" not in saved and "<redacted>" in saved and "managedFields" not in saved
    assert '"name": "PORT"' in saved and '"value": "8080"' in saved  # ordinary env is kept
    assert "last-applied" not in (tmp_path / "out" / "inferenceservice.json").read_text()
    assert "managedFields" in json.dumps(snapshot.pods)  # the snapshot itself is untouched
    with pytest.raises(WorkshopError, match="not an empty directory"):
        save_snapshot(snapshot, tmp_path / "out")


# --- live source (through a stand-in reader; there is no cluster here) -------------------------


class FixtureReader:
    """Answers the LiveSource's reads from a fixture directory, and records them."""

    def __init__(self, case: str, failures: dict | None = None):
        self.dir = FIXTURES / case
        self.calls: list[tuple] = []
        self.failures = failures or {}

    def _maybe_fail(self, what):
        if what in self.failures:
            raise self.failures[what]

    def _items(self, filename):
        path = self.dir / filename
        items = json.loads(path.read_text())["items"] if path.exists() else []
        return [
            {k: v for k, v in i.items() if k not in ("apiVersion", "kind")}
            if filename in ("pods.json", "events.json")
            else i
            for i in items
        ]  # the API omits kind in list items; LiveSource adds it back

    def get_isvc(self, name, namespace):
        self.calls.append(("isvc", name, namespace))
        self._maybe_fail("isvc")
        return json.loads((self.dir / "inferenceservice.json").read_text())

    def list_custom(self, group, version, plural, namespace, selector):
        self.calls.append(("custom", plural, namespace, selector))
        self._maybe_fail(plural)
        return self._items({"services": "ksvc.json", "revisions": "revisions.json", "routes": "routes.json"}[plural])

    def list_pods(self, namespace, selector):
        self.calls.append(("pods", namespace, selector))
        return self._items("pods.json")

    def list_events(self, namespace):
        self.calls.append(("events", namespace))
        return self._items("events.json")

    def read_namespace(self, namespace):
        self.calls.append(("namespace", namespace))
        return json.loads((self.dir / "namespace.json").read_text())

    def read_log(self, pod, namespace, container, previous, tail):
        self.calls.append(("log", pod, container, previous, tail))
        path = self.dir / "logs" / f"{pod}_{container}{'.previous' if previous else ''}.log"
        if not path.exists():
            from kubernetes.client.exceptions import ApiException

            raise ApiException(status=400, reason="Bad Request")
        return path.read_text()


@pytest.mark.parametrize("case", ["sklearn-version-mismatch", "storage-access-denied", "healthy"])
def test_live_and_saved_sources_yield_the_same_snapshot(case):
    reader = FixtureReader(case)
    live = LiveSource(reader=reader).snapshot(NAME, "kserve-test")
    saved = snap(case)
    for attr in ("isvc", "ksvcs", "revisions", "routes", "pods", "namespace_obj", "logs"):
        assert getattr(live, attr) == getattr(saved, attr), attr
    assert live.events == saved.related_events()
    assert all(e["involvedObject"]["name"].startswith(NAME) for e in live.events)
    selectors = {c[-1] for c in reader.calls if c[0] in ("custom", "pods")}
    assert selectors == {"serving.kserve.io/inferenceservice=sklearn-iris"}
    assert diagnose_snapshot(live).findings == diagnose_snapshot(saved).findings


def test_live_source_reads_the_crashed_runs_log():
    reader = FixtureReader("sklearn-version-mismatch")
    LiveSource(reader=reader, tail_lines=20).snapshot(NAME, "kserve-test")
    logs = {(c[2], c[3]) for c in reader.calls if c[0] == "log"}
    assert ("kserve-container", True) in logs and ("storage-initializer", False) in logs
    assert all(c[4] == 20 for c in reader.calls if c[0] == "log")


def test_live_source_notes_what_it_could_not_read_and_goes_on():
    from kubernetes.client.exceptions import ApiException

    reader = FixtureReader(
        "healthy",
        failures={
            "services": ApiException(status=404, reason="Not Found"),
            "routes": ApiException(status=403, reason="Forbidden"),
        },
    )
    snapshot = LiveSource(reader=reader).snapshot(NAME, "kserve-test")
    assert any("Knative services" in m and "does not exist" in m for m in snapshot.missing)
    assert any("Knative routes" in m and "forbidden" in m for m in snapshot.missing)
    assert snapshot.revisions and snapshot.pods


@pytest.mark.parametrize(
    "error, message",
    [
        ("notfound", "InferenceService kserve-test/sklearn-iris does not exist"),
        ("nocrd", "no InferenceService API: KServe is not installed"),
        ("refused", "cannot reach the cluster of the current kube context: Connection refused"),
    ],
)
def test_live_source_errors_on_the_isvc_are_clear(error, message):
    from kubernetes.client.exceptions import ApiException

    if error == "notfound":
        exc = ApiException(status=404, reason="Not Found")
        exc.body = (
            '{"kind":"Status","status":"Failure","message":"inferenceservices.serving.kserve.io '
            '\\"sklearn-iris\\" not found","reason":"NotFound","details":{"name":"sklearn-iris",'
            '"group":"serving.kserve.io","kind":"inferenceservices"},"code":404}'
        )
    elif error == "nocrd":
        exc = ApiException(status=404, reason="Not Found")
        exc.body = "404 page not found"
    else:
        exc = OSError(
            "HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Caused by "
            "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))"
        )
    with pytest.raises(WorkshopError, match=re.escape(message)):
        LiveSource(reader=FixtureReader("healthy", failures={"isvc": exc})).snapshot(NAME, "kserve-test")


# --- explain_not_ready never raises ------------------------------------------------------------


@pytest.fixture
def no_kubeconfig(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))


def test_explain_not_ready_without_kubeconfig_returns_help(no_kubeconfig):
    text = explain_not_ready(NAME, "kserve-test")
    assert "Could not diagnose InferenceService kserve-test/sklearn-iris" in text
    assert "no usable kubeconfig" in text
    assert f"kubectl describe inferenceservice {NAME} -n kserve-test" in text


def test_explain_not_ready_with_an_unreachable_cluster_returns_help(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\nusers: [{name: u, user: {token: x}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    text = explain_not_ready(NAME, "default")
    assert "cannot reach the cluster" in text and "https://127.0.0.1:1" in text
    assert "Could not diagnose" in explain_not_ready(NAME, "default", context="no-such-context")


def test_explain_not_ready_survives_unexpected_errors(monkeypatch):
    import kserve_workshop.diagnose as diagnose_module

    class Exploding:
        def __init__(self, *args, **kwargs):
            pass

        def snapshot(self, name, namespace):
            raise RuntimeError("surprise")

    monkeypatch.setattr(diagnose_module, "LiveSource", Exploding)
    text = explain_not_ready(NAME, "default")
    assert "RuntimeError: surprise" in text and "kubectl describe" in text


def test_explain_not_ready_returns_the_diagnosis_when_it_can_read(monkeypatch):
    import kserve_workshop.diagnose as diagnose_module

    monkeypatch.setattr(
        diagnose_module,
        "LiveSource",
        lambda context=None, **kw: LiveSource(context, reader=FixtureReader("ingress-not-configured")),
    )
    text = explain_not_ready(NAME, "kserve-test")
    assert "NOT READY" in text and "net-istio" in text


# --- the tasks, as a learner runs them ---------------------------------------------------------


def invoke(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def test_task_diagnoses_a_saved_directory():
    result = invoke("diagnose", NAME, "--from-dir", str(FIXTURES / "image-digest-resolution"))
    assert result.returncode == 0, result.stderr
    assert "NOT READY" in result.stdout and "registries-skipping-tag-resolving" in result.stdout


def test_task_json_output_is_only_json():
    result = invoke("diagnose", NAME, "--from-dir", str(FIXTURES / "pending-insufficient-cpu"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["state"] == "not-ready" and data["findings"][0]["rule"] == "pods-unschedulable"
    assert data["findings"][0]["evidence"][0]["field"].startswith("status.conditions")


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda tmp: tmp / "missing", "is not a directory"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "has no inferenceservice.json"),
        (
            lambda tmp: (
                shutil.copytree(FIXTURES / "healthy", tmp / "bad"),
                (tmp / "bad" / "events.json").write_text("{oops"),
            )[0],
            "events.json is not valid JSON",
        ),
        (
            lambda tmp: (
                shutil.copytree(FIXTURES / "healthy", tmp / "bad"),
                _edit(tmp / "bad", "pods.json", lambda d: d["items"][0].update(status="Running")),
            )[0],
            "status must be an object, not 'Running'",
        ),
        (
            lambda tmp: (
                shutil.copytree(FIXTURES / "healthy", tmp / "bad"),
                (tmp / "bad" / "inferenceservice.json").write_text("[" * 100_000),
            )[0],
            "nested too deeply",
        ),
    ],
)
def test_task_with_a_broken_directory_fails_clearly(tmp_path, setup, message):
    folder = setup(tmp_path)
    result = invoke("diagnose", NAME, "--from-dir", str(folder))
    assert result.returncode != 0
    assert message in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_task_snapshot_without_a_cluster_fails_clearly(tmp_path):
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    result = invoke("diagnose.snapshot", NAME, "--out", str(tmp_path / "new"), env=env)
    assert result.returncode != 0 and "no usable kubeconfig" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "new").exists()  # nothing half-written


def run_task(task, capsys, **kwargs):
    """Run a task in-process as invoke would; returns (exit code, stdout, stderr)."""
    from invoke import MockContext
    from invoke.exceptions import Exit

    try:
        task(MockContext(), **kwargs)
        code = 0
    except Exit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_task_call_explains_a_wrong_host(capsys):
    from kserve_workshop.tasks.diagnose import call

    code, out, _ = run_task(
        call,
        capsys,
        name=NAME,
        status="404",
        host="sklearn-iris.default.example.com",
        from_dir=str(FIXTURES / "wrong-host"),
    )
    assert code == 0 and "Wrong Host header" in out and "sklearn-iris.kserve-test.example.com" in out
    code, _, err = run_task(call, capsys, name=NAME, status="teapot", from_dir=str(FIXTURES / "wrong-host"))
    assert code == 1 and "--status must be an HTTP status code" in err
    code, _, err = run_task(call, capsys, name=NAME, from_dir=str(FIXTURES / "wrong-host"))
    assert code == 1 and "needs --status" in err


def test_task_snapshot_without_out_says_so_before_reading_anything(capsys, monkeypatch):
    from kserve_workshop.tasks import diagnose_tasks

    monkeypatch.setattr(diagnose_tasks, "LiveSource", lambda *a, **k: pytest.fail("must not read the cluster"))
    code, _, err = run_task(diagnose_tasks.snapshot, capsys, name=NAME)
    assert code == 1 and "needs --out DIR" in err and f"--out {NAME}-snapshot" in err


def test_task_snapshot_refuses_a_used_directory_before_reading_anything(tmp_path, capsys, monkeypatch):
    from kserve_workshop.tasks import diagnose as diagnose_tasks

    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    monkeypatch.setattr(diagnose_tasks, "LiveSource", lambda *a, **k: pytest.fail("must not read the cluster"))
    code, _, err = run_task(diagnose_tasks.snapshot, capsys, name=NAME, out=str(tmp_path / "used"))
    assert code == 1 and "not an empty directory" in err


def test_task_snapshot_writes_a_directory_the_diagnosis_reads(tmp_path, capsys, monkeypatch):
    from kserve_workshop.tasks import diagnose as diagnose_tasks

    monkeypatch.setattr(
        diagnose_tasks, "LiveSource", lambda context=None: LiveSource(context, reader=FixtureReader("oom-killed"))
    )
    code, out, _ = run_task(diagnose_tasks.snapshot, capsys, name=NAME, out=str(tmp_path / "snap"))
    assert code == 0 and "Saved" in out and "--from-dir" in out
    code, out, _ = run_task(diagnose_tasks.explain, capsys, name=NAME, from_dir=str(tmp_path / "snap"))
    assert code == 0 and "more memory than its limit" in out
