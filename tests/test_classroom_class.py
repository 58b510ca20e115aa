"""class.create / class.delete / class.can-i: sizing, plans (through MockContext), credentials."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import stat
import sys

import pytest
import yaml
from invoke import Context, MockContext, Result
from invoke.exceptions import Exit, UnexpectedExit

from kserve_workshop.classroom import access, capacity, learners, plans
from kserve_workshop.classroom.__main__ import main as classroom_main
from kserve_workshop.errors import WorkshopError
from kserve_workshop.plan import Plan, Runner
from kserve_workshop.tasks import classroom as class_tasks

CTX = "kind-kserve-workshop"
QUOTA = learners.quota_for()


def jwt(payload: dict) -> str:
    encode = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")  # noqa: E731
    return f"{encode({'alg': 'RS256'})}.{encode(payload)}.signature"


TOKEN = jwt({"sub": "system:serviceaccount:learner-01:learner", "exp": 1893456000})


# ----- capacity ----------------------------------------------------------------------------------


def test_gke_allocatable_follows_the_documented_reservations():
    cpu, memory = capacity.gke_allocatable("e2-standard-4")
    assert cpu == 4000 - (60 + 10 + 2 * 5)
    assert memory == pytest.approx((16 - (0.25 * 4 + 0.2 * 4 + 0.1 * 8)) * 1024 - 100)
    big_cpu, big_memory = capacity.gke_allocatable("e2-standard-16")
    assert big_cpu == 16000 - (60 + 10 + 10 + 12 * 2.5)
    assert big_memory == pytest.approx((64 - (1 + 0.8 + 0.8 + 0.06 * 48)) * 1024 - 100)
    with pytest.raises(WorkshopError, match="machine type"):
        capacity.gke_allocatable("x9-imaginary-4")


def test_more_nodes_fit_more_learners_and_too_many_are_refused():
    fits = [capacity.estimated_capacity("e2-standard-4", n, 225, 1288).learners_that_fit(QUOTA) for n in (1, 3, 6)]
    assert fits[0] < fits[1] < fits[2]
    room = capacity.estimated_capacity("e2-standard-4", 3, 225, 1288)
    assert "fit" in capacity.require_fit(room, QUOTA, fits[1])
    with pytest.raises(WorkshopError) as refused:
        capacity.require_fit(room, QUOTA, fits[1] + 1)
    assert f"at most {fits[1]} learner" in refused.value.hint and "ESTIMATE" in refused.value.message


def node(cpu, memory, **spec):
    return {"spec": spec, "status": {"allocatable": {"cpu": cpu, "memory": memory}}}


def pod(namespace, cpu, memory, init=None, phase="Running"):
    spec = {"containers": [{"resources": {"requests": {"cpu": cpu, "memory": memory}}}]}
    if init:
        spec["initContainers"] = [{"resources": {"requests": init}}]
    return {"metadata": {"namespace": namespace}, "spec": spec, "status": {"phase": phase}}


def test_live_capacity_reads_nodes_and_running_pods():
    nodes = [
        node("4", "16Gi"),
        node("3920m", "13Gi"),
        node("4", "16Gi", unschedulable=True),
        node("4", "16Gi", taints=[{"key": "x", "effect": "NoSchedule"}]),
    ]
    pods = [
        pod("kserve", "500m", "1Gi"),
        pod("kube-system", "100m", "100Mi", init={"cpu": "1", "memory": "10Mi"}),
        pod("learner-01", "2", "2Gi"),
        pod("done", "3", "3Gi", phase="Succeeded"),
    ]
    room = capacity.live_capacity(nodes, pods, ["learner-01"])
    # 2 schedulable nodes; the init container's 1 CPU counts (max of init and app); learner pods and
    # finished pods do not.
    assert room.cpu_millicores == 7920 - 500 - 1000
    assert room.memory_mib == 29 * 1024 - 1024 - 100
    with pytest.raises(WorkshopError, match="no schedulable node"):
        capacity.live_capacity([node("4", "16Gi", unschedulable=True)], [])


# ----- plans -------------------------------------------------------------------------------------


def spec(tmp_path, **overrides):
    values = dict(
        context=CTX,
        namespaces=("learner-01", "learner-02"),
        quota=QUOTA,
        out_dir=tmp_path / "kubeconfigs",
        hours=8,
        model_store=True,
    )
    values.update(overrides)
    return plans.ClassSpec(**values)


def test_create_plan_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    plan = plans.create_plan(spec(tmp_path))
    commands = plan.commands()
    objects_file = tmp_path / "cache" / "classroom" / CTX / "learners.yaml"
    assert commands[0] == (
        f"kubectl --context {CTX} apply --server-side --field-manager=kserve-workshop "
        f"--force-conflicts --filename {objects_file}"
    )
    applied = [doc for doc in yaml.safe_load_all(objects_file.read_text()) if doc]
    assert [o["metadata"]["name"] for o in applied if o["kind"] == "Namespace"] == ["learner-01", "learner-02"]
    assert f"-m kserve_workshop.classroom store-secrets --context {CTX}" in commands[1]
    kubeconfig = tmp_path / "kubeconfigs" / "learner-02.kubeconfig"
    assert (
        f"{sys.executable} -m kserve_workshop.classroom kubeconfig --context {CTX} --namespace learner-02 "
        f"--hours 8 --out {tmp_path / 'kubeconfigs'}"
    ) in commands
    # Each kubeconfig is checked on the API server: it can work in its namespace, and not do everything.
    assert (
        f"sh -c 'test \"$(kubectl --kubeconfig {kubeconfig} auth can-i create inferenceservices.serving.kserve.io "
        "--namespace learner-02 2>/dev/null)\" = yes'"
    ) in commands
    assert any(
        f"--kubeconfig {kubeconfig} auth can-i" in c and "--all-namespaces" in c and c.endswith("= no'")
        for c in commands
    )
    assert not any("store-secrets" in c for c in plans.create_plan(spec(tmp_path, model_store=False)).commands())


def test_delete_plan_deletes_by_label_and_verifies():
    commands = plans.delete_plan(CTX).commands()
    # the first step (InferenceServices, namespace by namespace) is run for real in the next test
    assert commands[0].startswith("sh -c ") and "delete inferenceservices.serving.kserve.io --all" in commands[0]
    assert commands[1] == (
        f"kubectl --context {CTX} delete namespaces --selector workshop.kserve.io/classroom=workshop "
        "--ignore-not-found --wait=true --timeout=600s"
    )
    assert "get namespaces --selector workshop.kserve.io/classroom=workshop --output name" in commands[2]


def test_delete_plan_fails_when_a_namespace_is_left():
    left = plans.delete_plan(CTX).commands()[2]
    ctx = MockContext(
        run={
            plans.delete_plan(CTX).commands()[0]: Result(""),
            plans.delete_plan(CTX).commands()[1]: Result(""),
            left: Result("", exited=1),
        }
    )
    with pytest.raises(WorkshopError, match="wait did not succeed"):
        Runner(ctx).execute(plans.delete_plan(CTX))


def test_can_i_run_reports_disagreements():
    commands = plans.can_i_commands(CTX, ["learner-01", "learner-02"])
    assert commands[0][3][-1] == "--as=system:serviceaccount:learner-01:learner"
    answers = {}
    for row, _own, _other, argv in commands:
        answers[shlex.join(argv)] = Result("yes" if row.allowed else "no", exited=0 if row.allowed else 1)
    assert plans.run_can_i(Runner(MockContext(run=answers)), commands) == []
    # A cluster that says yes to everything disagrees on every denied row.
    all_yes = {command: Result("yes") for command in answers}
    mismatches = plans.run_can_i(Runner(MockContext(run=all_yes)), commands)
    assert len(mismatches) == sum(not row.allowed for row, *_ in commands)
    broken = {command: Result("", stderr="error: You must be logged in", exited=1) for command in answers}
    with pytest.raises(WorkshopError, match="neither yes nor no"):
        plans.run_can_i(Runner(MockContext(run=broken)), commands)
    with pytest.raises(WorkshopError, match="two learner namespaces"):
        plans.can_i_commands(CTX, ["learner-01"])


# ----- tasks -------------------------------------------------------------------------------------


def test_create_dry_run_prints_sizing_and_plan_and_runs_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    ctx = MockContext(run={})
    class_tasks.create(ctx, learners=4, out=str(tmp_path / "out"), project="my-project-1", dry_run=True)
    out = capsys.readouterr().out
    assert ctx.run.call_args_list == []
    assert "learner(s) fit; 4 asked for" in out and "ESTIMATE" in out
    assert "gke_my-project-1_us-central1-a_kserve-workshop" in out
    assert not (tmp_path / "out").exists(), "a dry run writes no kubeconfig"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(learners=500), "invalid number of learners"),
        (dict(learners=40), "do not fit"),
        (dict(learners=2, hours="0"), "--hours must be"),
        (dict(learners=2, hours="many"), "whole number"),
        (dict(learners=2, out=""), "--out is required"),
        (dict(learners=2, context="someone-elses-cluster"), "not the workshop's cluster"),
        (dict(learners=2, project="my-project-1", context=CTX), "not both"),
    ],
)
def test_create_refuses_bad_input_with_one_message(tmp_path, monkeypatch, capsys, kwargs, message):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    arguments = dict(out=str(tmp_path / "out"), dry_run=True) | kwargs
    with pytest.raises(Exit):
        class_tasks.create(MockContext(run={}), **arguments)
    assert message in capsys.readouterr().err


def test_create_refuses_a_kubeconfig_folder_inside_a_git_checkout(tmp_path, capsys):
    from kserve_workshop.paths import REPO_ROOT

    with pytest.raises(Exit):
        class_tasks.create(MockContext(run={}), learners=2, out=str(REPO_ROOT / "kubeconfigs"), dry_run=True)
    assert "never be committed" in capsys.readouterr().err


def test_create_measures_the_live_cluster_and_refuses_when_it_is_full(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(class_tasks, "require_tools", lambda *names: None)
    monkeypatch.setattr(class_tasks, "guard_context", lambda context, yes, dry_run=False: CTX)
    nodes = json.dumps({"items": [node("2", "4Gi")]})
    pods = json.dumps({"items": [pod("kserve", "1500m", "1Gi")]})
    ctx = MockContext(
        run={
            f"kubectl --context {CTX} get nodes --output json": Result(nodes),
            f"kubectl --context {CTX} get pods --all-namespaces --output json": Result(pods),
        }
    )
    with pytest.raises(Exit):
        class_tasks.create(ctx, learners=2, out=str(tmp_path / "out"))
    err = capsys.readouterr().err
    assert "2 learners do not fit" in err and "live: 1 schedulable node" in err


# ----- credentials -------------------------------------------------------------------------------

VIEW = {
    "contexts": [{"name": CTX, "context": {"cluster": "kind-kserve-workshop", "user": "admin"}}],
    "clusters": [
        {
            "name": "kind-kserve-workshop",
            "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="},
        }
    ],
    "users": [{"name": "admin", "user": {"client-certificate-data": "QURNSU4=", "client-key-data": "S0VZ"}}],
}


def kubeconfig_ctx(token=TOKEN):
    return MockContext(
        run={
            f"kubectl config view --raw --minify --flatten --context {CTX} --output json": Result(json.dumps(VIEW)),
            f"kubectl --context {CTX} create token learner --namespace learner-01 --duration 8h": Result(token + "\n"),
        }
    )


def test_kubeconfig_holds_only_the_learner_token(tmp_path):
    out = tmp_path / "kubeconfigs"
    assert (
        classroom_main(
            ["kubeconfig", "--context", CTX, "--namespace", "learner-01", "--hours", "8", "--out", str(out)],
            runner=Runner(kubeconfig_ctx()),
        )
        == 0
    )
    path = out / "learner-01.kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    config = yaml.safe_load(text)
    assert config["users"] == [{"name": "learner-01-learner", "user": {"token": TOKEN}}]
    assert config["contexts"][0]["context"]["namespace"] == "learner-01"
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": "Q0E=",
    }
    assert "QURNSU4=" not in text and "S0VZ" not in text, "the instructor's credentials never leak"
    assert "valid until 2030" in text


def test_kubeconfig_refuses_a_token_of_a_user():
    config = access.learner_kubeconfig({"server": "https://x"}, "learner-01", jwt({"sub": "admin@example.com"}), "c")
    with pytest.raises(WorkshopError, match="not to a ServiceAccount"):
        access.check_learner_kubeconfig(config)
    config["users"][0]["user"] = {"token": TOKEN, "client-certificate-data": "QQ=="}
    with pytest.raises(WorkshopError, match="client-certificate-data"):
        access.check_learner_kubeconfig(config)


def test_kubeconfig_step_fails_cleanly(tmp_path, capsys):
    assert (
        classroom_main(
            ["kubeconfig", "--context", CTX, "--namespace", "learner-01", "--hours", "8", "--out", str(tmp_path)],
            runner=Runner(kubeconfig_ctx(token="")),
        )
        == 1
    )
    assert "printed no token" in capsys.readouterr().err


def test_store_secret_copies(tmp_path):
    secret = {
        "type": "Opaque",
        "metadata": {
            "name": "kserve-models-s3",
            "namespace": "default",
            "uid": "u",
            "annotations": {
                "serving.kserve.io/s3-endpoint": "seaweedfs.model-store:8333",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
            },
        },
        "data": {"AWS_ACCESS_KEY_ID": "QUs=", "AWS_SECRET_ACCESS_KEY": "U0s="},
    }
    copies = access.store_secret_copies(secret, ["learner-01", "learner-02"])
    assert [c["metadata"]["namespace"] for c in copies] == ["learner-01", "learner-02"]
    # Lab 7's S3 logging needs path-style addressing, which learners cannot set on a Secret themselves.
    assert copies[0]["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "seaweedfs.model-store:8333",
        "serving.kserve.io/s3-usevirtualbucket": "false",
    }
    assert "uid" not in copies[0]["metadata"] and copies[0]["data"] == secret["data"]
    with pytest.raises(WorkshopError, match="--no-model-store"):
        access.store_secret_copies(None, ["learner-01"])
    ctx = MockContext(
        run={
            f"kubectl --context {CTX} get secret kserve-models-s3 --namespace default --output json": Result(
                json.dumps(secret)
            )
        }
    )
    path = access.write_store_secrets(Runner(ctx), CTX, ["learner-01"], tmp_path / "s.yaml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_kind_workflow_checks_the_same_table_on_a_real_api_server():
    from kserve_workshop.paths import REPO_ROOT

    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "e2e-kind.yml").read_text())
    steps = workflow["jobs"]["classroom-rbac"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "invoke class.create --learners 2" in runs and '--out "$RUNNER_TEMP/kubeconfigs"' in runs
    assert "invoke class.can-i --learners 2\n" in runs + "\n"
    assert 'class.can-i --learners 2 --kubeconfigs "$RUNNER_TEMP/kubeconfigs"' in runs
    assert "invoke class.delete" in runs
    # What the job runs is the --as form of the same rows the offline tests evaluate.
    commands = plans.can_i_commands(CTX, ["learner-01", "learner-02"])
    assert commands[0][3][-1] == "--as=system:serviceaccount:learner-01:learner"
    assert len(commands) == 2 * len(__import__("kserve_workshop.classroom.rbac_table", fromlist=["TABLE"]).TABLE)


def test_delete_plan_deletes_the_inferenceservices_of_every_learner_namespace(tmp_path, monkeypatch):
    """Learners' InferenceServices carry no class label (only the namespaces do): the first step must
    delete them namespace by namespace, found by the namespaces' label. A fake kubectl records the calls."""
    calls = tmp_path / "calls"
    fake = tmp_path / "kubectl"
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\ncase "$*" in *"get namespaces"*) printf "learner-01 learner-02";; esac\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    first = plans.delete_plan(CTX).steps[0]
    Runner(Context()).execute(Plan("first step", [first]))
    made = calls.read_text().splitlines()
    for ns in ("learner-01", "learner-02"):
        assert any(
            line.startswith(f"--context {CTX} delete inferenceservices.serving.kserve.io --all --namespace {ns} ")
            for line in made
        ), made
    assert not any("--all-namespaces" in line and "delete" in line for line in made)


