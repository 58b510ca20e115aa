"""The platform tasks as users run them: `invoke platform.*`, `up`, `down`, `status`, `smoke`,
`setup-gke`. Bad arguments give one clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from invoke import MockContext
from invoke.exceptions import Exit

from kserve_workshop import kube
from kserve_workshop.paths import REPO_ROOT
from kserve_workshop.tasks import platform as tasks, workshop
from kserve_workshop.versions import pin

from support.platform_fakes import ClusterContext, ClusterState, installed_state

KIND = "kind-kserve-workshop"
INVOKE = Path(sys.executable).parent / "invoke"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(tasks, "require_tools", lambda *names: None)


@pytest.fixture
def kubeconfig(monkeypatch):
    def set_(names, current=None):
        monkeypatch.setattr(kube, "kube_contexts", lambda: (list(names), current))

    set_([KIND], KIND)
    return set_


def invoke_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
        "WORKSHOP_CACHE": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    return subprocess.run([str(INVOKE), *args], cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    "args, message",
    [
        (["platform.install", "--component", "nope"], "unknown component: nope"),
        (["platform.install", "--profile", "huge", "--dry-run"], "unknown profile 'huge'"),
        (["platform.uninstall", "--dry-run", "--context", "prod"], "refusing to change kube context 'prod'"),
        (["up", "--profile", "gke", "--dry-run"], "`up` creates a kind cluster"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_clear_message(args, message, tmp_path):
    done = invoke_cli(*args, tmp_path=tmp_path)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("error: ")


def test_dry_run_from_the_command_line_prints_the_plan(tmp_path):
    done = invoke_cli("platform.install", "--dry-run", "--component", "cert-manager,kserve", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"helm --kube-context {KIND} upgrade --install cert-manager cert-manager" in done.stdout
    assert f"kserve.version={pin('kserve')}" in done.stdout
    assert "istio" not in done.stdout


def test_install_runs_the_plan_on_the_workshop_context(kubeconfig):
    ctx = ClusterContext(ClusterState())
    tasks.install(ctx, component="cert-manager")
    assert [c.split()[3] for c in ctx.changes()] == ["upgrade", "wait"]
    assert all(f"--kube-context {KIND}" in c or f"--context {KIND}" in c for c in ctx.commands)


def test_install_skips_what_is_installed_and_reinstall_does_not(kubeconfig):
    ctx = ClusterContext(installed_state(KIND))
    tasks.install(ctx, component="istio")
    assert ctx.changes() == []
    ctx = ClusterContext(installed_state(KIND))
    tasks.install(ctx, component="istio", reinstall=True)
    assert sum("upgrade --install" in c for c in ctx.changes()) == 3


def test_install_on_another_context_needs_yes(kubeconfig, capsys):
    kubeconfig(["prod", KIND], KIND)
    ctx = ClusterContext(ClusterState())
    with pytest.raises(Exit) as info:
        tasks.install(ctx, component="cert-manager", context="prod")
    assert info.value.code == 1 and ctx.commands == []
    assert "refusing" in capsys.readouterr().err
    tasks.install(ctx, component="cert-manager", context="prod", yes=True)
    assert "--kube-context prod" in ctx.changes()[0]


def test_uninstall_task_runs_in_reverse(kubeconfig):
    ctx = ClusterContext(installed_state(KIND))
    tasks.uninstall(ctx, component="cert-manager,istio")
    releases = [c.split()[4] for c in ctx.changes() if " uninstall " in c]
    assert releases == ["istio-ingressgateway", "istiod", "istio-base", "cert-manager"]


def test_status_task_table_and_exit_code(kubeconfig, capsys):
    tasks.status(ClusterContext(installed_state(KIND)))
    out = capsys.readouterr().out
    assert "All components ready" in out and pin("kserve") in out
    with pytest.raises(Exit) as info:
        tasks.status(ClusterContext(ClusterState()))
    assert info.value.code == 1
    captured = capsys.readouterr()
    assert "not installed" in captured.out and "not ready: cert-manager" in captured.err


def test_up_dry_run_shows_doctor_kind_platform_and_smoke_and_touches_nothing(capsys, monkeypatch):
    from kserve_workshop import doctor

    monkeypatch.setattr(doctor, "run_doctor", lambda **kwargs: pytest.fail("doctor runs for real only"))
    ctx = MockContext()
    workshop.up(ctx, dry_run=True)
    out = capsys.readouterr().out
    assert "kind create cluster --name kserve-workshop" in out
    assert (
        out.index("kind create cluster")
        < out.index("upgrade --install cert-manager")
        < out.index("upgrade --install kserve-crd")
        < out.index("smoke-sklearn-iris")
    )
    assert "expect [1, 1]" in out


def test_up_installs_only_the_missing_pinned_tools_before_the_doctor(monkeypatch, capsys):
    from kserve_workshop import doctor, tools
    from kserve_workshop.errors import WorkshopError

    calls = []
    monkeypatch.setattr(tools, "tools_to_install", lambda: ["kind", "helm"])
    monkeypatch.setattr(tools, "install_tools", lambda names: calls.append(("install", list(names))))

    def failing(**kwargs):
        calls.append(("doctor",))
        raise WorkshopError("doctor: 1 check(s) failed: docker daemon")

    monkeypatch.setattr(doctor, "run_doctor", failing)
    with pytest.raises(Exit):
        workshop.up(ClusterContext(ClusterState()))
    assert calls == [("install", ["kind", "helm"]), ("doctor",)]


def test_up_dry_run_installs_no_tools(monkeypatch, capsys):
    from kserve_workshop import tools

    monkeypatch.setattr(tools, "install_tools", lambda names: pytest.fail("a dry run installs nothing"))
    workshop.up(MockContext(), dry_run=True)
    assert "would be installed into .bin/ where missing" in capsys.readouterr().out


def test_tools_to_install_names_the_absent_and_the_wrong_versions(monkeypatch):
    from kserve_workshop import tools

    found = {"kind": "/x/kind", "helm": "/x/helm", "kubectl": None}
    monkeypatch.setattr(tools, "which", lambda name: found[name])
    versions = {"kind": pin("kind"), "helm": "v3.0.0"}
    assert tools.tools_to_install(version_of=lambda name, path: versions[name]) == ["helm", "kubectl"]


def test_up_runs_the_doctor_first_and_stops_on_its_failure(monkeypatch, capsys):
    from kserve_workshop import doctor, tools
    from kserve_workshop.errors import WorkshopError

    def failing(**kwargs):
        raise WorkshopError("doctor: 1 check(s) failed: docker daemon")

    monkeypatch.setattr(tools, "tools_to_install", lambda: [])
    monkeypatch.setattr(doctor, "run_doctor", failing)
    ctx = ClusterContext(ClusterState())
    with pytest.raises(Exit):
        workshop.up(ctx)
    assert ctx.commands == [] and "docker daemon" in capsys.readouterr().err


def test_down_deletes_the_kind_cluster_and_its_local_credentials(capsys):
    from kserve_workshop.platform.base import rendered_dir

    creds = rendered_dir(KIND) / "storage-credentials.yaml"
    creds.write_text("secret")
    workshop.down(MockContext(), dry_run=True)
    assert "kind delete cluster --name kserve-workshop" in capsys.readouterr().out and creds.exists()
    ctx = ClusterContext(ClusterState(outputs={r"^kind get clusters": "kserve-workshop\n"}))
    workshop.down(ctx)
    assert "kind delete cluster --name kserve-workshop" in ctx.commands
    assert not creds.exists()


def test_setup_gke_dry_run_installs_the_gke_profile_on_the_gke_context(capsys):
    workshop.setup_gke(MockContext(), project="my-project", dry_run=True)
    out = capsys.readouterr().out
    context = "gke_my-project_us-central1-a_kserve-workshop"
    assert "gcloud container clusters create kserve-workshop" in out
    assert f"helm --kube-context {context} upgrade --install istio-ingressgateway" in out
    assert "gateway-kind-values.yaml" not in out


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"project": ""}, "GCP project is required"),
        ({"project": "my-project", "nodes": "many"}, "invalid node count 'many'"),
    ],
)
def test_setup_gke_bad_arguments(kwargs, message, capsys):
    with pytest.raises(Exit):
        workshop.setup_gke(MockContext(), dry_run=True, **kwargs)
    assert message in capsys.readouterr().err


def test_smoke_task_refuses_another_context(kubeconfig, capsys):
    kubeconfig(["prod"], "prod")
    with pytest.raises(Exit):
        workshop.smoke(MockContext(), context="prod")
    assert "refusing" in capsys.readouterr().err


def test_upload_model_task_reports_a_missing_file(kubeconfig, capsys, tmp_path):
    with pytest.raises(Exit):
        tasks.upload_model(MockContext(), file=str(tmp_path / "none.joblib"), name="my-iris")
    assert "model file not found" in capsys.readouterr().err


def test_upload_model_task_needs_a_name(kubeconfig, capsys, tmp_path):
    with pytest.raises(Exit):
        tasks.upload_model(MockContext(), file="model.joblib")
    assert "needs --name NAME" in capsys.readouterr().err


def test_budget_task_prints_the_requests(capsys):
    tasks.budget(MockContext())
    out = capsys.readouterr().out
    assert "the platform requests" in out and "seaweedfs" in out
