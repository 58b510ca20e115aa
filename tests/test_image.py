"""Lab 6's image tasks: exact docker/kind commands and their order, pins from versions.toml and
pyproject.toml, clear errors for bad arguments, missing tools and failed steps."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
import tomllib

import pytest
from invoke import MockContext, Result

from kserve_workshop import image, paths
from kserve_workshop.errors import WorkshopError
from kserve_workshop.plan import Runner
from kserve_workshop.platform import storage
from kserve_workshop.tasks import image as image_tasks
from kserve_workshop.versions import pin

VERSION = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
TAG = f"kserve-workshop/custom-model:{VERSION}"
DOCKERFILE = paths.REPO_ROOT / "docker" / "custom-model" / "Dockerfile"
DOCKER_UP = "docker info --format '{{.ServerVersion}}'"
BUILD = shlex.join([
    "docker", "build", "--file", str(DOCKERFILE),
    "--build-arg", f"BASE_IMAGE={pin('custom_image', 'base_image')}",
    "--build-arg", f"KSERVE_VERSION={pin('python', 'kserve_sdk')}",
    "--build-arg", f"SCIKIT_LEARN_VERSION={pin('python', 'scikit_learn')}",
    "--tag", TAG, str(paths.REPO_ROOT)])
INSPECT = f"docker image inspect --format '{{{{.Id}}}}' {TAG}"
LOAD = f"kind load docker-image {TAG} --name kserve-workshop"
REGISTRY = "europe-west1-docker.pkg.dev/my-project/workshop"
REMOTE = f"{REGISTRY}/custom-model:{VERSION}"


def ran(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in ctx.run.call_args_list]


@pytest.fixture
def tools(tmp_path, monkeypatch):
    """A bin directory with stand-ins for docker and kind, and nothing else on PATH.

    The stand-ins are never run (MockContext answers the commands); they make `require_tools` pass.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("WORKSHOP_BIN", str(bin_dir))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    def provide(*names):
        for name in names:
            tool = bin_dir / name
            tool.write_text("#!/bin/sh\nexit 99\n")
            tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return provide


# ----- names and pins --------------------------------------------------------------------------

def test_the_tag_follows_the_project_version():
    assert image.local_tag() == TAG
    assert TAG.split(":")[0] == pin("custom_image", "repository")


def test_build_args_come_from_versions_toml():
    assert image.build_args() == {"BASE_IMAGE": pin("custom_image", "base_image"),
                                  "KSERVE_VERSION": pin("python", "kserve_sdk"),
                                  "SCIKIT_LEARN_VERSION": pin("python", "scikit_learn")}
    # ... which are the project's own Python pins
    dependencies = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"kserve=={image.build_args()['KSERVE_VERSION']}" in dependencies
    assert f"scikit-learn=={image.build_args()['SCIKIT_LEARN_VERSION']}" in dependencies


# ----- plans -------------------------------------------------------------------------------------

def test_build_plan_commands():
    assert image.build_plan().commands() == [DOCKER_UP, BUILD]


def test_build_plan_with_another_tag():
    assert image.build_plan("ghcr.io/me/custom:dev").commands()[1].endswith(
        f"--tag ghcr.io/me/custom:dev {paths.REPO_ROOT}")


def test_load_kind_plan_commands():
    assert image.load_kind_plan().commands() == [DOCKER_UP, INSPECT, LOAD]
    assert image.load_kind_plan(cluster="other").commands()[-1] == f"kind load docker-image {TAG} --name other"


def test_push_plan_commands():
    assert image.push_plan(REGISTRY).commands() == [DOCKER_UP, INSPECT, f"docker tag {TAG} {REMOTE}",
                                                    f"docker push {REMOTE}"]


def test_plans_run_in_order_through_the_runner():
    ctx = MockContext(run={DOCKER_UP: Result("28.2.2\n"), BUILD: True})
    Runner(ctx).execute(image.build_plan())
    assert ran(ctx) == [DOCKER_UP, BUILD]


