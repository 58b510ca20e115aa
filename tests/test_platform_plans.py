"""The platform's install/uninstall plans: exact commands, order, pins, idempotence, --reinstall,
the context on every command, and what a failed wait reports."""

from __future__ import annotations

import re
import shlex
import sys

import pytest

from kserve_workshop import versions
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import MANIFESTS_DIR
from kserve_workshop.platform import COMPONENT_NAMES, components, get_profile, install_plan, select, uninstall_plan
from kserve_workshop.versions import pin

from support.platform_fakes import ClusterState, installed_state, runner

KIND = "kind-kserve-workshop"
GKE = "gke_my-project_us-central1-a_kserve-workshop"
LAPTOP = get_profile("laptop")
P = MANIFESTS_DIR / "platform"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Rendered objects go to a temporary cache."""
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def rendered(name: str, context: str = KIND) -> str:
    from kserve_workshop.paths import cache_dir

    return str(cache_dir() / "platform" / context / name)


def plan_commands(component: str, profile: str = "laptop", context: str = KIND) -> list[str]:
    return install_plan(context, get_profile(profile), component).commands()


def apply(path) -> str:
    return (
        f"kubectl --context {KIND} apply --server-side --field-manager=kserve-workshop --force-conflicts "
        f"--filename {path}"
    )


# ----- exact commands per component ---------------------------------------------------------------


def test_cert_manager_install_commands():
    assert plan_commands("cert-manager") == [
        f"helm --kube-context {KIND} upgrade --install cert-manager cert-manager --namespace cert-manager "
        f"--create-namespace --repo https://charts.jetstack.io --version {pin('cert_manager')} "
        f"--values {P}/cert-manager/cert-manager-values.yaml --set crds.enabled=true --wait --timeout 5m",
        f"kubectl --context {KIND} wait --for=condition=Ready pods --selector 'app in (cert-manager,webhook,cainjector)' "
        "--namespace cert-manager --timeout=180s",
    ]


def test_istio_install_commands_on_kind():
    istio = pin("istio")
    repo = "--repo https://istio-release.storage.googleapis.com/charts"
    assert plan_commands("istio") == [
        f"helm --kube-context {KIND} upgrade --install istio-base base --namespace istio-system --create-namespace "
        f"{repo} --version {istio} --set defaultRevision=default --wait --timeout 5m",
        f"helm --kube-context {KIND} upgrade --install istiod istiod --namespace istio-system --create-namespace "
        f"{repo} --version {istio} --values {P}/istio/istiod-values.yaml --set global.proxy.autoInject=disabled "
        "--wait --timeout 5m",
        f"kubectl --context {KIND} wait --for=condition=Ready pods --selector app=istiod --namespace istio-system "
        "--timeout=300s",
        f"helm --kube-context {KIND} upgrade --install istio-ingressgateway gateway --namespace istio-system "
        f"--create-namespace {repo} --version {istio} --values {P}/istio/gateway-values.yaml "
        f"--values {P}/istio/gateway-kind-values.yaml --wait --timeout 5m",
        f"kubectl --context {KIND} wait --for=condition=Ready pods --selector app=istio-ingressgateway "
        "--namespace istio-system --timeout=300s",
    ]


def test_istio_gateway_on_gke_keeps_the_load_balancer():
    gateway = [c for c in plan_commands("istio", "gke", GKE) if "istio-ingressgateway gateway" in c]
    assert len(gateway) == 1
    assert "gateway-values.yaml" in gateway[0] and "gateway-kind-values.yaml" not in gateway[0]


def test_ingressclass_install_command():
    assert plan_commands("ingressclass") == [apply(P / "ingressclass.yaml")]


def test_knative_install_commands():
    operator = pin("knative", "operator_version")
    assert plan_commands("knative") == [
        f"helm --kube-context {KIND} upgrade --install knative-operator "
        f"https://github.com/knative/operator/releases/download/knative-{operator}/knative-operator-{operator}.tgz "
        f"--namespace knative-operator --create-namespace --values {P}/knative/operator-values.yaml "
        "--wait --timeout 5m",
        f"kubectl --context {KIND} wait --for=condition=Ready pods --selector name=knative-operator "
        "--namespace knative-operator --timeout=300s",
        apply(rendered("knative-serving.yaml")),
        f"kubectl --context {KIND} wait --for=condition=Ready knativeserving/knative-serving "
        "--namespace knative-serving --timeout=300s",
    ]


def test_kserve_install_commands_and_retry():
    v = pin("kserve")
    oci = "oci://ghcr.io/kserve/charts"
    plan = install_plan(KIND, LAPTOP, "kserve")
    assert plan.commands() == [
        f"helm --kube-context {KIND} upgrade --install kserve-crd {oci}/kserve-crd --namespace kserve "
        f"--create-namespace --version {v} --wait --timeout 5m",
        f"helm --kube-context {KIND} upgrade --install kserve-resources {oci}/kserve-resources --namespace kserve "
        f"--create-namespace --version {v} --values {P}/kserve/kserve-resources-values.yaml "
        f"--set kserve.version={v} --wait --timeout 5m",
        f"kubectl --context {KIND} wait --for=condition=Available deployment/kserve-controller-manager "
        "--namespace kserve --timeout=300s",
        f"helm --kube-context {KIND} upgrade --install kserve-runtime-configs {oci}/kserve-runtime-configs "
        f"--namespace kserve --create-namespace --version {v} --set kserve.servingruntime.enabled=true "
        "--set kserve.llmisvcConfigs.enabled=false --wait --timeout 5m",
    ]
    assert [step.attempts for step in plan.steps] == [1, 2, 1]


def test_ci_profile_pulls_the_controller_image_only_when_absent():
    ci = [c for c in plan_commands("kserve", "ci") if "kserve-resources " in c]
    laptop = [c for c in plan_commands("kserve") if "kserve-resources " in c]
    assert "--set kserve.controller.imagePullPolicy=IfNotPresent" in ci[0]
    assert "imagePullPolicy" not in laptop[0]


def test_monitoring_install_commands():
    assert plan_commands("monitoring") == [
        f"helm --kube-context {KIND} upgrade --install prometheus kube-prometheus-stack --namespace monitoring "
        "--create-namespace --repo https://prometheus-community.github.io/helm-charts "
        f"--version {pin('monitoring', 'kube_prometheus_stack_version')} "
        f"--values {P}/monitoring/kube-prometheus-stack-values.yaml "
        "--set prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues=false "
        "--set prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues=false --wait --timeout 10m",
        f"kubectl --context {KIND} wait --for=condition=Available prometheus/prometheus-kube-prometheus-prometheus "
        "--namespace monitoring --timeout=300s",
        apply(rendered("grafana-dashboards.yaml")),
        apply(P / "monitoring" / "podmonitor-kserve.yaml"),
    ]


def test_storage_install_commands():
    exec_ = (
        f"kubectl --context {KIND} exec --namespace model-store deployment/seaweedfs --container seaweedfs -- sh -c "
    )
    listed = "echo s3.bucket.list | weed shell | grep -qw models"
    assert plan_commands("storage") == [
        apply(rendered("seaweedfs.yaml")),
        f"{sys.executable} -m kserve_workshop.platform write-credentials --context {KIND} "
        f"{rendered('storage-credentials.yaml')}",
        apply(rendered("storage-credentials.yaml")),
        f"kubectl --context {KIND} rollout status deployment/seaweedfs --namespace model-store --timeout=300s",
        exec_ + shlex.quote(f"{listed} || echo 's3.bucket.create -name models' | weed shell"),
        apply(P / "storage" / "model-access.yaml"),
    ]


# ----- the whole stack ---------------------------------------------------------------------------


def first_helm_or_apply(commands: list[str]) -> list[str]:
    """The release names and applied files, in order: the plan's shape at a glance."""
    out = []
    for command in commands:
        argv = shlex.split(command)
        if "upgrade" in argv:
            out.append(argv[argv.index("--install") + 1])
        elif "uninstall" in argv:
            out.append("-" + argv[argv.index("uninstall") + 1])
        elif "apply" in argv:
            out.append(argv[-1].rsplit("/", 1)[-1])
        elif "delete" in argv and "--filename" in argv:
            out.append("-" + argv[argv.index("--filename") + 1].rsplit("/", 1)[-1])
        elif "delete" in argv:
            out.append("-" + " ".join(argv[argv.index("delete") + 1 : argv.index("delete") + 3]))
    return out