def test_the_inferenceservice_step_fails_when_the_namespaces_cannot_be_listed(tmp_path, monkeypatch):
    """A kubectl that cannot list the namespaces (wrong context, API down) fails the step, rather than
    deleting no InferenceService and letting the namespaces' deletion hang on their finalizers."""
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\necho "error: the server is unreachable" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    first = plans.delete_plan(CTX).steps[0]
    with pytest.raises((Exit, WorkshopError, UnexpectedExit)):
        Runner(Context()).execute(Plan("first step", [first]))


@pytest.mark.bad_input(
    tool="invoke class.delete / class.can-i",
    input="A mistyped --kubeconfigs folder, or one missing a learner's file",
    example="--kubeconfigs ~/kubeconfgs",
    behaviour="refused with one message before anything runs on the cluster",
)
def test_a_missing_kubeconfigs_folder_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    """A mistyped --kubeconfigs: class.delete must not delete the class and then silently remove
    nothing, and class.can-i must not ask the API server with files that are not there."""
    monkeypatch.setattr(class_tasks, "guard_context", lambda context, yes, dry_run=False: CTX)
    monkeypatch.setattr(class_tasks, "require_tools", lambda *names: None)
    missing = str(tmp_path / "kubeconfgs")
    ctx = MockContext(run={})
    with pytest.raises(Exit):
        class_tasks.delete(ctx, context=CTX, kubeconfigs=missing)
    assert ctx.run.call_args_list == []
    assert "kubeconfigs folder not found" in capsys.readouterr().err
    with pytest.raises(Exit):
        class_tasks.can_i(ctx, context=CTX, kubeconfigs=missing)
    assert ctx.run.call_args_list == []
    assert "kubeconfigs folder not found" in capsys.readouterr().err
    # a folder without a learner's kubeconfig: named before any check runs
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "learner-01.kubeconfig").write_text("apiVersion: v1\n")
    with pytest.raises(Exit):
        class_tasks.can_i(ctx, context=CTX, kubeconfigs=str(tmp_path / "given"))
    assert ctx.run.call_args_list == []
    assert "learner-02.kubeconfig" in capsys.readouterr().err


