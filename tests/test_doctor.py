"""The doctor on simulated machines (fake probes), and on a machine without Docker via the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kserve_workshop import doctor, doctor_cluster, paths
from kserve_workshop.doctor import FAIL, PASS, WARN
from kserve_workshop.errors import WorkshopError
from kserve_workshop.versions import pin

from support.doctor_machines import GIB, LocalMachine, Machine  # noqa: F401 - GIB: the tests' sizes


def results(machine: Machine, **kwargs) -> dict[str, doctor.DoctorResult]:
    return {r.check: r for r in doctor.run_doctor(strict=False, probes=machine.probes(), show=False, **kwargs)}


def test_a_healthy_machine_passes_everything():
    found = results(Machine())
    assert {name: r.status for name, r in found.items() if r.status != PASS} == {}
    assert set(found) >= {
        "docker",
        "docker daemon",
        "docker CPU/memory",
        "kind",
        "helm",
        "kubectl",
        "port 127.0.0.1:8080",
        "port 127.0.0.1:8443",
        "CPU architecture",
        "inotify limits",
        "kube context",
    }
    doctor.run_doctor(strict=True, probes=Machine().probes(), show=False)  # does not raise


def test_no_docker_fails_with_an_install_link():
    machine = Machine()
    del machine.tools["docker"]
    machine.docker_info = None
    found = results(machine)
    assert found["docker"].status == FAIL and "docs.docker.com" in found["docker"].fix
    assert found["docker daemon"].status == FAIL
    with pytest.raises(WorkshopError, match="docker, docker daemon"):
        doctor.run_doctor(strict=True, probes=machine.probes(), show=False)


def test_a_stopped_docker_daemon_fails_with_its_message():
    machine = Machine(docker_info=None)
    found = results(machine)
    assert found["docker daemon"].status == FAIL
    assert "Cannot connect to the Docker daemon" in found["docker daemon"].detail
    assert "systemctl start docker" in found["docker daemon"].fix
    assert found["docker CPU/memory"].status == WARN and "not checked" in found["docker CPU/memory"].detail


@pytest.mark.parametrize("cpus, memory_gib, status", [(1, 16, FAIL), (8, 3, FAIL), (2, 6, WARN), (4, 8, PASS)])
def test_cpu_and_memory_available_to_docker(cpus, memory_gib, status):
    machine = Machine(docker_info={"NCPU": cpus, "MemTotal": memory_gib * GIB})
    result = results(machine)["docker CPU/memory"]
    assert result.status == status
    assert f"{cpus} CPUs" in result.detail
    if status != PASS:
        assert "Settings > Resources" in result.fix


@pytest.mark.parametrize(
    "output, status",
    [
        ("kind v0.20.0 go1.20 linux/amd64", FAIL),
        ("kind v0.31.0 go1.25 linux/amd64", WARN),
        ("garbage", FAIL),
    ],
)
def test_kind_version_against_the_pin(output, status):
    machine = Machine()
    machine.tools["kind"] = output
    result = results(machine)["kind"]
    assert result.status == status
    assert "invoke tools" in result.fix


def test_missing_tools_point_at_invoke_tools():
    machine = Machine()
    for tool in ("kind", "helm", "kubectl"):
        del machine.tools[tool]
    found = results(machine)
    for tool in ("kind", "helm", "kubectl"):
        assert (found[tool].status, found[tool].detail) == (FAIL, "not found")
        assert "invoke tools" in found[tool].fix


@pytest.mark.parametrize("version, status", [("v2.17.0", FAIL), ("v3.10.0", WARN), ("v3.17.1", PASS), ("v4.0.0", FAIL)])
def test_helm_version(version, status):
    machine = Machine()
    machine.tools["helm"] = f"{version}+gabc\n"
    assert results(machine)["helm"].status == status


@pytest.mark.parametrize(
    "version, status", [("v1.32.4", FAIL), ("v1.33.1", PASS), ("v1.35.0", PASS), ("v1.36.0", FAIL), ("v2.34.0", FAIL)]
)
def test_kubectl_version_skew_against_the_cluster(version, status):
    machine = Machine()
    machine.tools["kubectl"] = json.dumps({"clientVersion": {"gitVersion": version}})
    result = results(machine)["kubectl"]
    assert result.status == status
    if status == FAIL:
        assert "1.34" in result.detail  # the node image's Kubernetes


def test_a_busy_port_fails_naming_the_port_and_the_config():
    machine = Machine(busy_ports={8080})
    found = results(machine)
    assert found["port 127.0.0.1:8080"].status == FAIL
    assert "lsof -nP -iTCP:8080" in found["port 127.0.0.1:8080"].fix
    assert "kind-config.yaml" in found["port 127.0.0.1:8080"].fix
    assert found["port 127.0.0.1:8443"].status == PASS


def test_ports_held_by_the_workshops_own_cluster_pass():
    machine = Machine(busy_ports={8080, 8443}, kind_clusters=["kserve-workshop"])
    found = results(machine)
    assert found["port 127.0.0.1:8080"].status == PASS
    assert "existing kind cluster" in found["port 127.0.0.1:8080"].detail


def test_ports_come_from_the_kind_config(tmp_path):
    config = tmp_path / "kind.yaml"
    config.write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n"
        "  extraPortMappings:\n  - {containerPort: 31080, hostPort: 9080, listenAddress: 127.0.0.1}\n"
    )
    found = results(Machine(busy_ports={9080}), config_path=config)
    assert found["port 127.0.0.1:9080"].status == FAIL
    assert "port 127.0.0.1:8080" not in found


def test_a_missing_kind_config_fails_the_port_check(tmp_path):
    found = results(Machine(), config_path=tmp_path / "gone.yaml")
    assert found["host ports"].status == FAIL


@pytest.mark.parametrize("arch, status", [("x86_64", PASS), ("aarch64", WARN), ("arm64", WARN), ("riscv64", FAIL)])
def test_cpu_architecture(arch, status):
    result = results(Machine(arch=arch))["CPU architecture"]
    assert result.status == status
    if status == WARN:
        assert "MLServer" in result.detail and "kserve-sklearnserver" in result.fix


def test_low_inotify_limits_warn_with_the_sysctl_fix():
    machine = Machine(inotify={"max_user_watches": "8192\n", "max_user_instances": "128\n"})
    result = results(machine)["inotify limits"]
    assert result.status == WARN
    assert "max_user_instances=128" in result.detail and "max_user_watches=8192" in result.detail
    assert "sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512" in result.fix


def test_unreadable_inotify_limits_warn():
    assert results(Machine(inotify={}))["inotify limits"].status == WARN


def test_inotify_does_not_apply_on_macos():
    result = results(Machine(os_name="Darwin", inotify={}))["inotify limits"]
    assert result.status == PASS and "not applicable" in result.detail


@pytest.mark.parametrize("context, status", [("kind-kserve-workshop", PASS), (None, PASS), ("prod-cluster", WARN)])
def test_kube_context(context, status):
    result = results(Machine(context=context))["kube context"]
    assert result.status == status
    if status == WARN:
        assert "prod-cluster" in result.detail and "--yes" in result.fix


def test_gke_target_checks_gcloud_not_docker():
    machine = Machine(docker_info=None, context="gke_p_us-central1-a_kserve-workshop")
    del machine.tools["docker"]
    found = results(machine, target="gke")
    assert "docker" not in found and "docker daemon" not in found
    assert found["gcloud"].status == PASS and found["kube context"].status == PASS
    del machine.tools["gcloud"], machine.tools["gke-gcloud-auth-plugin"]
    found = results(machine, target="gke")
    assert found["gcloud"].status == FAIL and found["gke-gcloud-auth-plugin"].status == FAIL
    assert "gcloud components install gke-gcloud-auth-plugin" in found["gke-gcloud-auth-plugin"].fix


def test_an_unknown_target_is_refused():
    with pytest.raises(WorkshopError, match="unknown doctor target"):
        doctor.run_doctor(target="minikube", probes=Machine().probes(), show=False)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("v1.34.0", (1, 34, 0)),
        ("1.32+", (1, 32)),
        ("v1.32.4-dispatcher", (1, 32, 4)),
        ("v3.16.3+gcfd0749", (3, 16, 3)),
        ("", None),
        ("banana", None),
    ],
)
def test_version_tuple(text, expected):
    assert doctor_cluster.version_tuple(text) == expected


def test_the_table_shows_fixes_only_for_problems(capsys):
    machine = Machine(busy_ports={8080})
    doctor.run_doctor(strict=False, probes=machine.probes(), show=True)
    out = capsys.readouterr().out
    assert "Workshop doctor" in out and "lsof" in out and "fail" in out


def test_invoke_doctor_without_docker_exits_non_zero_with_a_clear_message(tmp_path):
    """The real CLI on a machine where no docker (nor kind, helm) can be found."""
    env = {
        **os.environ,
        "PATH": str(tmp_path),
        "NO_COLOR": "1",
        "KUBECONFIG": str(tmp_path / "none"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "doctor"],
        cwd=paths.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "error: doctor: cluster tier (kind): not ready" in done.stderr and "docker daemon" in done.stderr
    assert "local tier: ready" in done.stdout, "the local tier is reported on its own"
    assert "--tier local" in done.stderr  # how to check only what is ready
    assert "docs.docker.com" in done.stdout  # the fix, in the table
    assert "Traceback" not in done.stderr + done.stdout


def test_the_real_port_probe_sees_a_listening_socket():
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert doctor._port_free("127.0.0.1", port) is False
    assert doctor._port_free("127.0.0.1", port) is True


# ----- tiers: the local tier on its own, and both tiers reported apart ---------------------------

from kserve_workshop import doctor_local  # noqa: E402


def local_checks(machine: LocalMachine) -> dict:
    return {r.check: r for r in doctor_local.collect_local(machine.probes())}


def test_a_ready_local_tier_passes_every_check():
    assert {r.status for r in local_checks(LocalMachine()).values()} == {PASS}


@pytest.mark.parametrize(
    "change, check, status, fix",
    [
        ({"python": (3, 10, 12)}, "python", FAIL, "bootstrap"),
        ({"packages": {"scikit-learn": pin("python", "scikit_learn")}}, "kserve", FAIL, "bootstrap"),
        (
            {"packages": {"kserve": pin("python", "kserve_sdk"), "scikit-learn": "1.6.1"}},
            "scikit-learn",
            FAIL,
            "bootstrap",
        ),
        ({"loopback": False}, "loopback (127.0.0.1)", FAIL, "127.0.0.1"),
        ({"prometheus": None}, "prometheus (Lab 5)", WARN, "apt-get install prometheus"),
        ({"schema": False}, "KServe schema", WARN, "invoke schemas"),
    ],
)
def test_each_local_problem_is_found_with_its_fix(change, check, status, fix):
    found = local_checks(LocalMachine(**change))
    assert found[check].status == status
    assert fix in found[check].fix
    assert [name for name, r in found.items() if r.status != PASS] == [check], "only that check is affected"


def run_tiers(tiers, machine=None, local=None, **kwargs):
    kwargs.setdefault("show", False)
    return doctor.run_tiers(
        tiers, probes=(machine or Machine()).probes(), local_probes=(local or LocalMachine()).probes(), **kwargs
    )


def test_without_docker_the_local_tier_is_ready_and_the_cluster_tier_is_not():
    no_docker = Machine(docker_info=None)
    del no_docker.tools["docker"]
    reports = {r.tier: r for r in run_tiers(["local", "kind"], no_docker, strict=False)}
    assert reports["local"].ready and reports["local"].summary() == "local tier: ready"
    assert not reports["kind"].ready
    assert reports["kind"].summary().startswith("cluster tier (kind): not ready (docker, docker daemon")
    with pytest.raises(WorkshopError) as raised:
        run_tiers(["local", "kind"], no_docker)
    assert "cluster tier (kind): not ready" in raised.value.message and "local tier" not in raised.value.message
    assert "--tier local" in raised.value.hint
    assert [r.tier for r in run_tiers(["local"], no_docker)] == ["local"], "asking for the local tier only: no error"


def test_a_warning_keeps_a_tier_ready_and_a_failure_does_not():
    (report,) = run_tiers(["local"], local=LocalMachine(prometheus=None, schema=False))
    assert report.ready and report.summary() == "local tier: ready (2 warning(s))"
    with pytest.raises(WorkshopError, match="local tier: not ready \\(kserve\\)"):
        run_tiers(["local"], local=LocalMachine(packages={"scikit-learn": pin("python", "scikit_learn")}))


@pytest.mark.parametrize(
    "text, tiers",
    [
        ("", ["local", "kind"]),
        ("all", ["local", "kind"]),
        ("local", ["local"]),
        ("cluster", ["kind"]),
        ("kind", ["kind"]),
        ("gke", ["gke"]),
        ("Local, GKE", ["local", "gke"]),
        ("local,local", ["local"]),
    ],
)
def test_tier_names(text, tiers):
    assert doctor.parse_tiers(text) == tiers


@pytest.mark.parametrize("text", ["minikube", "local,nope", "loca"])
def test_an_unknown_tier_is_one_message(text):
    with pytest.raises(WorkshopError, match="unknown tier") as raised:
        doctor.parse_tiers(text)
    assert "--tier local" in raised.value.hint


def test_the_tables_are_one_per_tier_with_a_summary_line_each(capsys):
    run_tiers(["local", "kind"], Machine(busy_ports={8080}), strict=False, show=True)
    out = capsys.readouterr().out
    assert out.index("Local tier") < out.index("Cluster tier (kind") < out.index("local tier: ready")
    assert "cluster tier (kind): not ready (port 127.0.0.1:8080)" in out


def _no_docker_env(tmp_path) -> dict:
    return {
        **os.environ,
        "PATH": str(tmp_path),
        "NO_COLOR": "1",
        "KUBECONFIG": str(tmp_path / "none"),
        "HOME": str(tmp_path),
    }


def test_invoke_doctor_tier_local_without_docker_exits_zero(tmp_path):
    """The reader of the setup page's local tab: no Docker, no kind, and that is fine."""
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "doctor", "--tier", "local"],
        cwd=paths.REPO_ROOT,
        env=_no_docker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "local tier: ready" in done.stdout and "docker daemon" not in done.stdout


def test_invoke_doctor_with_a_misspelt_tier_is_one_message(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "doctor", "--tier", "clustr"],
        cwd=paths.REPO_ROOT,
        env=_no_docker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unknown tier 'clustr'" in done.stderr and "Traceback" not in done.stderr + done.stdout