def test_full_install_order_follows_kserves_own():
    assert first_helm_or_apply(install_plan(KIND, LAPTOP).commands()) == [
        "cert-manager",
        "istio-base",
        "istiod",
        "istio-ingressgateway",
        "ingressclass.yaml",
        "knative-operator",
        "knative-serving.yaml",
        "kserve-crd",
        "kserve-resources",
        "kserve-runtime-configs",
        "prometheus",
        "grafana-dashboards.yaml",
        "podmonitor-kserve.yaml",
        "seaweedfs.yaml",
        "storage-credentials.yaml",
        "model-access.yaml",
    ]


def test_uninstall_runs_in_reverse_order():
    assert first_helm_or_apply(uninstall_plan(KIND).commands()) == [
        "-model-access.yaml",
        "-secret kserve-models-s3",
        "-namespace model-store",
        "-podmonitor-kserve.yaml",
        "-prometheus",
        "-namespace monitoring",
        "-inferenceservices.serving.kserve.io --all",
        "-kserve-runtime-configs",
        "-kserve-resources",
        "-kserve-crd",
        "-namespace kserve",
        "-knativeserving knative-serving",
        "-namespace knative-serving",
        "-knative-operator",
        "-namespace knative-operator",
        "-ingressclass istio",
        "-istio-ingressgateway",
        "-istiod",
        "-istio-base",
        "-namespace istio-system",
        "-cert-manager",
        "-namespace cert-manager",
    ]