@pytest.mark.bad_input(
    tool="invoke class.create",
    input="A --prefix whose namespaces already exist outside the class",
    example="--prefix team (team-01 belongs to another tenant)",
    behaviour="refused, naming the namespaces; nothing applied",
)
def test_create_refuses_to_take_over_a_namespace_that_is_not_the_classs(tmp_path, monkeypatch, capsys):
    """A prefix that names someone's existing namespaces (learner-01 made by hand, team-01 of another
    tenant) must not be labelled into the class: its quota would bind their workloads and
    class.delete would delete it. A namespace the class made before (re-run) is fine."""
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(class_tasks, "require_tools", lambda *names: None)
    monkeypatch.setattr(class_tasks, "guard_context", lambda context, yes, dry_run=False: CTX)
    nodes = json.dumps({"items": [node("16", "64Gi")]})
    theirs = {"metadata": {"name": "learner-02", "labels": {"team": "payments"}}}
    ours = {"metadata": {"name": "learner-01", "labels": {learners.CLASS_LABEL: "workshop"}}}
    ctx = MockContext(
        run={
            f"kubectl --context {CTX} get nodes --output json": Result(nodes),
            f"kubectl --context {CTX} get pods --all-namespaces --output json": Result('{"items": []}'),
            f"kubectl --context {CTX} get namespaces --output json": Result(json.dumps({"items": [ours, theirs]})),
        }
    )
    with pytest.raises(Exit):
        class_tasks.create(ctx, learners=2, out=str(tmp_path / "out"))
    err = capsys.readouterr().err
    assert "learner-02" in err and "not part of the class" in err and "learner-01" not in err.split("\n")[0]
    assert not any("apply" in str(call) for call in ctx.run.call_args_list), "nothing applied"


