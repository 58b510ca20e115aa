"""Lab 6's image tasks: exact docker/kind commands and their order, pins from versions.toml and
pyproject.toml, the model file the image packages and the tag that names it, clear errors for bad
arguments, missing tools and failed steps."""

from __future__ import annotations

import hashlib
import os
import shlex
import stat
import subprocess
import sys
import tomllib

import pytest
from invoke import MockContext, Result

from kserve_workshop import image, paths
from kserve_workshop.custom.model_file import reference_model_source
from kserve_workshop.errors import WorkshopError
from kserve_workshop.plan import Runner
from kserve_workshop.platform import storage
from kserve_workshop.tasks import image as image_tasks
from kserve_workshop.versions import pin

VERSION = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
REPOSITORY = "kserve-workshop/custom-model"
DOCKERFILE = paths.REPO_ROOT / "docker" / "custom-model" / "Dockerfile"
DOCKER_UP = "docker info --format '{{.ServerVersion}}'"
REGISTRY = "europe-west1-docker.pkg.dev/my-project/workshop"
MY_MODEL = "import kserve\n\n\nclass Mine(kserve.Model):\n    pass\n"


def tag_of(text: str) -> str:
    """The image's tag for a model file's text: the project version and the start of the text's sha256."""
    return f"{REPOSITORY}:{VERSION}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def build_commands(cache, tag: str, *, model_file=None) -> list[str]:
    context = cache / "image-context"
    source = ["--model-file", str(model_file)] if model_file else ["--reference"]
    return [
        shlex.join([sys.executable, "-m", "kserve_workshop.image_context", "--into", str(context), *source]),
        DOCKER_UP,
        shlex.join(
            [
                "docker",
                "build",
                "--file",
                str(DOCKERFILE),
                "--build-arg",
                f"BASE_IMAGE={pin('custom_image', 'base_image')}",
                "--build-arg",
                f"KSERVE_VERSION={pin('python', 'kserve_sdk')}",
                "--build-arg",
                f"SCIKIT_LEARN_VERSION={pin('python', 'scikit_learn')}",
                "--tag",
                tag,
                str(context),
            ]
        ),
    ]


def inspect_command(tag: str) -> str:
    return f"docker image inspect --format '{{{{.Id}}}}' {tag}"


def load_command(tag: str, cluster: str = "kserve-workshop") -> str:
    return f"kind load docker-image {tag} --name {cluster}"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache of its own: no Lab 6 model file until a test writes one."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKSHOP_CACHE", str(folder))
    return folder


@pytest.fixture
def lab_file(cache):
    """Write Lab 6's model file (as its %%writefile cell does) and return its path."""

    def write(text: str = MY_MODEL):
        path = cache / "lab6" / "iris_model.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write


REFERENCE_TAG = tag_of(reference_model_source())
#: What the tasks use by default in a cache without Lab 6's file (the tests' ``cache`` fixture).
TAG = REFERENCE_TAG
REMOTE = f"{REGISTRY}/custom-model:{TAG.split(':')[1]}"
INSPECT = inspect_command(TAG)
LOAD = load_command(TAG)


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


# ----- names, pins and the model file ------------------------------------------------------


def test_without_the_labs_file_the_image_packages_the_worked_solution(cache):
    source = image.model_source()
    assert source.path is None and source.context_args() == ["--reference"]
    assert image.local_tag() == REFERENCE_TAG
    assert "class IrisTransformer(kserve.Model)" in source.text and "# BEGIN SOLUTION" in source.text


def test_once_the_lab_wrote_its_file_the_image_packages_it(lab_file):
    path = lab_file()
    source = image.model_source()
    assert source.path == path.resolve() and source.context_args() == ["--model-file", str(path.resolve())]
    assert image.local_tag() == tag_of(MY_MODEL) != REFERENCE_TAG


