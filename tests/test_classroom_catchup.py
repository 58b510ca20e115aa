"""labs.catchup / labs.reset: plans, idempotence, and the before/after comparison of a reset."""

from __future__ import annotations

import sys

import pytest
from invoke import MockContext, Result
from invoke.exceptions import Exit

from kserve_workshop.classroom import catchup
from kserve_workshop.classroom.__main__ import main as classroom_main
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import NOTEBOOKS_DIR
from kserve_workshop.plan import Runner
from kserve_workshop.tasks import labs as labs_catchup_tasks

CTX = "kind-kserve-workshop"


def test_lab_isvcs_come_from_the_manifests_and_the_notebooks_code():
    assert catchup.lab_isvcs(3) == ["iris-autoscale", "iris-scale-to-zero"]
    assert catchup.lab_isvcs(4) == ["iris-rollout"], "a manifest and its canary are one object"
    assert "iris-monitored" in catchup.lab_isvcs(5)
    # Every name the footprint table adds really occurs in that lab's notebook.
    for lab, footprint in catchup.FOOTPRINTS.items():
        source = next(NOTEBOOKS_DIR.glob(f"{lab:02d}-*.ipynb")).read_text()
        for name in footprint.code_isvcs:
            assert name in source
        for folder in footprint.cache:
            assert folder.split("/")[-1] in source