@pytest.mark.bad_input(
    tool="invoke class.create",
    input="The reserved kube- prefix",
    example="--prefix kube",
    behaviour="refused: Kubernetes keeps kube-* namespaces for itself",
)
def test_kube_prefix_is_refused():
    """Kubernetes reserves namespaces starting with kube- for its own."""
    with pytest.raises(WorkshopError, match="reserved"):
        learners.namespace_names(2, "kube")


@pytest.mark.bad_input(
    tool="invoke class.create / class.delete / class.can-i",
    input="--zone or --region without --project",
    example="--zone us-central1-a",
    behaviour='refused ("need --project") instead of acting on the default context',
)
@pytest.mark.parametrize("place", [dict(zone="us-central1-a"), dict(region="us-central1")])
def test_a_gke_location_without_a_project_is_refused(place, tmp_path, capsys):
    """--zone/--region only mean something with --project; ignoring them would act on another cluster."""
    with pytest.raises(Exit):
        class_tasks.create(MockContext(run={}), learners=2, out=str(tmp_path / "out"), dry_run=True, **place)
    assert "need --project" in capsys.readouterr().err


def test_the_instructor_guides_class_sizes_are_what_the_estimate_says():
    """The guide quotes the --dry-run estimate; it must follow the quota as the labs change it."""
    from kserve_workshop.paths import REPO_ROOT
    from kserve_workshop.platform import get_profile
    from kserve_workshop.platform.budget import platform_totals

    guide = (REPO_ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
    said = re.search(
        r"On 3 x e2-standard-4 the estimate is (\d+) learners; 6 nodes fit about (\d+), 3 x e2-standard-8 about (\d+)\.",
        guide.replace("\n", " "),
    )
    assert said, "the guide's sentence with the estimates is gone"
    platform = platform_totals(get_profile("gke"))
    quota = learners.quota_for()

    def fit(machine, nodes):
        room = capacity.estimated_capacity(machine, nodes, platform.cpu_millicores, platform.memory_mib)
        return room.learners_that_fit(quota)

    assert [int(n) for n in said.groups()] == [
        fit("e2-standard-4", 3),
        fit("e2-standard-4", 6),
        fit("e2-standard-8", 3),
    ]


def test_foreign_namespaces_are_those_of_ours_that_exist_without_the_class_label():
    def ns(name, **labels):
        return {"metadata": {"name": name, "labels": labels}}

    items = [
        ns("learner-01", **{learners.CLASS_LABEL: "workshop"}),
        ns("learner-02"),  # someone's namespace with our name
        ns("learner-03", **{learners.CLASS_LABEL: "another-class"}),
        ns("kube-system"),
        {"metadata": {"name": "learner-04", "labels": None}},
        {},
    ]
    wanted = ["learner-01", "learner-02", "learner-03", "learner-04", "learner-05"]
    assert learners.foreign_namespaces(items, wanted, "workshop") == ["learner-02", "learner-03", "learner-04"]
    assert learners.foreign_namespaces([], wanted, "workshop") == []