@pytest.mark.parametrize("registry, remote", [
    (REGISTRY + "/", REMOTE),
    ("ghcr.io/someone", f"ghcr.io/someone/custom-model:{VERSION}"),
    ("localhost:5001", f"localhost:5001/custom-model:{VERSION}"),
    ("docker.io/someone", f"docker.io/someone/custom-model:{VERSION}"),
])
def test_remote_tags(registry, remote):
    assert image.remote_tag(registry) == remote


@pytest.mark.parametrize("registry, message", [
    ("", "--registry is required"),
    ("https://ghcr.io/someone", "not a URL"),
    ("ghcr.io/someone:v1", "without a tag or digest"),
    ("ghcr.io/someone@sha256:" + "a" * 64, "without a tag or digest"),
    ("someone", "expected HOST[:PORT][/PATH]"),
    ("ghcr.io/Some One", "expected HOST[:PORT][/PATH]"),
    ("europe-west1-docker.pkg.dev/my-project", "an Artifact Registry path is REGION-docker.pkg.dev/PROJECT/REPO"),
    ("europe-west1-docker.pkg.dev/my-project/repo/extra", "an Artifact Registry path is"),
])
def test_bad_registries_are_refused(registry, message):
    with pytest.raises(WorkshopError, match=message.replace("[", r"\[").replace("]", r"\]")):
        image.push_plan(registry)


@pytest.mark.parametrize("tag, message", [
    ("custom-model", "invalid image tag"),
    ("Custom:1", "invalid image tag"),
    ("custom model:1", "invalid image tag"),
    ("custom@sha256:" + "a" * 64, "invalid image tag"),
    ("kserve-workshop/custom-model:latest", "refusing the tag 'latest'"),
])
def test_bad_tags_are_refused(tag, message):
    for make in (image.build_plan, image.load_kind_plan, lambda t: image.push_plan(REGISTRY, t)):
        with pytest.raises(WorkshopError, match=message):
            make(tag)


# ----- tasks ---------------------------------------------------------------------------------

def test_build_task_runs_the_plan(tools):
    tools("docker")
    ctx = MockContext(run={DOCKER_UP: Result("28.2.2\n"), BUILD: True})
    image_tasks.build(ctx)
    assert ran(ctx) == [DOCKER_UP, BUILD]


def test_dry_runs_print_and_run_nothing(capsys, tools):
    ctx = MockContext(run={})
    image_tasks.build(ctx, dry_run=True)
    image_tasks.load_kind(ctx, dry_run=True)
    image_tasks.push(ctx, registry=REGISTRY, dry_run=True)
    assert ctx.run.call_args_list == []
    out = capsys.readouterr().out
    assert pin("custom_image", "base_image") in out and f"kind load docker-image {TAG}" in out
    assert f"docker push {REMOTE}" in out


def test_load_kind_task_checks_the_cluster_then_loads(tools):
    tools("docker", "kind")
    ctx = MockContext(run={"kind get clusters": Result("kserve-workshop\n"), DOCKER_UP: Result("28\n"),
                           INSPECT: Result("sha256:abc\n"), LOAD: True})
    image_tasks.load_kind(ctx)
    assert ran(ctx) == ["kind get clusters", DOCKER_UP, INSPECT, LOAD]


def test_load_kind_task_refuses_a_missing_cluster(tools):
    tools("docker", "kind")
    ctx = MockContext(run={"kind get clusters": Result("other\n")})
    with pytest.raises(WorkshopError, match="no kind cluster named 'kserve-workshop'") as caught:
        image_tasks.load_kind.body.__wrapped__(ctx)
    assert "invoke up" in caught.value.hint
    assert ran(ctx) == ["kind get clusters"]


def test_push_task_runs_the_plan(tools):
    tools("docker")
    ctx = MockContext(run={DOCKER_UP: Result("28\n"), INSPECT: Result("sha256:abc\n"),
                           f"docker tag {TAG} {REMOTE}": True, f"docker push {REMOTE}": True})
    image_tasks.push(ctx, registry=REGISTRY)
    assert ran(ctx)[-1] == f"docker push {REMOTE}"