def test_selected_components_keep_install_order_whatever_the_order_given():
    assert [c.name for c in components(KIND, "storage,cert-manager,kserve")] == ["cert-manager", "kserve", "storage"]
    assert [c.name for c in select(None)] == list(COMPONENT_NAMES)


@pytest.mark.parametrize("names, shown", [("nope", "nope"), ("kserve,istoi", "istoi"), (",", "no component")])
def test_unknown_components_are_refused_with_the_valid_names(names, shown):
    with pytest.raises(WorkshopError) as info:
        install_plan(KIND, LAPTOP, names)
    assert shown in info.value.message
    assert "cert-manager, istio, ingressclass, knative, kserve, monitoring, storage" in info.value.hint


def test_unknown_profile_is_refused_with_the_valid_names():
    with pytest.raises(WorkshopError) as info:
        get_profile("laptopp")
    assert "laptopp" in info.value.message and "laptop, ci, gke" in info.value.hint


@pytest.mark.parametrize("context", [KIND, GKE])
def test_every_helm_and_kubectl_command_names_the_context(context):
    profile = get_profile("gke" if context == GKE else "laptop")
    commands = install_plan(context, profile).commands() + uninstall_plan(context).commands()
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == "helm":
            assert argv[1:3] == ["--kube-context", context], command
        elif argv[0] == "kubectl":
            assert argv[1:3] == ["--context", context], command
        else:  # the storage credentials helper, which gets the context too
            assert argv[:3] == [sys.executable, "-m", "kserve_workshop.platform"] and context in argv, command
    other = "kind-other"
    assert not any(other in c for c in commands)


# ----- pins come from versions.toml --------------------------------------------------------------


def test_pins_are_read_from_versions_toml(tmp_path, monkeypatch):
    text = versions.VERSIONS_FILE.read_text()
    changed = (
        text.replace(f'version = "{pin("kserve")}"', 'version = "v9.9.9"', 1)
        .replace('kube_prometheus_stack_version = "', 'kube_prometheus_stack_version = "99.1.', 1)
        .replace(f'serving_version = "{pin("knative", "serving_version")}"', 'serving_version = "7.7.7"', 1)
        .replace(f'version = "{pin("seaweedfs")}"', 'version = "0.0.1"', 1)
    )
    for new_pin in ('"v9.9.9"', '"99.1.', '"7.7.7"', '"0.0.1"'):
        assert new_pin in changed, f"versions.toml layout changed: could not set {new_pin}"
    copy = tmp_path / "versions.toml"
    copy.write_text(changed)
    monkeypatch.setattr(versions, "VERSIONS_FILE", copy)
    versions.load.cache_clear()
    try:
        commands = "\n".join(install_plan(KIND, LAPTOP).commands())
        assert "--version v9.9.9" in commands and "kserve.version=v9.9.9" in commands
        assert "--version 99.1." in commands
        from kserve_workshop.paths import cache_dir

        rendered_dir = cache_dir() / "platform" / KIND
        assert "version: 7.7.7" in (rendered_dir / "knative-serving.yaml").read_text()
        assert "chrislusf/seaweedfs:0.0.1" in (rendered_dir / "seaweedfs.yaml").read_text()
    finally:
        monkeypatch.undo()
        versions.load.cache_clear()
    assert "v9.9.9" not in "\n".join(install_plan(KIND, LAPTOP).commands())


def test_no_platform_version_is_typed_in_the_platform_code():
    from pathlib import Path

    import kserve_workshop.platform as package

    pins = {
        str(pin(s, k))
        for s, k in [
            ("kserve", "version"),
            ("istio", "version"),
            ("cert_manager", "version"),
            ("knative", "operator_version"),
            ("knative", "serving_version"),
            ("monitoring", "kube_prometheus_stack_version"),
            ("seaweedfs", "version"),
        ]
    }
    for source in Path(package.__file__).parent.glob("*.py"):
        text = source.read_text()
        for value in pins:
            assert not re.search(rf"[\"']{re.escape(value)}[\"']", text), f"{value} typed in {source.name}"
    for manifest in (MANIFESTS_DIR / "platform").rglob("*.yaml"):
        text = manifest.read_text()
        for value in pins - {"v1.17.0"}:
            assert f": {value}" not in text and f'"{value}"' not in text, f"{value} typed in {manifest}"


