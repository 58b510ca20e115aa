"""The objects and values the platform applies, checked as plain YAML/dicts: KnativeServing,
IngressClass, the gateway's node port, the model store, its generated credentials, the
dashboards ConfigMap, and the model upload plan."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import MANIFESTS_DIR
from kserve_workshop.platform import components, get_profile, install_plan
from kserve_workshop.platform import monitoring, seaweedfs, storage
from kserve_workshop.platform.knative import Knative
from kserve_workshop.versions import pin

from support.platform_fakes import ClusterState, runner

KIND = "kind-kserve-workshop"
P = MANIFESTS_DIR / "platform"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


# ----- KnativeServing ----------------------------------------------------------------------------


def serving(profile: str) -> dict:
    objects = Knative(KIND).serving_objects(get_profile(profile))
    [found] = [o for o in objects if o["kind"] == "KnativeServing"]
    return found


def test_knative_serving_is_configured_through_the_cr():
    cr = serving("laptop")
    assert cr["apiVersion"] == "operator.knative.dev/v1beta1"
    assert cr["metadata"] == {"name": "knative-serving", "namespace": "knative-serving"}
    assert cr["spec"]["version"] == pin("knative", "serving_version")
    assert cr["spec"]["config"]["domain"] == {"example.com": ""}


def test_kind_profiles_skip_tag_resolution_for_locally_loaded_images():
    for profile in ("laptop", "ci"):
        registries = serving(profile)["spec"]["config"]["deployment"]["registries-skipping-tag-resolving"].split(",")
        assert {"nvcr.io", "index.docker.io", "kind.local", "ko.local", "dev.local"} == set(registries)
        assert len(registries) == len(set(registries))
    gke = serving("gke")["spec"]["config"]["deployment"]["registries-skipping-tag-resolving"].split(",")
    assert gke == ["nvcr.io", "index.docker.io"]


def test_every_knative_deployment_is_shrunk_to_ci_sizes():
    workloads = {w["name"]: w for w in serving("laptop")["spec"]["workloads"]}
    assert set(workloads) == {
        "activator",
        "autoscaler",
        "autoscaler-hpa",
        "controller",
        "webhook",
        "net-istio-controller",
        "net-istio-webhook",
    }
    for workload in workloads.values():
        for container in workload["resources"]:
            assert container["requests"] == {"cpu": "5m", "memory": "32Mi"}
            assert container["limits"] == {"cpu": "100m", "memory": "128Mi"}
    # net-istio's containers are called controller and webhook, not after their deployments.
    assert workloads["net-istio-controller"]["resources"][0]["container"] == "controller"


def test_rendered_knative_serving_is_what_gets_applied():
    install_plan(KIND, get_profile("laptop"), "knative")
    from kserve_workshop.paths import cache_dir

    applied = docs(cache_dir() / "platform" / KIND / "knative-serving.yaml")
    assert [d["kind"] for d in applied] == ["Namespace", "KnativeServing"]
    assert applied[1] == serving("laptop")


def test_committed_knative_serving_has_no_version_of_its_own():
    committed = [d for d in docs(P / "knative" / "knative-serving.yaml") if d["kind"] == "KnativeServing"][0]
    assert "version" not in committed["spec"]


# ----- IngressClass and the gateway --------------------------------------------------------------


def test_ingressclass_istio():
    [ingressclass] = docs(P / "ingressclass.yaml")
    assert ingressclass["apiVersion"] == "networking.k8s.io/v1" and ingressclass["kind"] == "IngressClass"
    assert ingressclass["metadata"]["name"] == "istio"
    assert ingressclass["spec"] == {"controller": "istio.io/ingress-controller"}


def test_gateway_node_port_is_the_one_the_kind_config_maps_to_127_0_0_1_8080():
    service = yaml.safe_load((P / "istio" / "gateway-kind-values.yaml").read_text())["service"]
    assert service["type"] == "NodePort"
    http = [p for p in service["ports"] if p["port"] == 80]
    assert len(http) == 1 and http[0]["targetPort"] == 80
    kind_config = yaml.safe_load((MANIFESTS_DIR / "cluster" / "kind-config.yaml").read_text())
    mappings = {m["containerPort"]: m for node in kind_config["nodes"] for m in node.get("extraPortMappings", [])}
    assert mappings[http[0]["nodePort"]]["hostPort"] == 8080
    assert mappings[http[0]["nodePort"]]["listenAddress"] == "127.0.0.1"
    # The status port stays (the gateway's readiness), as in the chart's defaults.
    assert {p["name"] for p in service["ports"]} == {"status-port", "http2", "https"}


def test_istio_is_shrunk_as_in_kserve_ci():
    istiod = yaml.safe_load((P / "istio" / "istiod-values.yaml").read_text())
    gateway = yaml.safe_load((P / "istio" / "gateway-values.yaml").read_text())
    assert istiod["resources"]["requests"] == {"cpu": "5m", "memory": "32Mi"}
    assert gateway["resources"]["requests"] == {"cpu": "5m", "memory": "32Mi"}


# ----- monitoring --------------------------------------------------------------------------------


def test_kube_prometheus_stack_values_enable_grafana_and_its_dashboard_sidecar():
    values = yaml.safe_load((P / "monitoring" / "kube-prometheus-stack-values.yaml").read_text())
    assert values["grafana"]["enabled"] is True
    assert values["grafana"]["sidecar"]["dashboards"] == {
        "enabled": True,
        "label": "grafana_dashboard",
        "labelValue": "1",
    }
    for off in ("alertmanager", "nodeExporter", "kubeStateMetrics"):
        assert values[off]["enabled"] is False


def test_dashboards_configmap_holds_every_json_file(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_text(json.dumps({"title": "A"}))
    (tmp_path / "b.json").write_text(json.dumps({"title": "B"}))
    (tmp_path / "notes.txt").write_text("not a dashboard")
    monkeypatch.setattr(monitoring, "DASHBOARDS_DIR", tmp_path)
    configmap = monitoring.Monitoring(KIND).dashboards_configmap()
    assert configmap["kind"] == "ConfigMap" and configmap["metadata"]["namespace"] == "monitoring"
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert sorted(configmap["data"]) == ["a.json", "b.json"]
    assert json.loads(configmap["data"]["b.json"]) == {"title": "B"}


def test_monitoring_plan_tolerates_missing_dashboards_and_podmonitor(tmp_path, monkeypatch):
    monkeypatch.setattr(monitoring, "DASHBOARDS_DIR", tmp_path / "none")
    monkeypatch.setattr(monitoring, "PODMONITOR", tmp_path / "none.yaml")
    commands = install_plan(KIND, get_profile("laptop"), "monitoring").commands()
    assert len(commands) == 2 and "upgrade --install prometheus" in commands[0]
    assert len(monitoring.Monitoring(KIND).uninstall_plan().commands()) == 2


def test_oversized_dashboards_are_refused(tmp_path, monkeypatch):
    (tmp_path / "huge.json").write_text("x" * (monitoring.CONFIGMAP_LIMIT + 1))
    monkeypatch.setattr(monitoring, "DASHBOARDS_DIR", tmp_path)
    with pytest.raises(WorkshopError, match="1 MiB"):
        monitoring.Monitoring(KIND).dashboards_configmap()


# ----- the model store ---------------------------------------------------------------------------


def store() -> dict[str, dict]:
    return {obj["kind"]: obj for obj in seaweedfs.Storage(KIND).store_objects()}


def test_store_runs_the_pinned_seaweedfs_image_in_s3_server_mode():
    objects = store()
    assert set(objects) == {"Namespace", "PersistentVolumeClaim", "Service", "Deployment"}
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"{pin('seaweedfs', 'image')}:{pin('seaweedfs')}"
    assert container["args"][0] == "server" and "-s3" in container["args"]
    assert "-s3.config=/etc/seaweedfs-s3/s3.json" in container["args"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in objects["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mounts["/etc/seaweedfs-s3"]]["secret"]["secretName"] == storage.STORE_SECRET
    assert (
        volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"]
        == objects["PersistentVolumeClaim"]["metadata"]["name"]
    )


def test_store_service_matches_the_endpoint_kserve_is_given():
    objects = store()
    service = objects["Service"]
    host, port = storage.ENDPOINT.split(":")
    assert host == f"{service['metadata']['name']}.{service['metadata']['namespace']}"
    assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]
    assert service["spec"]["selector"] == objects["Deployment"]["spec"]["template"]["metadata"]["labels"]


def test_committed_store_manifest_has_neither_tag_nor_credentials():
    text = (P / "storage" / "seaweedfs.yaml").read_text()
    [deployment] = [d for d in docs(P / "storage" / "seaweedfs.yaml") if d["kind"] == "Deployment"]
    assert ":" not in deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert "kind: Secret" not in text and "accessKey" not in text


def test_no_secret_is_committed_under_manifests_platform():
    for path in P.rglob("*.yaml"):
        assert all(d.get("kind") != "Secret" for d in docs(path)), path


def test_credential_secrets_carry_what_kserve_reads():
    creds = storage.Credentials("AKIDEXAMPLE", "secret-value")
    store_secret, kserve_secret = storage.credential_objects(creds)
    assert kserve_secret["metadata"]["namespace"] == "default"
    assert kserve_secret["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "seaweedfs.model-store:8333",
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-region": "us-east-1",
    }
    assert kserve_secret["stringData"] == {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-value"}
    identities = json.loads(store_secret["stringData"]["s3.json"])["identities"]
    assert identities[0]["credentials"] == [{"accessKey": "AKIDEXAMPLE", "secretKey": "secret-value"}]
    assert "Write" in identities[0]["actions"] and "Read" in identities[0]["actions"]


def test_service_account_lists_the_credentials_secret():
    [account] = docs(P / "storage" / "model-access.yaml")
    assert account["kind"] == "ServiceAccount"
    assert account["metadata"] == {
        "name": "kserve-models",
        "namespace": "default",
        "labels": {"app.kubernetes.io/part-of": "kserve-workshop"},
    }
    assert account["secrets"] == [{"name": storage.KSERVE_SECRET}]


def test_generated_credentials_differ_per_cluster():
    first, second = storage.Credentials.generate(), storage.Credentials.generate()
    assert first != second
    assert len(first.access_key) == 20 and len(first.secret_key) >= 30


def test_write_credentials_keeps_existing_ones_and_is_private(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "_credentials_in_cluster", lambda context: None)
    path = tmp_path / "creds.yaml"
    made = storage.write_credentials(KIND, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert storage.credentials_from_file(path) == made
    assert storage.write_credentials(KIND, path) == made  # a re-run keeps them
    in_cluster = storage.Credentials("CLUSTERKEY", "cluster-secret")
    monkeypatch.setattr(storage, "_credentials_in_cluster", lambda context: in_cluster)
    assert storage.write_credentials(KIND, path) == in_cluster  # the cluster's win


def test_credentials_are_read_back_from_an_api_secret():
    import base64

    secret = {
        "data": {
            "AWS_ACCESS_KEY_ID": base64.b64encode(b"K").decode(),
            "AWS_SECRET_ACCESS_KEY": base64.b64encode(b"S").decode(),
        }
    }
    assert storage.credentials_from_secret(secret) == storage.Credentials("K", "S")
    assert storage.credentials_from_secret({"data": {}}) is None


def test_credentials_step_runs_as_a_command(tmp_path):
    """The install plan's helper command works on its own (no cluster: fresh credentials)."""
    path = tmp_path / "out" / "creds.yaml"
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    done = subprocess.run(
        [sys.executable, "-m", "kserve_workshop.platform", "write-credentials", "--context", KIND, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [d["metadata"]["name"] for d in docs(path)] == [storage.STORE_SECRET, storage.KSERVE_SECRET]


def test_model_uri():
    assert storage.model_uri("my-iris") == "s3://models/my-iris"
    assert storage.model_uri("my-iris", "0123456789abcdef") == "s3://models/my-iris/0123456789abcdef"
    for bad in ("My_Iris", "", "-x", "a/b"):
        with pytest.raises(WorkshopError, match="invalid model name"):
            storage.model_uri(bad)
    for bad in ("0123", "0123456789ABCDEF", "../../other-model1", 12):
        with pytest.raises(WorkshopError, match="invalid model digest"):
            storage.model_uri("my-iris", bad)


# ----- uploading a model -------------------------------------------------------------------------


def _model(tmp_path, content: bytes = b"\x80model bytes", name: str = "model.joblib"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_models_uri_is_addressed_by_its_content(tmp_path):
    import hashlib

    for folder in "abc":
        (tmp_path / folder).mkdir()
    first = _model(tmp_path / "a", b"version 1")
    same = _model(tmp_path / "b", b"version 1", "model.pkl")
    changed = _model(tmp_path / "c", b"version 2")
    digest = hashlib.sha256(b"version 1").hexdigest()[:16]
    assert storage.content_uri(first, "my-iris") == f"s3://models/my-iris/{digest}"
    assert storage.content_uri(same, "my-iris") == storage.content_uri(first, "my-iris")
    assert storage.content_uri(changed, "my-iris") != storage.content_uri(first, "my-iris")
    # the version is addressed under its model's name, never under a prefix of another name
    assert storage.content_uri(first, "my-iris-2").startswith("s3://models/my-iris-2/")


def test_upload_plan_commands(tmp_path):
    model = _model(tmp_path)
    digest = storage.model_digest(model)
    pod = "seaweedfs-abc"
    exec_ = f"kubectl --context {KIND} exec --namespace model-store {pod} --container seaweedfs -- "
    assert storage.upload_plan(KIND, model, "my-iris", pod).commands() == [
        exec_ + f"mkdir -p /tmp/upload/my-iris/{digest}",
        f"kubectl --context {KIND} cp {model} model-store/{pod}:/tmp/upload/my-iris/{digest}/model.joblib "
        "--container seaweedfs",
        exec_ + f"sh -c 'echo '\"'\"'fs.rm -r /buckets/models/my-iris/{digest}'\"'\"' | weed shell || true'",
        exec_ + f"weed filer.copy /tmp/upload/my-iris/{digest}/model.joblib "
        f"http://localhost:8888/buckets/models/my-iris/{digest}/",
        exec_ + f"rm -rf /tmp/upload/my-iris/{digest}",
    ]


def test_uploading_a_new_version_leaves_the_other_versions_alone(tmp_path):
    """Only the new version's own folder is emptied: the revision a canary keeps still has its model."""
    model = _model(tmp_path)
    digest = storage.model_digest(model)
    commands = storage.upload_plan(KIND, model, "my-iris", "seaweedfs-abc").commands()
    removals = [c for c in commands if "fs.rm" in c]
    assert len(removals) == 1 and f"/buckets/models/my-iris/{digest}'" in removals[0]
    assert not any(c.rstrip("'\" ").endswith("/buckets/models/my-iris") for c in removals)


@pytest.fixture
def workshop_kubeconfig(monkeypatch):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: ([KIND], KIND))


def test_upload_model_finds_the_pod_and_returns_the_content_addressed_uri(tmp_path, workshop_kubeconfig):
    model = _model(tmp_path)
    state = ClusterState(outputs={r"get pods --namespace model-store --selector app=seaweedfs": "seaweedfs-xyz"})
    run, ctx = runner(state)
    uri = storage.upload_model(model, "my-iris", context=KIND, runner=run)
    assert uri == storage.content_uri(model, "my-iris") == f"s3://models/my-iris/{storage.model_digest(model)}"
    assert any(f"cp {model} model-store/seaweedfs-xyz:" in c for c in ctx.commands)
    assert ctx.commands[-2].endswith(f"http://localhost:8888/buckets/models/my-iris/{storage.model_digest(model)}/")


def test_a_retrained_model_gets_a_new_uri_so_kserve_rolls_it_out(tmp_path, workshop_kubeconfig):
    """Re-running a lab with a changed model must change the InferenceService's spec."""
    from kserve_workshop.isvc import load_manifest, use_model
    from kserve_workshop.paths import MANIFESTS_DIR

    state = ClusterState(outputs={r"get pods --namespace model-store --selector app=seaweedfs": "seaweedfs-xyz"})
    model = _model(tmp_path, b"first training")
    run, _ = runner(state)
    first = storage.upload_model(model, "sklearn-iris-lab1", context=KIND, runner=run)
    model.write_bytes(b"second training")
    second = storage.upload_model(model, "sklearn-iris-lab1", context=KIND, runner=run)
    assert first != second
    manifest = load_manifest(MANIFESTS_DIR / "labs" / "01-serve-a-model" / "sklearn-iris-lab1.yaml")
    assert use_model(manifest, first)["spec"] != use_model(manifest, second)["spec"]
    model.write_bytes(b"first training")
    assert storage.upload_model(model, "sklearn-iris-lab1", context=KIND, runner=run) == first


def test_upload_model_without_a_context_uses_the_labs_context(tmp_path, monkeypatch):
    """upload_model and the serving helpers resolve the same context (kube.lab_context)."""
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: (["minikube", KIND], "minikube"))
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    model = _model(tmp_path)
    state = ClusterState(outputs={r"get pods --namespace model-store --selector app=seaweedfs": "seaweedfs-xyz"})
    run, ctx = runner(state)
    storage.upload_model(model, "my-iris", runner=run)
    assert kube.lab_context() == KIND
    assert all(f"--context {KIND} " in c for c in ctx.commands)
    # A context named in $WORKSHOP_KUBE_CONTEXT is the user's choice: no --yes needed.
    monkeypatch.setenv(kube.LAB_CONTEXT_ENV, "minikube")
    run, ctx = runner(state)
    storage.upload_model(model, "my-iris", runner=run)
    assert kube.lab_context() == "minikube"
    assert all("--context minikube " in c for c in ctx.commands)


def test_upload_model_without_a_running_store(tmp_path, workshop_kubeconfig):
    model = tmp_path / "model.joblib"
    model.write_bytes(b"x")
    run, _ = runner(ClusterState(outputs={r"get pods --namespace model-store --selector": ""}))
    with pytest.raises(WorkshopError, match="model store is not running"):
        storage.upload_model(model, "my-iris", context=KIND, runner=run)


@pytest.mark.parametrize(
    "filename, content, message",
    [
        ("missing.joblib", None, "model file not found"),
        ("model.onnx", b"x", "load .joblib, .pkl, .pickle, .bst, .json, .ubj"),
        # the folder a lab saved the model in, instead of the file in it
        ("model", "dir", r"model is a folder: pass the model file in it \(model\.joblib\)"),
    ],
)
@pytest.mark.bad_input(
    tool="invoke platform.upload-model",
    input="A missing file, a format KServe does not load, or the model folder instead of the file",
    example=".cache/labs/01/model",
    behaviour="one message each; for a folder, the model file in it is named",
)
def test_upload_model_rejects_bad_files(tmp_path, filename, content, message, workshop_kubeconfig):
    path = tmp_path / filename
    if content == "dir":
        path.mkdir()
        (path / "model.joblib").write_bytes(b"x")
    elif content is not None:
        path.write_bytes(content)
    run, ctx = runner(ClusterState())
    with pytest.raises(WorkshopError, match=message):
        storage.upload_model(path, "my-iris", context=KIND, runner=run)
    assert ctx.commands == []


def test_upload_model_to_a_dead_cluster_says_so_not_that_the_store_is_missing(tmp_path, workshop_kubeconfig):
    refused = "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?"
    state = ClusterState()
    state.answer = lambda command: _refused(command, refused)  # every kubectl call: what kubectl says then
    run, ctx = runner(state)
    model = tmp_path / "model.joblib"
    model.write_bytes(b"x")
    with pytest.raises(WorkshopError) as info:
        storage.upload_model(model, "my-iris", context=KIND, runner=run)
    assert info.value.message == f"the cluster of kube context '{KIND}' does not answer: {refused}"
    assert "model store" not in info.value.message
    assert f"kubectl --context {KIND} get --raw /version --request-timeout=5s" in ctx.commands
    assert not ctx.changes(), "nothing may be changed on a cluster that does not answer"


def _refused(command, said):
    from invoke import Result

    return Result(command=command, exited=1, stderr=f"{said}\n")


def test_upload_model_dry_run_without_a_cluster_says_there_is_none(tmp_path, monkeypatch, capsys):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: ([], None))
    model = tmp_path / "model.joblib"
    model.write_bytes(b"x")
    run, ctx = runner(ClusterState(), dry_run=True)
    assert storage.upload_model(model, "my-iris", runner=run).startswith("s3://models/my-iris/")
    captured = capsys.readouterr()
    assert "no cluster here" in captured.err and "model store is not running" not in captured.err
    assert "<model-store-pod>" in captured.out and ctx.commands == []