def test_missing_tools_are_named(tools):
    tools("docker")  # no kind
    with pytest.raises(WorkshopError, match="missing tool\\(s\\): kind"):
        image_tasks.load_kind.body.__wrapped__(MockContext(run={}))


@pytest.mark.parametrize("failing, hint", [
    (DOCKER_UP, "start Docker"),
    (INSPECT, "invoke image.build"),
    (f"docker push {REMOTE}", "gcloud auth configure-docker"),
])
def test_a_failed_step_says_what_to_do(tools, failing, hint):
    tools("docker")
    answers = {DOCKER_UP: Result("28\n"), INSPECT: Result("sha256:abc\n"), f"docker tag {TAG} {REMOTE}": True,
               f"docker push {REMOTE}": True}
    answers[failing] = Result(stderr="something went wrong\n", exited=1)
    ctx = MockContext(run=answers)
    with pytest.raises(WorkshopError, match="something went wrong") as caught:
        image_tasks.push.body.__wrapped__(ctx, registry=REGISTRY)
    assert hint in caught.value.hint
    assert ran(ctx)[-1] == failing  # nothing after the failed step ran


def test_bad_arguments_exit_with_one_message_and_no_traceback():
    for args, message in ((["image.push", "--dry-run"], "--registry is required"),
                          (["image.build", "--tag", "Nope", "--dry-run"], "invalid image tag 'Nope'"),
                          (["image.load-kind", "--tag", "x:latest", "--dry-run"], "refusing the tag 'latest'")):
        done = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=paths.REPO_ROOT, capture_output=True,
                              text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert done.returncode == 1, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr


# ----- the image in manifests ----------------------------------------------------------------

def test_use_image_swaps_only_the_workshop_image():
    manifest = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                "metadata": {"name": "x"},
                "spec": {"transformer": {"containers": [{"name": "kserve-container", "image": TAG}]},
                         "predictor": {"containers": [{"name": "kserve-container", "image": TAG},
                                                      {"name": "sidecar", "image": "busybox:1.36"}]}}}
    swapped = image.use_image(manifest, REMOTE)
    assert swapped["spec"]["transformer"]["containers"][0]["image"] == REMOTE
    assert [c["image"] for c in swapped["spec"]["predictor"]["containers"]] == [REMOTE, "busybox:1.36"]
    assert manifest["spec"]["transformer"]["containers"][0]["image"] == TAG  # a copy
    with pytest.raises(WorkshopError, match="invalid image tag"):
        image.use_image(manifest, "no tag")


def test_cluster_image_reads_the_environment(monkeypatch):
    monkeypatch.delenv(image.IMAGE_ENV, raising=False)
    assert image.cluster_image() == TAG
    monkeypatch.setenv(image.IMAGE_ENV, REMOTE)
    assert image.cluster_image() == REMOTE


# ----- the lab's manifests -----------------------------------------------------------------------

LAB_MANIFESTS = paths.MANIFESTS_DIR / "labs" / "06-custom-transformer"
#: Where the notebook uploads the lab's model (platform.storage.upload_model(..., "lab6-iris")).
LAB_MODEL_URI = storage.model_uri("lab6-iris")


def lab_manifest(name: str) -> dict:
    from kserve_workshop import serving

    return serving.load_manifest(LAB_MANIFESTS / name)


def workshop_containers(manifest: dict) -> list[dict]:
    return [container for component in ("transformer", "predictor")
            for container in manifest["spec"][component].get("containers", [])]


def test_the_lab_manifests_validate(isvc_schema):
    from kserve_workshop import validate

    files = sorted(LAB_MANIFESTS.glob("*.yaml"))
    assert [f.name for f in files] == ["iris-custom-predictor.yaml", "iris-transformer.yaml"]
    assert validate.validate_paths(files) == []


def test_the_manifests_run_the_image_the_tasks_build():
    for name in ("iris-transformer.yaml", "iris-custom-predictor.yaml"):
        containers = workshop_containers(lab_manifest(name))
        assert containers and {c["image"] for c in containers} == {TAG}, name
        for container in containers:
            assert container["name"] == "kserve-container"
            assert container["imagePullPolicy"] == "IfNotPresent"  # kind-loaded, never pulled
            assert container["securityContext"]["runAsNonRoot"] is True
            assert set(container["resources"]) == {"requests", "limits"}