# ----- idempotence, reinstall, failures ----------------------------------------------------------


def test_fresh_cluster_runs_every_step_in_order():
    run, ctx = runner(ClusterState())
    plan = install_plan(KIND, LAPTOP)
    ran = run.execute(plan)
    assert ran == [step.title for step in plan.steps]
    assert ctx.changes() == plan.commands()


def test_installed_cluster_skips_every_step():
    run, ctx = runner(installed_state(KIND))
    assert run.execute(install_plan(KIND, LAPTOP)) == []
    assert ctx.changes() == []


def test_installed_cluster_on_gke_skips_every_step():
    run, ctx = runner(installed_state(GKE, "gke"))
    assert run.execute(install_plan(GKE, get_profile("gke"))) == []
    assert ctx.changes() == []


def test_reinstall_runs_every_step_even_when_installed():
    run, ctx = runner(installed_state(KIND), reinstall=True)
    plan = install_plan(KIND, LAPTOP)
    assert run.execute(plan) == [step.title for step in plan.steps]
    assert ctx.changes() == plan.commands()


def test_an_outdated_release_is_upgraded_and_nothing_else_runs():
    state = installed_state(KIND)
    state.releases["istiod"] = ("istiod-1.20.0", "deployed")
    run, ctx = runner(state)
    assert run.execute(install_plan(KIND, LAPTOP)) == [f"helm release istiod (istiod {pin('istio')})"]
    changes = ctx.changes()
    assert len(changes) == 2
    assert "upgrade --install istiod istiod" in changes[0] and "--selector app=istiod" in changes[1]


def test_a_failed_release_is_installed_again():
    state = installed_state(KIND)
    state.releases["cert-manager"] = (f"cert-manager-{pin('cert_manager')}", "failed")
    run, _ = runner(state)
    assert run.execute(install_plan(KIND, LAPTOP, "cert-manager")) == [
        f"helm release cert-manager (cert-manager {pin('cert_manager')})"
    ]


def test_a_changed_knative_serving_is_applied_again():
    state = installed_state(KIND)
    serving = state.objects[("knativeserving", "knative-serving", "knative-serving")]
    serving["spec"]["config"]["domain"] = {"other.example": ""}
    run, ctx = runner(state)
    assert len(run.execute(install_plan(KIND, LAPTOP))) == 1
    assert ctx.changes()[0].endswith("knative-serving.yaml")


def test_kserve_resources_is_tried_twice_then_reported():
    state = ClusterState(failures=[r"upgrade --install kserve-resources"])
    pauses = []
    run, ctx = runner(state, sleep=pauses.append)
    with pytest.raises(WorkshopError) as info:
        run.execute(install_plan(KIND, LAPTOP, "kserve"))
    assert sum("upgrade --install kserve-resources" in c for c in ctx.commands) == 2
    assert "kserve-resources" in info.value.message
    assert not any("kserve-runtime-configs" in c for c in ctx.changes())
    # A pause before the second try, as KServe's installer (manage.kserve-helm.sh) sleeps 5 s.
    assert pauses == [5]


def test_a_retry_that_succeeds_goes_on_after_one_pause():
    class FailsOnce(ClusterState):
        tries = 0

        def answer(self, command):
            if "upgrade --install kserve-resources" in command:
                self.tries += 1
                if self.tries == 1:
                    from invoke import Result

                    return Result(command=command, exited=1, stderr="webhook connection refused")
            return super().answer(command)

    pauses = []
    run, ctx = runner(FailsOnce(), sleep=pauses.append)
    run.execute(install_plan(KIND, LAPTOP, "kserve"))
    assert pauses == [5]
    assert any("kserve-runtime-configs" in c for c in ctx.changes())


def test_only_steps_that_fail_pause():
    pauses = []
    run, _ = runner(ClusterState(), sleep=pauses.append)
    run.execute(install_plan(KIND, LAPTOP))
    assert pauses == []