def test_upload_model_refuses_another_cluster(tmp_path, monkeypatch):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: (["prod"], "prod"))
    model = tmp_path / "model.joblib"
    model.write_bytes(b"x")
    run, ctx = runner(ClusterState())
    with pytest.raises(WorkshopError, match="refusing"):
        storage.upload_model(model, "my-iris", context="prod", runner=run)
    assert ctx.commands == []


def test_components_expose_their_namespaces():
    assert {c.name: c.namespace for c in components(KIND) if c.namespace} == {
        "cert-manager": "cert-manager",
        "istio": "istio-system",
        "knative": "knative-serving",
        "kserve": "kserve",
        "monitoring": "monitoring",
        "storage": "model-store",
    }


# ----- the rendered objects pass the project's strict validator ----------------------------------


def rendered_core_objects() -> list[dict]:
    objects = seaweedfs.Storage(KIND).store_objects()
    objects += storage.credential_objects(storage.Credentials("AK", "SK"))
    objects += docs(P / "storage" / "model-access.yaml") + docs(P / "ingressclass.yaml")
    objects.append(monitoring.Monitoring(KIND).dashboards_configmap())
    objects += [o for o in Knative(KIND).serving_objects(get_profile("laptop")) if o["kind"] == "Namespace"]
    return [o for o in objects if o]


def test_rendered_core_objects_are_valid_kubernetes():
    from kserve_workshop import validate

    for obj in rendered_core_objects():
        found = validate.errors(validate.validate_object(obj))
        assert found == [], (obj["kind"], found)


def test_the_validator_would_catch_a_misspelt_field_in_them():
    from kserve_workshop import validate

    [deployment] = [o for o in rendered_core_objects() if o["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert validate.errors(validate.validate_object(deployment))