def _entrypoint_args() -> list[str]:
    import json

    line = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENTRYPOINT"))
    return json.loads(line.split(None, 1)[1])[3:]


def _parse(parser_module, argv):
    from kserve.model_server import parser as kserve_parser

    return parser_module.build_parser(kserve_parser).parse_args(argv)


def test_the_transformer_command_line_kserve_will_run_parses():
    from kserve_workshop.runtime import transformer_server as server_main

    manifest = lab_manifest("iris-transformer.yaml")
    (container,) = manifest["spec"]["transformer"]["containers"]
    # KServe leaves these to itself when the manifest does not set them (transformer_custom.go)
    assert not {"--model_name", "--predictor_host", "--http_port"} & set(container["args"])
    appended = ["--model_name", "iris-transformer", "--predictor_host", "iris-transformer-predictor.default",
                "--http_port", "8080"]
    args = _parse(server_main, [*_entrypoint_args(), *container["args"], *appended])
    assert (args.host, args.predictor_protocol, args.model_name, args.http_port) == ("0.0.0.0", "v2",
                                                                                     "iris-transformer", 8080)
    predictor = manifest["spec"]["predictor"]
    assert predictor["model"]["runtime"] == "kserve-sklearnserver"
    # the model the lab trains, uploaded to the cluster's store, as the custom predictor's
    assert predictor["model"]["storageUri"] == LAB_MODEL_URI
    assert predictor["serviceAccountName"] == storage.SERVICE_ACCOUNT


def test_the_custom_predictor_command_line_parses():
    from kserve_workshop.runtime import sklearn_server

    manifest = lab_manifest("iris-custom-predictor.yaml")
    (container,) = manifest["spec"]["predictor"]["containers"]
    assert container["command"] == ["python", "-m", "kserve_workshop.runtime.sklearn_server"]
    args = _parse(sklearn_server, container["args"])
    # The transformer calls /v1/models/<InferenceService name>:predict: the predictor must use that name.
    assert args.model_name == manifest["metadata"]["name"]
    assert (args.host, args.http_port, args.model_dir) == ("0.0.0.0", 8080, "/mnt/models")
    assert {"name": "STORAGE_URI", "value": LAB_MODEL_URI} in container["env"]
    assert manifest["spec"]["predictor"]["serviceAccountName"] == storage.SERVICE_ACCOUNT


# ----- getting the image into the lab's cluster -----------------------------------------------

def test_prepare_cluster_image_on_kind_builds_and_loads():
    ctx = MockContext(run={DOCKER_UP: Result("28\n"), BUILD: True, INSPECT: Result("sha256:abc\n"), LOAD: True})
    assert image.prepare_cluster_image(ctx, "kind-kserve-workshop") == TAG
    assert ran(ctx) == [DOCKER_UP, BUILD, DOCKER_UP, INSPECT, LOAD]


def test_prepare_cluster_image_elsewhere_uses_the_pushed_image(monkeypatch):
    ctx = MockContext(run={})
    monkeypatch.setenv(image.IMAGE_ENV, REMOTE)
    assert image.prepare_cluster_image(ctx, "gke_my-project_europe-west1-b_kserve-workshop") == REMOTE
    assert ctx.run.call_args_list == []
    monkeypatch.setenv(image.IMAGE_ENV, "not an image")
    with pytest.raises(WorkshopError, match="invalid image tag"):
        image.prepare_cluster_image(ctx, "gke_my-project_europe-west1-b_kserve-workshop")
    monkeypatch.delenv(image.IMAGE_ENV)
    with pytest.raises(WorkshopError, match="is not a kind cluster") as caught:
        image.prepare_cluster_image(ctx, "gke_my-project_europe-west1-b_kserve-workshop")
    assert "invoke image.push --registry" in caught.value.hint
