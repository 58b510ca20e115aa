"""kind and GKE plans: exact commands, order, pins, idempotence, verification, bad arguments."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest
import yaml
from invoke import MockContext, Result

from kserve_workshop import cluster, gke, paths, validate
from kserve_workshop.gke import GkeSpec
from kserve_workshop.errors import WorkshopError
from kserve_workshop.plan import Runner
from kserve_workshop.tasks import kind as kind_tasks
from kserve_workshop.versions import pin

INVOKE = [sys.executable, "-m", "invoke"]
CONFIG = paths.MANIFESTS_DIR / "cluster" / "kind-config.yaml"
IMAGE = pin("kind", "node_image")
KIND_CREATE = f"kind create cluster --name kserve-workshop --config {CONFIG} --image {IMAGE} --wait 120s"
NODES_READY = "kubectl --context kind-kserve-workshop wait --for=condition=Ready nodes --all --timeout=180s"
KIND_LEFTOVERS = "docker ps --all --filter label=io.x-k8s.kind.cluster=kserve-workshop --format '{{.Names}}'"


def ran(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in ctx.run.call_args_list]


def mock(responses: dict) -> MockContext:
    """A MockContext answering exactly these commands (anything else raises NotImplementedError)."""
    return MockContext(run={command: value for command, value in responses.items()})


# ----- the kind config -------------------------------------------------------------------------


def test_kind_config_is_one_laptop_sized_node_with_the_ingress_on_loopback():
    config = yaml.safe_load(CONFIG.read_text())
    assert [node["role"] for node in config["nodes"]] == ["control-plane"]
    mappings = config["nodes"][0]["extraPortMappings"]
    assert {"containerPort": 31080, "hostPort": 8080, "listenAddress": "127.0.0.1", "protocol": "TCP"} in mappings
    assert all(m["listenAddress"] == "127.0.0.1" for m in mappings)
    assert "image" not in config["nodes"][0], "the node image comes from versions.toml via --image"
    assert validate.validate_paths([CONFIG]) == []


def test_the_node_image_is_pinned_by_digest():
    assert IMAGE.startswith("kindest/node:v") and "@sha256:" in IMAGE
    assert len(IMAGE.split("@sha256:")[1]) == 64


def test_kind_port_mappings_are_read_from_the_config(tmp_path):
    assert cluster.kind_port_mappings(CONFIG) == [("127.0.0.1", 8080), ("127.0.0.1", 8443)]
    custom = tmp_path / "kind.yaml"
    custom.write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
        "  extraPortMappings:\n  - {containerPort: 80, hostPort: 9999}\n"
    )
    assert cluster.kind_port_mappings(custom) == [("0.0.0.0", 9999)]
    with pytest.raises(WorkshopError, match="not found"):
        cluster.kind_port_mappings(tmp_path / "missing.yaml")


# ----- kind plans --------------------------------------------------------------------------------


def test_kind_create_plan_commands_order_and_pins():
    assert cluster.kind_create_plan().commands() == [KIND_CREATE, NODES_READY]


def test_kind_create_runs_when_the_cluster_is_absent():
    ctx = mock({"kind get clusters": Result("other\n"), KIND_CREATE: True, NODES_READY: True})
    Runner(ctx).execute(cluster.kind_create_plan())
    assert ran(ctx) == ["kind get clusters", KIND_CREATE, NODES_READY]


def test_kind_create_is_skipped_when_the_cluster_exists():
    ctx = mock({"kind get clusters": Result("kserve-workshop\n"), NODES_READY: True})
    Runner(ctx).execute(cluster.kind_create_plan())
    assert KIND_CREATE not in ran(ctx)
    assert ran(ctx) == ["kind get clusters", NODES_READY]


def test_kind_create_dry_run_prints_and_runs_nothing(capsys):
    ctx = MockContext(run={})
    Runner(ctx, dry_run=True).execute(cluster.kind_create_plan())
    assert ctx.run.call_args_list == []
    assert IMAGE in capsys.readouterr().out


def test_kind_create_task_uses_the_plan(monkeypatch):
    monkeypatch.setattr(kind_tasks.tools_lib, "use_local_tools", lambda: None)
    ctx = mock({"kind get clusters": Result(""), KIND_CREATE: True, NODES_READY: True})
    kind_tasks.kind_create(ctx, skip_doctor=True)
    assert ran(ctx) == ["kind get clusters", KIND_CREATE, NODES_READY]


def test_kind_delete_plan_deletes_then_verifies():
    verify = shlex.join(cluster.expect_empty(shlex.split(KIND_LEFTOVERS)))
    assert cluster.kind_delete_plan().commands() == ["kind delete cluster --name kserve-workshop", verify]
    ctx = mock(
        {
            "kind get clusters": Result("kserve-workshop\n"),
            "kind delete cluster --name kserve-workshop": True,
            verify: True,
        }
    )
    Runner(ctx).execute(cluster.kind_delete_plan())
    assert ran(ctx) == ["kind get clusters", "kind delete cluster --name kserve-workshop", verify]


def test_kind_delete_fails_when_a_node_container_is_left():
    verify = shlex.join(cluster.expect_empty(shlex.split(KIND_LEFTOVERS)))
    ctx = mock(
        {
            "kind get clusters": Result(""),
            verify: Result(exited=1),
            KIND_LEFTOVERS: Result("kserve-workshop-control-plane\n"),
        }
    )
    with pytest.raises(WorkshopError) as caught:
        Runner(ctx).execute(cluster.kind_delete_plan())
    assert "kserve-workshop-control-plane" in caught.value.message
    assert "kind delete cluster --name kserve-workshop" not in ran(ctx)  # already absent: skipped


def test_kind_plans_stop_clearly_when_kind_cannot_list_clusters():
    failing = Result(stderr="ERROR: failed to list clusters: Cannot connect to the Docker daemon\n", exited=1)
    for plan in (cluster.kind_create_plan(), cluster.kind_delete_plan()):
        ctx = mock({"kind get clusters": failing})
        with pytest.raises(WorkshopError, match="cannot list kind clusters: ERROR: failed to list clusters"):
            Runner(ctx).execute(plan)
        assert ran(ctx) == ["kind get clusters"]


def test_kind_delete_task_refuses_another_cluster_without_yes():
    ctx = MockContext(run={})
    with pytest.raises(Exception) as caught:  # invoke's Exit, after the error message
        kind_tasks.kind_delete(ctx, name="someone-elses")
    assert getattr(caught.value, "code", None) == 1
    assert ctx.run.call_args_list == []


@pytest.mark.parametrize("name", ["Bad_Name", "", "-x", "a" * 41])
def test_bad_cluster_names_are_refused(name):
    with pytest.raises(WorkshopError, match="invalid cluster name"):
        cluster.kind_create_plan(name)


def test_a_missing_kind_config_is_refused(tmp_path):
    with pytest.raises(WorkshopError, match="kind config not found"):
        cluster.kind_create_plan(config_path=tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "printed, exit_code, expect_success", [("", 0, True), ("leftover\n", 0, False), ("", 3, False)]
)
def test_expect_empty_passes_only_on_success_with_no_output(printed, exit_code, expect_success):
    command = cluster.expect_empty(["sh", "-c", f"printf '{printed}'; exit {exit_code}"])
    done = subprocess.run(command, capture_output=True, timeout=10)
    assert (done.returncode == 0) is expect_success


# ----- GKE ---------------------------------------------------------------------------------------


def test_gke_defaults_fit_the_workshop():
    spec = GkeSpec(project="my-project-1")
    assert (spec.zone, spec.region, spec.machine_type, spec.node_count, spec.name) == (
        "us-central1-a",
        None,
        "e2-standard-4",
        3,
        "kserve-workshop",
    )
    assert spec.context == "gke_my-project-1_us-central1-a_kserve-workshop"
    regional = GkeSpec(project="my-project-1", region="europe-west1")
    assert (regional.location, regional.zone, regional.total_nodes) == ("europe-west1", None, 9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"project": ""}, "a GCP project is required"),
        ({"project": "My_Project"}, "invalid GCP project id"),
        ({"project": "my-project-1", "zone": "moon-1"}, "invalid GCP zone"),
        ({"project": "my-project-1", "region": "us-central1-a"}, "invalid GCP region"),
        ({"project": "my-project-1", "node_count": 0}, "invalid node count"),
        ({"project": "my-project-1", "node_count": 50}, "invalid node count"),
        ({"project": "my-project-1", "machine_type": "big one"}, "invalid machine type"),
        ({"project": "my-project-1", "name": "Workshop"}, "invalid cluster name"),
    ],
)
def test_bad_gke_arguments_are_refused(kwargs, message):
    with pytest.raises(WorkshopError, match=message):
        GkeSpec(**kwargs)


GKE_WHERE = "--project my-project-1 --location us-central1-a"
GKE_DESCRIBE = f"gcloud container clusters describe kserve-workshop {GKE_WHERE} --format 'value(name)'"
GKE_CREATE = (
    f"gcloud container clusters create kserve-workshop {GKE_WHERE} "
    f"--release-channel {pin('gke', 'release_channel')} --cluster-version {pin('gke', 'cluster_version')} "
    "--machine-type e2-standard-4 --num-nodes 3 --disk-size 50 --labels workshop=kserve-workshop"
)
GKE_CREDENTIALS = f"gcloud container clusters get-credentials kserve-workshop {GKE_WHERE}"
GKE_ENABLE = "gcloud services enable container.googleapis.com --project my-project-1"
GKE_NODES = (
    "kubectl --context gke_my-project-1_us-central1-a_kserve-workshop wait --for=condition=Ready "
    "nodes --all --timeout=300s"
)


def test_gke_create_plan_commands_order_and_pins():
    assert gke.gke_create_plan(GkeSpec(project="my-project-1")).commands() == [
        GKE_ENABLE,
        GKE_CREATE,
        GKE_CREDENTIALS,
        GKE_NODES,
    ]


def test_gke_create_plan_for_a_regional_cluster_with_other_sizes():
    spec = GkeSpec(project="my-project-1", region="europe-west1", machine_type="e2-standard-8", node_count=1)
    create = gke.gke_create_plan(spec).commands()[1]
    assert "--location europe-west1 " in create and "--machine-type e2-standard-8 --num-nodes 1 " in create


def test_gke_create_runs_and_is_skipped_once_the_cluster_exists():
    spec = GkeSpec(project="my-project-1")
    fresh = mock(
        {GKE_ENABLE: True, GKE_DESCRIBE: Result(exited=1), GKE_CREATE: True, GKE_CREDENTIALS: True, GKE_NODES: True}
    )
    Runner(fresh).execute(gke.gke_create_plan(spec))
    assert ran(fresh) == [GKE_ENABLE, GKE_DESCRIBE, GKE_CREATE, GKE_CREDENTIALS, GKE_NODES]
    existing = mock(
        {GKE_ENABLE: True, GKE_DESCRIBE: Result("kserve-workshop\n"), GKE_CREDENTIALS: True, GKE_NODES: True}
    )
    Runner(existing).execute(gke.gke_create_plan(spec))
    assert GKE_CREATE not in ran(existing)


GKE_LB = (
    "kubectl --context gke_my-project-1_us-central1-a_kserve-workshop delete service istio-ingressgateway "
    "-n istio-system --ignore-not-found --wait=true --timeout=300s"
)
GKE_DELETE = f"gcloud container clusters delete kserve-workshop {GKE_WHERE} --quiet"
LEFTOVER_QUERIES = {
    "GKE cluster": "gcloud container clusters list --project my-project-1 --filter name=kserve-workshop "
    "--format 'value(name,location)'",
    "cluster firewall rules": "gcloud compute firewall-rules list --project my-project-1 --filter "
    "'name~^gke-kserve-workshop-' --format 'value(name)'",
    "load balancer forwarding rules": "gcloud compute forwarding-rules list --project my-project-1 --filter "
    "'description~istio-system/istio-ingressgateway' --format 'value(name,region)'",
    "load balancer firewall rules": "gcloud compute firewall-rules list --project my-project-1 --filter "
    "'description~istio-system/istio-ingressgateway' --format 'value(name)'",
    "unattached volume disks": "gcloud compute disks list --project my-project-1 --filter "
    "'description~kubernetes.io/created-for/pvc AND -users:*' --format 'value(name,zone)'",
}


def _verify(query: str) -> str:
    return shlex.join(cluster.expect_empty(shlex.split(query)))


def test_gke_leftover_queries():
    queries = gke.gke_leftover_queries(GkeSpec(project="my-project-1"))
    assert {what: shlex.join(argv) for what, argv in queries.items()} == LEFTOVER_QUERIES


def test_gke_delete_plan_releases_the_load_balancer_first_then_verifies_everything():
    expected = [GKE_CREDENTIALS, GKE_LB, GKE_DELETE, *(_verify(q) for q in LEFTOVER_QUERIES.values())]
    assert gke.gke_delete_plan(GkeSpec(project="my-project-1")).commands() == expected
    ctx = mock(
        {
            GKE_DESCRIBE: Result("kserve-workshop\n"),
            GKE_CREDENTIALS: True,
            GKE_LB: True,
            GKE_DELETE: True,
            **{_verify(q): True for q in LEFTOVER_QUERIES.values()},
        }
    )
    Runner(ctx).execute(gke.gke_delete_plan(GkeSpec(project="my-project-1")))
    commands = [c for c in ran(ctx) if c != GKE_DESCRIBE]
    assert commands == expected


def test_gke_delete_reports_a_leftover_load_balancer():
    verifications = {_verify(q): True for q in LEFTOVER_QUERIES.values()}
    lb_query = LEFTOVER_QUERIES["load balancer forwarding rules"]
    verifications[_verify(lb_query)] = Result(exited=1)
    ctx = mock(
        {
            GKE_DESCRIBE: Result(exited=1),
            **verifications,
            lb_query: Result("a1b2c3d4e5f60718293a4b5c6d7e8f90\tus-central1\n"),
        }
    )
    with pytest.raises(WorkshopError) as caught:
        Runner(ctx).execute(gke.gke_delete_plan(GkeSpec(project="my-project-1")))
    message = caught.value.message
    assert "load balancer forwarding rules still exist" in message
    assert "a1b2c3d4e5f60718293a4b5c6d7e8f90" in message
    assert GKE_DELETE not in ran(ctx)  # the cluster was already gone


def test_cost_estimate_is_labelled_as_an_estimate_and_scales_with_nodes():
    zonal = GkeSpec(project="my-project-1")
    estimate = gke.gke_cost_estimate(zonal)
    assert 0.2 < estimate.usd_per_hour < 1.5  # three small nodes: tens of cents an hour, not dollars
    warning = estimate.warning(zonal)
    assert "ESTIMATE" in warning and "https://cloud.google.com/kubernetes-engine/pricing" in warning
    assert "invoke gke.delete --project my-project-1 --zone us-central1-a" in warning
    regional = gke.gke_cost_estimate(GkeSpec(project="my-project-1", region="us-central1"))
    assert regional.usd_per_hour > 2.5 * (
        estimate.usd_per_hour - gke.GKE_CLUSTER_FEE_USD_PER_HOUR - gke.LOAD_BALANCER_USD_PER_HOUR
    )
    unknown = GkeSpec(project="my-project-1", machine_type="c3-highcpu-4")
    assert gke.gke_cost_estimate(unknown).usd_per_hour is None
    assert "No estimate" in gke.gke_cost_estimate(unknown).warning(unknown)


# ----- the real CLI ------------------------------------------------------------------------------


def _invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INVOKE, *args],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["gke.create"], "a GCP project is required"),
        (
            ["gke.create", "--project", "my-project-1", "--nodes", "abc"],
            "--nodes expects a value of type int, got 'abc'",
        ),
        (["gke.delete", "--project", "Bad Project"], "invalid GCP project id"),
        (["kind.delete", "--name", "someone-elses"], "refusing to delete it"),
    ],
)
def test_bad_arguments_give_one_clear_error(args, message):
    done = _invoke(*args)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_dry_runs_print_the_plans_without_running_anything():
    kind = _invoke("kind.create", "--dry-run")
    assert kind.returncode == 0 and KIND_CREATE in kind.stdout
    gke = _invoke("gke.create", "--project", "my-project-1", "--dry-run")
    assert gke.returncode == 0 and GKE_CREATE in gke.stdout
    assert "ESTIMATE" in gke.stderr
