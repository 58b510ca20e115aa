"""The smoke test: deploy, predict through the ingress with the Host header, check [1, 1], delete."""

from __future__ import annotations

import pytest

from kserve_workshop import smoke
from kserve_workshop.errors import WorkshopError

from support.fake_ingress import FakeIngress
from support.platform_fakes import ClusterState, runner

KIND = "kind-kserve-workshop"
URL = "http://smoke-sklearn-iris.default.example.com"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))


def cluster(**kwargs) -> ClusterState:
    return ClusterState(outputs={r"get inferenceservice smoke-sklearn-iris .*status.url": URL}, **kwargs)


def shape(commands: list[str]) -> list[str]:
    return [c.split()[3] for c in commands]


def test_check_predictions():
    smoke.check_predictions([1, 1])
    with pytest.raises(WorkshopError) as info:
        smoke.check_predictions([0, 2])
    assert "[0, 2]" in info.value.message and "[1, 1]" in info.value.message


def test_smoke_isvc_is_small_and_uses_kserves_sklearn_server():
    isvc = smoke.smoke_isvc()
    assert isvc["kind"] == "InferenceService" and isvc["metadata"]["name"] == "smoke-sklearn-iris"
    model = isvc["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": "sklearn"} and model["runtime"] == "kserve-sklearnserver"
    assert model["storageUri"] == "gs://kfserving-examples/models/sklearn/1.0/model"
    assert model["resources"]["requests"] == {"cpu": "50m", "memory": "128Mi"}


def test_smoke_passes_with_the_docs_answer_and_the_right_host():
    run, ctx = runner(cluster())
    with FakeIngress([(200, {"predictions": [1, 1]})]) as ingress:
        assert smoke.run_smoke(run, KIND, base_url=ingress.url, delay=0) == [1, 1]
    assert ingress.requests == [
        {
            "path": "/v1/models/smoke-sklearn-iris:predict",
            "host": "smoke-sklearn-iris.default.example.com",
            "body": {"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]},
        }
    ]
    assert shape(ctx.commands) == ["apply", "wait", "get", "delete"]
    assert ctx.commands[1] == (
        f"kubectl --context {KIND} wait --for=condition=Ready "
        "inferenceservice/smoke-sklearn-iris --namespace default --timeout=300s"
    )
    assert ctx.commands[3] == (
        f"kubectl --context {KIND} delete inferenceservice smoke-sklearn-iris "
        "--namespace default --ignore-not-found --wait=true --timeout=120s"
    )


def test_smoke_fails_on_a_wrong_answer_and_still_deletes():
    run, ctx = runner(cluster())
    with FakeIngress([(200, {"predictions": [2, 0]})]) as ingress:
        with pytest.raises(WorkshopError) as info:
            smoke.run_smoke(run, KIND, base_url=ingress.url, delay=0)
    assert "answered [2, 0], expected [1, 1]" in info.value.message
    assert shape(ctx.commands)[-1] == "delete"


def test_smoke_retries_while_the_route_settles():
    run, _ = runner(cluster())
    with FakeIngress([(503, {"error": "no healthy upstream"}), (200, {"predictions": [1, 1]})]) as ingress:
        assert smoke.run_smoke(run, KIND, base_url=ingress.url, attempts=3, delay=0) == [1, 1]
    assert len(ingress.requests) == 2


def test_smoke_gives_up_after_bounded_attempts():
    run, ctx = runner(cluster())
    with FakeIngress([(404, {"error": "not found"})]) as ingress:
        with pytest.raises(WorkshopError) as info:
            smoke.run_smoke(run, KIND, base_url=ingress.url, attempts=2, delay=0)
    assert len(ingress.requests) == 2 and "after 2 tries" in info.value.message
    assert shape(ctx.commands)[-1] == "delete"


def test_not_ready_is_explained_and_cleaned_up(monkeypatch):
    calls = []
    monkeypatch.setattr(
        smoke,
        "_explainer",
        lambda: (
            lambda name, namespace, context=None: (
                calls.append((name, namespace, context)) or "PredictorReady=False: ModelLoadFailed"
            )
        ),
    )
    run, ctx = runner(cluster(failures=[r"wait --for=condition=Ready inferenceservice/"]))
    with pytest.raises(WorkshopError) as info:
        smoke.run_smoke(run, KIND, base_url="http://127.0.0.1:9", delay=0)
    assert "ModelLoadFailed" in info.value.message
    assert calls == [("smoke-sklearn-iris", "default", KIND)]
    assert shape(ctx.commands)[-1] == "delete" and "get" not in shape(ctx.commands)


def test_without_the_diagnose_package_describe_and_events_explain(monkeypatch):
    monkeypatch.setattr(smoke, "_explainer", lambda: None)
    state = cluster(failures=[r"wait --for=condition=Ready inferenceservice/"])
    state.outputs[r"describe inferenceservice smoke-sklearn-iris"] = "Status: IngressNotConfigured"
    run, _ = runner(state)
    with pytest.raises(WorkshopError, match="IngressNotConfigured"):
        smoke.run_smoke(run, KIND, base_url="http://127.0.0.1:9", delay=0)


def test_a_failed_cleanup_does_not_hide_the_first_failure(capsys):
    run, _ = runner(cluster(failures=[r"wait --for", r"delete inferenceservice"]))
    with pytest.raises(WorkshopError, match="wait did not succeed"):
        smoke.run_smoke(run, KIND, base_url="http://127.0.0.1:9", delay=0)
    assert "could not delete default/smoke-sklearn-iris" in capsys.readouterr().err


def test_no_status_url():
    run, _ = runner(ClusterState(outputs={r"status.url": ""}))
    with pytest.raises(WorkshopError, match="no status.url"):
        smoke.run_smoke(run, KIND, base_url="http://127.0.0.1:9", delay=0)


def test_dry_run_prints_the_smoke_plan(capsys):
    run, ctx = runner(ClusterState(), dry_run=True)
    assert smoke.run_smoke(run, KIND) == []
    assert ctx.commands == []
    out = capsys.readouterr().out
    assert "expect [1, 1]" in out and "delete inferenceservice smoke-sklearn-iris" in out