def test_a_failed_wait_reports_conditions_events_and_pods():
    state = ClusterState(
        failures=[r"wait --for=condition=Ready knativeserving/"],
        outputs={r"get events --namespace knative-serving": "LAST SEEN  TYPE  REASON\n10s  Warning  FailedScheduling"},
    )
    state.add(
        {
            "kind": "KnativeServing",
            "metadata": {"name": "knative-serving", "namespace": "knative-serving"},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "webhook not ready"}
                ]
            },
        }
    )
    run, ctx = runner(state)
    with pytest.raises(WorkshopError) as info:
        run.execute(install_plan(KIND, LAPTOP, "knative"))
    text = info.value.message
    assert "Ready=False (InstallFailed: webhook not ready)" in text
    assert "FailedScheduling" in text
    assert f"kubectl --context {KIND} get pods --namespace knative-serving --output wide" in ctx.commands


def test_dry_run_prints_the_plan_and_runs_nothing(capsys):
    run, ctx = runner(ClusterState(), dry_run=True)
    run.execute(install_plan(KIND, LAPTOP))
    out = capsys.readouterr().out
    assert ctx.commands == []
    assert f"--version {pin('kserve')}" in out and "istio-ingressgateway" in out


def test_uninstall_skips_what_is_already_gone():
    run, ctx = runner(ClusterState())
    assert run.execute(uninstall_plan(KIND)) == []
    assert ctx.changes() == []


def test_uninstall_of_an_installed_cluster_removes_everything_in_reverse():
    from support.platform_fakes import isvc

    state = installed_state(KIND)
    state.inferenceservices = [isvc("sklearn-iris")]
    run, ctx = runner(state)
    plan = uninstall_plan(KIND)
    ran = run.execute(plan)
    # The namespaces of the fake never disappear, so every step runs.
    assert ran == [step.title for step in plan.steps]
    assert ctx.changes() == plan.commands()


# ----- uninstalling KServe with InferenceServices left ------------------------------------------


def test_uninstall_deletes_every_inferenceservice_before_any_kserve_chart(capsys):
    from support.platform_fakes import isvc

    state = installed_state(KIND)
    state.inferenceservices = [isvc("sklearn-iris"), isvc("iris-rollout", "lab4")]
    run, ctx = runner(state)
    run.execute(uninstall_plan(KIND, "kserve"))
    changes = ctx.changes()
    delete = f"kubectl --context {KIND} delete inferenceservices.serving.kserve.io --all --all-namespaces --wait=false"
    wait = (
        f"kubectl --context {KIND} wait --for=delete inferenceservices.serving.kserve.io --all --all-namespaces "
        "--timeout=300s"
    )
    assert changes[:2] == [delete, wait]
    first_chart = next(i for i, c in enumerate(changes) if " uninstall kserve-" in c)
    assert first_chart == 2
    out = capsys.readouterr().out
    assert "deleted 2 InferenceServices: default/sklearn-iris, lab4/iris-rollout" in out


def test_uninstall_with_no_inferenceservice_left_skips_the_delete():
    run, ctx = runner(installed_state(KIND))
    run.execute(uninstall_plan(KIND, "kserve"))
    assert not any("inferenceservices" in c for c in ctx.changes())


def test_uninstall_without_the_crd_skips_the_delete():
    state = installed_state(KIND)
    state.inferenceservices = None  # the API has no such type any more
    run, ctx = runner(state)
    run.execute(uninstall_plan(KIND, "kserve"))
    assert not any("inferenceservices" in c for c in ctx.changes())


def test_inferenceservices_stuck_on_their_finalizer_are_explained():
    from support.platform_fakes import deployment, isvc

    state = installed_state(KIND)
    state.inferenceservices = [isvc("sklearn-iris", deleting=True)]
    state.deployments["kserve"] = [deployment("kserve-controller-manager", available=0)]
    state.failures.append(r"wait --for=delete inferenceservices")
    run, ctx = runner(state)
    with pytest.raises(WorkshopError) as info:
        run.execute(uninstall_plan(KIND, "kserve"))
    text = info.value.message
    assert "default/sklearn-iris: finalizers ['inferenceservice.finalizers'], being deleted" in text
    assert "kserve-controller-manager 0/1 available" in text
    assert '--type=merge --patch \'{"metadata":{"finalizers":null}}\'' in text
    assert not any(" uninstall kserve-" in c for c in ctx.changes()), "no chart may go while objects are stuck"


def test_deleted_report_reads_both_kubectl_formats():
    from invoke import Result

    from kserve_workshop.platform.kserve import deleted_report

    old = 'inferenceservice.serving.kserve.io "a" deleted\n'
    new = 'inferenceservice.serving.kserve.io "b" deleted from lab namespace\n'
    assert deleted_report(Result(stdout=old + new)) == "deleted 2 InferenceServices: a, lab/b"
    assert deleted_report(Result(stdout="")) == "deleted no InferenceService (none was left)"