def test_catchup_plan_cleans_earlier_labs_only(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    commands = catchup.catchup_plan(4, context=CTX, namespace="learner-02").commands()
    deletes = [c for c in commands if " delete inferenceservices" in c]
    assert [c.split("inferenceservices.serving.kserve.io ")[1].split(" --namespace")[0] for c in deletes] == [
        "sklearn-iris-lab1",
        "sklearn-iris sklearn-iris-sdk",
        "iris-autoscale iris-scale-to-zero",
    ]
    assert all("--namespace learner-02" in c for c in deletes)
    assert f"{sys.executable} -m kserve_workshop.classroom train-iris {tmp_path}/lab3/model" in commands
    assert not any("lab5" in c for c in commands)
    assert not any("docker" in c for c in commands), "the custom image only for lab 6"
    local = catchup.catchup_plan(4, context=None, namespace="default").commands()
    assert not any("kubectl" in c for c in local)
    lab6 = catchup.catchup_plan(6, context=CTX, namespace="default", kind_cluster="kserve-workshop").commands()
    assert any(c.startswith("kind load docker-image kserve-workshop/custom-model") for c in lab6)


def test_catchup_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    plan = catchup.catchup_plan(2, context=CTX, namespace="default")
    probe = (
        f"kubectl --context {CTX} get inferenceservices.serving.kserve.io sklearn-iris-lab1 --namespace default "
        "--ignore-not-found --output name"
    )
    (tmp_path / "labs/01/model").mkdir(parents=True)
    (tmp_path / "labs/01/model/model.joblib").write_text("x")
    ctx = MockContext(run={probe: Result(""), f"{sys.executable} -m invoke schemas": Result("")})
    ran = Runner(ctx).execute(plan)
    assert ran == ["KServe's InferenceService schema in the cache (the labs validate manifests offline)"]


def test_train_iris_step_writes_a_loadable_model(tmp_path):
    from kserve_workshop.training import load_model

    assert classroom_main(["train-iris", str(tmp_path / "m")]) == 0
    assert load_model(tmp_path / "m").predict([[6.8, 2.8, 4.8, 1.4]]).tolist() == [1]


def test_reset_verification_compares_before_and_after():
    before = {"pod/other-1", "service/other"}
    catchup.verify_reset(before, {"pod/other-1", "service/other"}, ["iris-rollout"])
    with pytest.raises(WorkshopError, match="still there from the lab: pod/iris-rollout-predictor-00001-abc"):
        catchup.verify_reset(before, before | {"pod/iris-rollout-predictor-00001-abc"}, ["iris-rollout"])
    with pytest.raises(WorkshopError, match="appeared meanwhile: pod/stranger"):
        catchup.verify_reset(before, before | {"pod/stranger"}, ["iris-rollout"])
    assert not catchup.belongs_to("pod/iris-rolloutx", ["iris-rollout"])


def test_reset_task_deletes_and_verifies(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    monkeypatch.delenv("WORKSHOP_NAMESPACE", raising=False)
    monkeypatch.setattr(labs_catchup_tasks, "require_tools", lambda *names: None)
    monkeypatch.setattr(labs_catchup_tasks, "guard_context", lambda context, yes, dry_run=False: CTX)
    listing = (
        f"kubectl --context {CTX} get inferenceservices.serving.kserve.io,services,pods,deployments.apps,configmaps "
        "--namespace default --output name"
    )
    delete = (
        f"kubectl --context {CTX} delete inferenceservices.serving.kserve.io iris-rollout --namespace default "
        "--ignore-not-found --wait=true --timeout=300s"
    )
    probe = (
        f"kubectl --context {CTX} get inferenceservices.serving.kserve.io iris-rollout --namespace default "
        "--ignore-not-found --output name"
    )
    lab_files = tmp_path / "lab4"
    lab_files.mkdir()
    answers = [
        Result("inferenceservice.serving.kserve.io/iris-rollout\npod/iris-rollout-predictor-1\npod/keep\n"),
        Result("pod/keep\n"),
    ]
    ctx = MockContext(
        run={
            listing: answers,
            probe: Result("inferenceservice.serving.kserve.io/iris-rollout"),
            delete: Result(""),
            f"rm -rf {lab_files}": Result(""),
        }
    )
    labs_catchup_tasks.reset(ctx, lab="4")
    assert "namespace default is as it was before the lab" in capsys.readouterr().out
    # A pod that survives the reset fails it, with the pod's name.
    ctx = MockContext(
        run={
            listing: [answers[0], Result("pod/keep\npod/iris-rollout-predictor-1\n")],
            probe: Result("x"),
            delete: Result(""),
            f"rm -rf {lab_files}": Result(""),
        }
    )
    with pytest.raises(Exit):
        labs_catchup_tasks.reset(ctx, lab="4")
    assert "pod/iris-rollout-predictor-1" in capsys.readouterr().err


def test_lab7s_sink_is_part_of_its_footprint(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    sink = "deployments.apps/payload-sink services/payload-sink configmaps/payload-sink"
    reset = catchup.reset_plan(7, context=CTX, namespace="learner-02").commands()
    assert (
        f"kubectl --context {CTX} delete {sink} --namespace learner-02 --ignore-not-found --wait=true --timeout=300s"
    ) in reset
    assert any(
        "delete inferenceservices.serving.kserve.io iris-logger-s3 iris-unbatched iris-batcher iris-logger " in c
        for c in reset
    )
    # catching up past Lab 7 frees the sink's quota too; before it, the sink is left alone
    assert any(f"delete {sink}" in c for c in catchup.catchup_plan(8, context=CTX, namespace="x").commands())
    assert not any("payload-sink" in c for c in catchup.catchup_plan(7, context=CTX, namespace="x").commands())
    # the reset's check: the sink's pod, Service, Deployment and ConfigMap are Lab 7's
    names = catchup.lab_names(7)
    assert "payload-sink" in names
    with pytest.raises(WorkshopError, match="still there from the lab: configmap/payload-sink, pod/payload-sink-5d9f"):
        catchup.verify_reset(
            {"configmap/kube-root-ca.crt"},
            {"configmap/kube-root-ca.crt", "configmap/payload-sink", "pod/payload-sink-5d9f-x2"},
            names,
        )


@pytest.mark.parametrize("value", ["", "0", "99", "three"])
def test_bad_lab_numbers(value, capsys):
    with pytest.raises(Exit):
        labs_catchup_tasks.catchup_(MockContext(run={}), to=value, local_only=True, dry_run=True)
    assert "lab" in capsys.readouterr().err


def test_catchup_without_a_cluster_does_the_local_part(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))

    def no_cluster(context, yes, dry_run=False):
        raise WorkshopError("no workshop cluster in your kubeconfig")

    monkeypatch.setattr(labs_catchup_tasks, "guard_context", no_cluster)
    labs_catchup_tasks.catchup_(MockContext(run={}), to="3", dry_run=True)
    captured = capsys.readouterr()
    assert "train-iris" in captured.out and "kubectl" not in captured.out
    assert "only the local part" in captured.err
    with pytest.raises(Exit):  # a context the user named must exist: no silent fallback
        labs_catchup_tasks.catchup_(MockContext(run={}), to="3", context="kind-other", dry_run=True)


def test_a_learner_on_the_class_cluster_catches_up_in_their_kubeconfigs_context(tmp_path, monkeypatch, capsys):
    """class.create tells learners to export WORKSHOP_KUBE_CONTEXT=<namespace> (their kubeconfig's only
    context): catch-up and reset must act there, not fall back to the local part."""
    from kserve_workshop import kube

    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-07")
    monkeypatch.setenv("WORKSHOP_KUBE_CONTEXT", "learner-07")
    monkeypatch.setattr(kube, "kube_contexts", lambda: (["learner-07"], "learner-07"))
    labs_catchup_tasks.catchup_(MockContext(run={}), to="3", dry_run=True)
    captured = capsys.readouterr()
    assert "kubectl --context learner-07 delete inferenceservices.serving.kserve.io" in captured.out
    assert "--namespace learner-07" in captured.out and "only the local part" not in captured.err
    labs_catchup_tasks.reset(MockContext(run={}), lab="3", dry_run=True)
    assert "kubectl --context learner-07 delete" in capsys.readouterr().out
    # a named context that is not in the kubeconfig is an error, not a silent local-only run
    monkeypatch.setattr(kube, "kube_contexts", lambda: (["kind-kserve-workshop"], "kind-kserve-workshop"))
    with pytest.raises(Exit):
        labs_catchup_tasks.catchup_(MockContext(run={}), to="3")
    assert "WORKSHOP_KUBE_CONTEXT" in capsys.readouterr().err
