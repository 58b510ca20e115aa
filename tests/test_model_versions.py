"""Lab 4's own model versions: saved here, separated by a probe known before any cluster, uploaded
content-addressed, and recognised again when KServe's model server serves the very same files."""

from __future__ import annotations

import pytest

from kserve_workshop import model_versions as mv
from kserve_workshop.dataplane import predict_v1
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.platform import storage
from kserve_workshop.training import iris_split, train_iris

from support.platform_fakes import ClusterState, runner

KIND = "kind-kserve-workshop"


@pytest.fixture(scope="module")
def models():
    split = iris_split()
    return {"v1": train_iris(split, kind="svc"), "v2": train_iris(split, kind="tree")}


@pytest.fixture
def versions(models, tmp_path):
    return mv.prepare_versions(models, "iris-rollout", directory=tmp_path)


def test_versions_are_saved_with_a_probe_that_separates_them(versions, models):
    assert 1 <= len(versions.probe) <= 3
    for row in versions.probe:
        assert models["v1"].predict([row])[0] != models["v2"].predict([row])[0], row
    assert versions.attributor.signatures == {v: models[v].predict(versions.probe).tolist() for v in models}
    assert set(versions.files) == {"v1", "v2"} and all(path.is_file() for path in versions.files.values())


def test_their_uris_are_the_content_addressed_ones_upload_returns(versions):
    for version, path in versions.files.items():
        assert versions.uri(version) == storage.content_uri(path, "iris-rollout")
        assert versions.uri(version).startswith("s3://models/iris-rollout/")
    assert versions.uri("v1") != versions.uri("v2")
    with pytest.raises(WorkshopError, match="no model version 'v3'"):
        versions.uri("v3")


def test_a_probe_given_by_the_learner_is_checked(models, tmp_path):
    good = mv.prepare_versions(models, "iris-rollout", directory=tmp_path / "a")
    again = mv.prepare_versions(models, "iris-rollout", directory=tmp_path / "b", probe=good.probe)
    assert again.probe == good.probe and again.uris == good.uris
    setosa = [5.1, 3.5, 1.4, 0.2]  # every sensible model says setosa
    with pytest.raises(WorkshopError, match=r"probe row \[5.1, 3.5, 1.4, 0.2\] gets the same answer"):
        mv.prepare_versions(models, "iris-rollout", directory=tmp_path / "c", probe=[good.probe[0], setosa])


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda m: {"v1": m["v1"]}, "at least two model versions"),
        (lambda m: {"v1": m["v1"], "v2": m["v1"]}, "answer alike on all"),
        (lambda m: {"v1": m["v1"], "v2": object()}, "model version 'v2' cannot predict"),
    ],
)
def test_versions_that_cannot_be_told_apart_are_refused(models, tmp_path, bad, message):
    with pytest.raises(WorkshopError, match=message):
        mv.prepare_versions(bad(models), "iris-rollout", directory=tmp_path)


def test_kserves_model_server_serving_a_saved_file_is_recognised_by_the_probe(versions):
    """The cluster serves these files with KServe's sklearn runtime; here KServe's own model server
    loads the same file, and its answers to the probe name the version."""
    with LocalModelServer(versions.files["v2"].parent, "iris-rollout") as server:
        found = mv.revision_versions(
            versions, {"iris-rollout-predictor-00002": lambda rows: predict_v1(server.url, "iris-rollout", rows)}
        )
    assert found == {"iris-rollout-predictor-00002": "v2"}


def test_a_revision_answering_like_no_version_is_reported(versions):
    with pytest.raises(WorkshopError, match="iris-rollout-predictor-00003 answers the probe .* like none"):
        mv.revision_versions(versions, {"iris-rollout-predictor-00003": lambda rows: ["x"] * len(rows)})


def test_upload_puts_every_version_in_the_store_under_its_own_uri(versions, monkeypatch):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: ([KIND], KIND))
    state = ClusterState(outputs={r"get pods --namespace model-store --selector app=seaweedfs": "seaweedfs-xyz"})
    run, ctx = runner(state)
    assert mv.upload_versions(versions, context=KIND, runner=run) == versions.uris
    for uri in versions.uris.values():
        digest = uri.rsplit("/", 1)[1]
        assert any(c.endswith(f"http://localhost:8888/buckets/models/iris-rollout/{digest}/") for c in ctx.commands)


def test_a_version_changed_after_preparing_is_not_uploaded_silently(versions, monkeypatch):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: ([KIND], KIND))
    versions.files["v1"].write_bytes(versions.files["v1"].read_bytes() + b"\0")
    state = ClusterState(outputs={r"get pods --namespace model-store --selector app=seaweedfs": "seaweedfs-xyz"})
    run, _ = runner(state)
    with pytest.raises(WorkshopError, match="'v1' was changed on disk"):
        mv.upload_versions(versions, context=KIND, runner=run)