def test_a_named_file_wins_and_the_tag_follows_its_content(lab_file, tmp_path):
    lab_file()
    other = tmp_path / "other.py"
    other.write_text(MY_MODEL + "# changed\n")
    assert image.local_tag(other) == tag_of(MY_MODEL + "# changed\n")
    assert image.local_tag(other) != image.local_tag()
    other.write_text(MY_MODEL)
    assert image.local_tag(other) == image.local_tag()  # same text, same image


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("missing.py", None, "no model file at"),
        ("notes.txt", "hello", "is not a Python file"),
    ],
)
def test_a_bad_model_file_is_refused(tmp_path, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    for make in (image.model_source, image.local_tag, lambda f: image.build_plan(model_file=f)):
        with pytest.raises(WorkshopError, match=message):
            make(path)


def test_the_tag_follows_the_project_version(cache):
    repository, version = image.local_tag().split(":")
    assert repository == REPOSITORY == pin("custom_image", "repository")
    assert version.startswith(f"{VERSION}-") and len(version) == len(VERSION) + 13


def test_build_args_come_from_versions_toml():
    assert image.build_args() == {
        "BASE_IMAGE": pin("custom_image", "base_image"),
        "KSERVE_VERSION": pin("python", "kserve_sdk"),
        "SCIKIT_LEARN_VERSION": pin("python", "scikit_learn"),
    }
    # ... which are the project's own Python pins
    dependencies = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"kserve=={image.build_args()['KSERVE_VERSION']}" in dependencies
    assert f"scikit-learn=={image.build_args()['SCIKIT_LEARN_VERSION']}" in dependencies


# ----- plans -------------------------------------------------------------------------------------


def test_build_plan_commands(cache, lab_file):
    assert image.build_plan().commands() == build_commands(cache, REFERENCE_TAG)
    path = lab_file()
    assert image.build_plan().commands() == build_commands(cache, tag_of(MY_MODEL), model_file=path.resolve())


def test_build_plan_with_another_tag(cache):
    assert (
        image.build_plan("ghcr.io/me/custom:dev")
        .commands()[-1]
        .endswith(f"--tag ghcr.io/me/custom:dev {cache / 'image-context'}")
    )


def test_load_kind_plan_commands(cache, lab_file):
    assert image.load_kind_plan().commands() == [DOCKER_UP, inspect_command(REFERENCE_TAG), load_command(REFERENCE_TAG)]
    lab_file()
    tag = tag_of(MY_MODEL)
    assert image.load_kind_plan(cluster="other").commands()[-1] == load_command(tag, "other")


def test_push_plan_commands(cache):
    remote = f"{REGISTRY}/custom-model:{REFERENCE_TAG.split(':')[1]}"
    assert image.push_plan(REGISTRY).commands() == [
        DOCKER_UP,
        inspect_command(REFERENCE_TAG),
        f"docker tag {REFERENCE_TAG} {remote}",
        f"docker push {remote}",
    ]


def test_plans_run_in_order_through_the_runner(cache):
    commands = build_commands(cache, REFERENCE_TAG)
    ctx = MockContext(run={commands[0]: True, DOCKER_UP: Result("28.2.2\n"), commands[2]: True})
    Runner(ctx).execute(image.build_plan())
    assert ran(ctx) == commands


def test_the_plans_build_context_step_really_lays_out_the_context(cache, lab_file):
    lab_file()
    assemble = image.build_plan().steps[0].command
    done = subprocess.run(assemble, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    context = cache / "image-context"
    assert (context / "model" / "model.py").read_text() == MY_MODEL
    assert (context / "kserve_workshop" / "runtime" / "model_file_server.py").is_file()


@pytest.mark.parametrize(
    "registry, remote",
    [
        (REGISTRY + "/", f"{REGISTRY}/custom-model:{VERSION}"),
        ("ghcr.io/someone", f"ghcr.io/someone/custom-model:{VERSION}"),
        ("localhost:5001", f"localhost:5001/custom-model:{VERSION}"),
        ("docker.io/someone", f"docker.io/someone/custom-model:{VERSION}"),
    ],
)
def test_remote_tags(registry, remote):
    assert image.remote_tag(registry, f"{REPOSITORY}:{VERSION}") == remote


@pytest.mark.parametrize(
    "registry, message",
    [
        ("", "--registry is required"),
        ("https://ghcr.io/someone", "not a URL"),
        ("ghcr.io/someone:v1", "without a tag or digest"),
        ("ghcr.io/someone@sha256:" + "a" * 64, "without a tag or digest"),
        ("someone", "expected HOST[:PORT][/PATH]"),
        ("ghcr.io/Some One", "expected HOST[:PORT][/PATH]"),
        ("europe-west1-docker.pkg.dev/my-project", "an Artifact Registry path is REGION-docker.pkg.dev/PROJECT/REPO"),
        ("europe-west1-docker.pkg.dev/my-project/repo/extra", "an Artifact Registry path is"),
    ],
)
def test_bad_registries_are_refused(registry, message):
    with pytest.raises(WorkshopError, match=message.replace("[", r"\[").replace("]", r"\]")):
        image.push_plan(registry)


@pytest.mark.parametrize(
    "tag, message",
    [
        ("custom-model", "invalid image tag"),
        ("Custom:1", "invalid image tag"),
        ("custom model:1", "invalid image tag"),
        ("custom@sha256:" + "a" * 64, "invalid image tag"),
        ("kserve-workshop/custom-model:latest", "refusing the tag 'latest'"),
    ],
)
def test_bad_tags_are_refused(tag, message):
    for make in (image.build_plan, image.load_kind_plan, lambda t: image.push_plan(REGISTRY, t)):
        with pytest.raises(WorkshopError, match=message):
            make(tag)


# ----- tasks ---------------------------------------------------------------------------------


def test_build_task_runs_the_plan(tools, cache):
    tools("docker")
    commands = build_commands(cache, TAG)
    ctx = MockContext(run={commands[0]: True, DOCKER_UP: Result("28.2.2\n"), commands[2]: True})
    image_tasks.build(ctx)
    assert ran(ctx) == commands


def test_build_task_packages_a_named_model_file(tools, cache, tmp_path):
    tools("docker")
    mine = tmp_path / "mine.py"
    mine.write_text(MY_MODEL)
    commands = build_commands(cache, tag_of(MY_MODEL), model_file=mine)
    ctx = MockContext(run={commands[0]: True, DOCKER_UP: Result("28.2.2\n"), commands[2]: True})
    image_tasks.build(ctx, model_file=str(mine))
    assert ran(ctx) == commands


def test_dry_runs_print_and_run_nothing(capsys, tools, cache):
    ctx = MockContext(run={})
    image_tasks.build(ctx, dry_run=True)
    image_tasks.load_kind(ctx, dry_run=True)
    image_tasks.push(ctx, registry=REGISTRY, dry_run=True)
    assert ctx.run.call_args_list == []
    out = capsys.readouterr().out
    assert pin("custom_image", "base_image") in out and f"kind load docker-image {TAG}" in out
    assert f"docker push {REMOTE}" in out


def test_load_kind_task_checks_the_cluster_then_loads(cache, tools):
    tools("docker", "kind")
    ctx = MockContext(
        run={
            "kind get clusters": Result("kserve-workshop\n"),
            DOCKER_UP: Result("28\n"),
            INSPECT: Result("sha256:abc\n"),
            LOAD: True,
        }
    )
    image_tasks.load_kind(ctx)
    assert ran(ctx) == ["kind get clusters", DOCKER_UP, INSPECT, LOAD]


def test_load_kind_task_refuses_a_missing_cluster(tools):
    tools("docker", "kind")
    ctx = MockContext(run={"kind get clusters": Result("other\n")})
    with pytest.raises(WorkshopError, match="no kind cluster named 'kserve-workshop'") as caught:
        image_tasks.load_kind.body.__wrapped__(ctx)
    assert "invoke up" in caught.value.hint
    assert ran(ctx) == ["kind get clusters"]


def test_push_task_runs_the_plan(cache, tools):
    tools("docker")
    ctx = MockContext(
        run={
            DOCKER_UP: Result("28\n"),
            INSPECT: Result("sha256:abc\n"),
            f"docker tag {TAG} {REMOTE}": True,
            f"docker push {REMOTE}": True,
        }
    )
    image_tasks.push(ctx, registry=REGISTRY)
    assert ran(ctx)[-1] == f"docker push {REMOTE}"


def test_missing_tools_are_named(tools):
    tools("docker")  # no kind
    with pytest.raises(WorkshopError, match="missing tool\\(s\\): kind"):
        image_tasks.load_kind.body.__wrapped__(MockContext(run={}))


@pytest.mark.parametrize(
    "failing, hint",
    [
        (DOCKER_UP, "start Docker"),
        (INSPECT, "invoke image.build"),
        (f"docker push {REMOTE}", "gcloud auth configure-docker"),
    ],
)
def test_a_failed_step_says_what_to_do(cache, tools, failing, hint):
    tools("docker")
    answers = {
        DOCKER_UP: Result("28\n"),
        INSPECT: Result("sha256:abc\n"),
        f"docker tag {TAG} {REMOTE}": True,
        f"docker push {REMOTE}": True,
    }
    answers[failing] = Result(stderr="something went wrong\n", exited=1)
    ctx = MockContext(run=answers)
    with pytest.raises(WorkshopError, match="something went wrong") as caught:
        image_tasks.push.body.__wrapped__(ctx, registry=REGISTRY)
    assert hint in caught.value.hint
    assert ran(ctx)[-1] == failing  # nothing after the failed step ran


def test_bad_arguments_exit_with_one_message_and_no_traceback():
    for args, message in (
        (["image.push", "--dry-run"], "--registry is required"),
        (["image.build", "--tag", "Nope", "--dry-run"], "invalid image tag 'Nope'"),
        (["image.load-kind", "--tag", "x:latest", "--dry-run"], "refusing the tag 'latest'"),
        (["image.build", "--model-file", "no-such-file.py", "--dry-run"], "no model file at"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=paths.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert done.returncode == 1, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr


# ----- the image in manifests ----------------------------------------------------------------


def test_use_image_swaps_only_the_workshop_image():
    manifest = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "x"},
        "spec": {
            "transformer": {"containers": [{"name": "kserve-container", "image": TAG}]},
            "predictor": {
                "containers": [{"name": "kserve-container", "image": TAG}, {"name": "sidecar", "image": "busybox:1.36"}]
            },
        },
    }
    swapped = image.use_image(manifest, REMOTE)
    assert swapped["spec"]["transformer"]["containers"][0]["image"] == REMOTE
    assert [c["image"] for c in swapped["spec"]["predictor"]["containers"]] == [REMOTE, "busybox:1.36"]
    assert manifest["spec"]["transformer"]["containers"][0]["image"] == TAG  # a copy
    with pytest.raises(WorkshopError, match="invalid image tag"):
        image.use_image(manifest, "no tag")


def test_cluster_image_reads_the_environment(monkeypatch, cache):
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
    return [
        container
        for component in ("transformer", "predictor")
        for container in manifest["spec"][component].get("containers", [])
    ]


def test_the_lab_manifests_validate(isvc_schema):
    from kserve_workshop import validate

    files = sorted(LAB_MANIFESTS.glob("*.yaml"))
    assert [f.name for f in files] == ["iris-custom-predictor.yaml", "iris-transformer.yaml"]
    assert validate.validate_paths(files) == []


def test_the_manifests_run_the_image_the_tasks_build():
    for name in ("iris-transformer.yaml", "iris-custom-predictor.yaml"):
        manifest = lab_manifest(name)
        assert "namespace" not in manifest["metadata"], f"{name}: kubectl apply -n NAMESPACE places it"
        containers = workshop_containers(manifest)
        assert containers and {c["image"].split(":")[0] for c in containers} == {REPOSITORY}, name
        for container in containers:
            assert container["name"] == "kserve-container"
            assert container["imagePullPolicy"] == "IfNotPresent"  # kind-loaded, never pulled
            assert container["securityContext"]["runAsNonRoot"] is True
            assert set(container["resources"]) == {"requests", "limits"}
            assert "command" not in container, "the image's entrypoint serves the model file; args pick the class"


def _entrypoint() -> list[str]:
    import json

    line = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENTRYPOINT"))
    return json.loads(line.split(None, 1)[1])


def _parse(parser_module, argv):
    from kserve.model_server import parser as kserve_parser

    return parser_module.build_parser(kserve_parser).parse_args(argv)


def test_the_image_serves_the_model_file_it_copies():
    from kserve_workshop.runtime import model_file_server

    entrypoint = _entrypoint()
    assert entrypoint[:3] == ["python", "-m", model_file_server.__name__]
    args = _parse(model_file_server, [*entrypoint[3:], "--model_class", "X", "--model_name", "x"])
    assert args.model_file == image.MODEL_FILE_IN_IMAGE and args.host == "0.0.0.0"
    assert f"COPY model/model.py {image.MODEL_FILE_IN_IMAGE}" in DOCKERFILE.read_text()


def test_the_transformer_command_line_kserve_will_run_parses():
    from kserve_workshop.runtime import model_file_server

    manifest = lab_manifest("iris-transformer.yaml")
    (container,) = manifest["spec"]["transformer"]["containers"]
    # KServe leaves these to itself when the manifest does not set them (transformer_custom.go)
    assert not {"--model_name", "--predictor_host", "--http_port"} & set(container["args"])
    appended = [
        "--model_name",
        "iris-transformer",
        "--predictor_host",
        "iris-transformer-predictor.default",
        "--http_port",
        "8080",
    ]
    args = _parse(model_file_server, [*_entrypoint()[3:], *container["args"], *appended])
    assert (args.model_class, args.model_dir, args.host, args.predictor_protocol, args.model_name, args.http_port) == (
        "IrisTransformer",
        None,
        "0.0.0.0",
        "v1",
        "iris-transformer",
        8080,
    )
    predictor = manifest["spec"]["predictor"]
    assert predictor["model"]["runtime"] == "kserve-sklearnserver"
    # the model the lab trains, uploaded to the cluster's store, as the custom predictor's
    assert predictor["model"]["storageUri"] == LAB_MODEL_URI
    assert predictor["serviceAccountName"] == storage.SERVICE_ACCOUNT


def test_the_custom_predictor_command_line_parses():
    from kserve_workshop.runtime import model_file_server

    manifest = lab_manifest("iris-custom-predictor.yaml")
    (container,) = manifest["spec"]["predictor"]["containers"]
    args = _parse(model_file_server, [*_entrypoint()[3:], *container["args"]])
    # The transformer calls /v1/models/<InferenceService name>:predict: the predictor must use that name.
    assert args.model_name == manifest["metadata"]["name"]
    assert (args.model_class, args.host, args.http_port, args.model_dir) == (
        "IrisPredictor",
        "0.0.0.0",
        8080,
        "/mnt/models",
    )
    assert args.predictor_host is None
    (transformer,) = manifest["spec"]["transformer"]["containers"]
    assert (
        _parse(model_file_server, [*_entrypoint()[3:], *transformer["args"], "--model_name", "x"]).model_class
        == "IrisTransformer"
    )
    assert {"name": "STORAGE_URI", "value": LAB_MODEL_URI} in container["env"]
    assert manifest["spec"]["predictor"]["serviceAccountName"] == storage.SERVICE_ACCOUNT


def test_the_notebooks_manifests_carry_this_runs_image_and_model(tmp_path):
    from kserve_workshop.custom.cluster import CUSTOM_PREDICTOR_MANIFEST, TRANSFORMER_MANIFEST, write_lab_manifest
    from kserve_workshop.isvc import load_manifest, storage_uri_of

    uri, tag = storage.model_uri("lab6-iris", "0123456789abcdef"), tag_of(MY_MODEL)
    transformer = load_manifest(write_lab_manifest(TRANSFORMER_MANIFEST, tag, uri, tmp_path))
    assert storage_uri_of(transformer) == uri
    assert transformer["spec"]["transformer"]["containers"][0]["image"] == tag
    custom = load_manifest(write_lab_manifest(CUSTOM_PREDICTOR_MANIFEST, tag, uri, tmp_path))
    assert [c["image"] for c in workshop_containers(custom)] == [tag, tag]
    assert {"name": "STORAGE_URI", "value": uri} in custom["spec"]["predictor"]["containers"][0]["env"]
    with pytest.raises(WorkshopError, match="invalid image tag"):
        write_lab_manifest(TRANSFORMER_MANIFEST, "not a tag", uri, tmp_path)


# ----- getting the image into the lab's cluster -----------------------------------------------


def test_prepare_cluster_image_on_kind_builds_and_loads(cache, tmp_path):
    commands = build_commands(cache, TAG)
    ctx = MockContext(
        run={
            commands[0]: True,
            DOCKER_UP: Result("28\n"),
            commands[2]: True,
            INSPECT: Result("sha256:abc\n"),
            LOAD: True,
        }
    )
    assert image.prepare_cluster_image(ctx, "kind-kserve-workshop") == TAG
    assert ran(ctx) == [*commands, DOCKER_UP, INSPECT, LOAD]
    mine = tmp_path / "mine.py"
    mine.write_text(MY_MODEL)
    mine_commands = build_commands(cache, tag_of(MY_MODEL), model_file=mine)
    ctx = MockContext(
        run={
            mine_commands[0]: True,
            DOCKER_UP: Result("28\n"),
            mine_commands[2]: True,
            inspect_command(tag_of(MY_MODEL)): Result("sha256:abc\n"),
            load_command(tag_of(MY_MODEL)): True,
        }
    )
    assert image.prepare_cluster_image(ctx, "kind-kserve-workshop", model_file=mine) == tag_of(MY_MODEL)


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
