"""The custom server image of Lab 6 (docker/custom-model/Dockerfile): build, load into kind, push.

The image runs a model file: the ``kserve.Model`` classes Lab 6's learner writes in a
``%%writefile`` cell (``custom.model_file``). By default that is the lab's own file
(``.cache/lab6/iris_model.py``); before the learner has written it, the master notebook's worked
solution. The tag names the file's content (``<project version>-<first 12 hex of its sha256>``), so
a changed file is a new image and a new revision of the InferenceServices that run it.

Each action is a ``plan.Plan`` (exact commands, pins from versions.toml), printed by ``--dry-run``
and asserted by the tests:

- build: lay out the build context (``image_context``: the runtime package and the model file,
  nothing else) in the cache, then ``docker build`` with the pinned base image, kserve and
  scikit-learn as build args, tagged ``kserve-workshop/custom-model:<version>-<digest>``;
- load into kind: ``kind load docker-image <tag> --name kserve-workshop`` (no registry needed; the
  notebook puts the same tag in the lab's manifests with ``use_image``, pulled ``IfNotPresent``);
- push for GKE: ``docker tag`` + ``docker push`` to a registry given by the user, e.g. Artifact
  Registry ``REGION-docker.pkg.dev/PROJECT/REPO`` (create it with ``gcloud artifacts repositories
  create REPO --repository-format=docker --location=REGION`` and let Docker log in with ``gcloud auth
  configure-docker REGION-docker.pkg.dev``), then set that image in the manifests.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from . import paths
from .errors import WorkshopError
from .kube import WORKSHOP_CLUSTER
from .plan import Plan, Runner, Step
from .versions import pin

DOCKERFILE = paths.REPO_ROOT / "docker" / "custom-model" / "Dockerfile"
#: Where the image's model file is (the Dockerfile copies it there; the ENTRYPOINT serves it).
MODEL_FILE_IN_IMAGE = "/app/model/model.py"
DIGEST_LENGTH = 12
#: Lets the lab's notebook use an image pushed elsewhere (GKE) instead of the kind-loaded tag.
IMAGE_ENV = "WORKSHOP_CUSTOM_IMAGE"

# Docker's reference grammar (distribution/reference), restricted to what the workshop needs.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
# A registry host has a dot or a port, or is localhost ("kserve-workshop/x" is a Docker Hub name).
_HOST = r"(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?|[a-z0-9-]+:\d+"
_TAG = r"[\w][\w.-]{0,127}"
_REFERENCE_RE = re.compile(rf"^(?:(?:{_HOST})/)?{_COMPONENT}(?:/{_COMPONENT})*:{_TAG}$")
_REGISTRY_RE = re.compile(rf"^(?:{_HOST})(?:/{_COMPONENT})*$")
_ARTIFACT_REGISTRY_RE = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$")


def project_version() -> str:
    """The project's version, from pyproject.toml (the image tag follows it)."""
    try:
        with (paths.REPO_ROOT / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise WorkshopError(f"cannot read the project version from pyproject.toml: {exc}") from exc


@dataclass(frozen=True)
class ModelSource:
    """The model file an image packages: a file (``path``), or the lab's worked solution (``path`` None)."""

    path: Path | None
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]

    @property
    def label(self) -> str:
        return (
            str(self.path)
            if self.path is not None
            else "Lab 6's worked solution (notebooks/06-custom-transformer.ipynb)"
        )

    def context_args(self) -> list[str]:
        """The ``image_context`` flags that package it."""
        return ["--model-file", str(self.path)] if self.path is not None else ["--reference"]


def model_source(model_file: str | Path | None = None) -> ModelSource:
    """``model_file``; by default Lab 6's file when the lab has written it, else its worked solution."""
    from .custom.model_file import lab_model_file, reference_model_source
    from .runtime.model_file import check_model_file

    if model_file is None and not lab_model_file().is_file():
        return ModelSource(None, reference_model_source())
    path = check_model_file(model_file if model_file is not None else lab_model_file())
    return ModelSource(path, path.read_text(encoding="utf-8"))


def local_tag(model_file: str | Path | ModelSource | None = None) -> str:
    """``kserve-workshop/custom-model:<project version>-<digest of the model file>``: what build makes."""
    source = model_file if isinstance(model_file, ModelSource) else model_source(model_file)
    return f"{pin('custom_image', 'repository')}:{project_version()}-{source.digest}"


def context_dir() -> Path:
    """Where the build context is laid out (replaced at each build)."""
    return paths.cache_dir() / "image-context"


def cluster_image(model_file: str | Path | None = None) -> str:
    """The image the lab's InferenceServices should run: ``$WORKSHOP_CUSTOM_IMAGE`` or the local tag."""
    return os.environ.get(IMAGE_ENV) or local_tag(model_file)


def build_args() -> dict[str, str]:
    """The Dockerfile's build arguments, all from versions.toml."""
    return {
        "BASE_IMAGE": pin("custom_image", "base_image"),
        "KSERVE_VERSION": pin("python", "kserve_sdk"),
        "SCIKIT_LEARN_VERSION": pin("python", "scikit_learn"),
    }


def check_tag(tag: Any) -> str:
    """An image reference ``[host/]name:tag`` (lower-case name, explicit tag, no digest)."""
    if not isinstance(tag, str) or not _REFERENCE_RE.match(tag):
        raise WorkshopError(
            f"invalid image tag {tag!r}",
            hint=f"use NAME:TAG in lower case, e.g. {pin('custom_image', 'repository')}:dev",
        )
    if tag.rsplit(":", 1)[1] == "latest":
        raise WorkshopError(
            "refusing the tag 'latest': Kubernetes would always pull it, so a kind-loaded image would not be used",
            hint="use a version, e.g. the default tag",
        )
    return tag


def check_registry(registry: Any) -> str:
    """A registry path to push to, e.g. ``europe-west1-docker.pkg.dev/my-project/workshop``."""
    example = "REGION-docker.pkg.dev/PROJECT/REPO, e.g. europe-west1-docker.pkg.dev/my-project/workshop"
    if not isinstance(registry, str) or not registry.strip():
        raise WorkshopError("--registry is required", hint=f"Artifact Registry: {example}")
    value = registry.strip().rstrip("/")
    if "://" in value:
        raise WorkshopError(
            f"--registry takes a registry path, not a URL: {registry!r}",
            hint=f"drop the scheme: {value.split('://', 1)[1]}",
        )
    if "@" in value or (":" in value.split("/")[-1] and "/" in value):
        raise WorkshopError(
            f"--registry names where images go, without a tag or digest: {registry!r}",
            hint=f"Artifact Registry: {example}",
        )
    if not _REGISTRY_RE.match(value):
        raise WorkshopError(
            f"invalid registry {registry!r}: expected HOST[:PORT][/PATH] in lower case",
            hint=f"Artifact Registry: {example}",
        )
    host, *path = value.split("/")
    if _ARTIFACT_REGISTRY_RE.match(host) and len(path) != 2:
        raise WorkshopError(
            f"an Artifact Registry path is {example}; got {registry!r}",
            hint="create one with `gcloud artifacts repositories create REPO "
            "--repository-format=docker --location=REGION`",
        )
    return value


def remote_tag(registry: str, tag: str | None = None) -> str:
    """Where ``tag`` goes in ``registry``: ``<registry>/custom-model:<version>``."""
    name, version = check_tag(tag or local_tag()).rsplit(":", 1)
    return f"{check_registry(registry)}/{name.rsplit('/', 1)[-1]}:{version}"


def _docker_running() -> Step:
    return Step(
        title="check that Docker's engine answers",
        command=["docker", "info", "--format", "{{.ServerVersion}}"],
        hint="start Docker (Docker Desktop, or `sudo systemctl start docker`); `invoke doctor` checks it",
    )


def _image_present(tag: str) -> Step:
    return Step(
        title=f"check that image {tag} exists locally",
        command=["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        hint="build the image first: `invoke image.build`",
    )


def build_plan(tag: str | None = None, model_file: str | Path | ModelSource | None = None) -> Plan:
    """Build the custom server image, packaging ``model_file`` (see ``model_source``)."""
    source = model_file if isinstance(model_file, ModelSource) else model_source(model_file)
    tag = check_tag(tag or local_tag(source))
    if not DOCKERFILE.is_file():
        raise WorkshopError(f"Dockerfile not found: {DOCKERFILE}")
    context = context_dir()
    assemble = Step(
        title=f"build context in {context}: the runtime package and {source.label}",
        command=[sys.executable, "-m", "kserve_workshop.image_context", "--into", str(context), *source.context_args()],
        hint="the model file must compile and define a kserve.Model subclass: fix it in Lab 6's %%writefile cell",
    )
    command = ["docker", "build", "--file", str(DOCKERFILE)]
    for key, value in build_args().items():
        command += ["--build-arg", f"{key}={value}"]
    command += ["--tag", tag, str(context)]
    return Plan(
        f"build image {tag}",
        [
            assemble,
            _docker_running(),
            Step(title=f"build {tag}", command=command, hint="the build output above says which step failed"),
        ],
    )


def load_kind_plan(
    tag: str | None = None, cluster: str = WORKSHOP_CLUSTER, model_file: str | Path | None = None
) -> Plan:
    """Copy the image into the kind cluster's node (no registry involved)."""
    tag = check_tag(tag or local_tag(model_file))
    return Plan(
        f"load image {tag} into kind cluster {cluster}",
        [
            _docker_running(),
            _image_present(tag),
            Step(
                title=f"load {tag} into kind cluster {cluster}",
                command=["kind", "load", "docker-image", tag, "--name", cluster],
                hint="is the kind cluster up? `invoke up` creates it",
            ),
        ],
    )


def push_plan(registry: str, tag: str | None = None, model_file: str | Path | None = None) -> Plan:
    """Tag the image for ``registry`` and push it there (for GKE)."""
    tag = check_tag(tag or local_tag(model_file))
    target = remote_tag(registry, tag)
    return Plan(
        f"push image {tag} as {target}",
        [
            _docker_running(),
            _image_present(tag),
            Step(title=f"tag {tag} as {target}", command=["docker", "tag", tag, target]),
            Step(
                title=f"push {target}",
                command=["docker", "push", target],
                hint="let Docker log in to the registry, e.g. `gcloud auth configure-docker REGION-docker.pkg.dev`, "
                "and check the repository exists",
            ),
        ],
    )


def shown(plan: Plan) -> str:
    """``plan.render()`` with this machine's paths made relative (for notebooks and docs)."""
    text = plan.render().replace(sys.executable, "python")
    for path, shown_as in ((paths.cache_dir(), ".cache"), (paths.REPO_ROOT, ".")):
        text = text.replace(str(path), shown_as)
    return text


def execute(ctx: Any, plan: Plan, *, dry_run: bool = False) -> list[str]:
    """Run (or print) ``plan``; a failed step's error carries the step's hint."""
    return Runner(ctx, dry_run=dry_run).execute(plan)


def use_image(manifest: Mapping, image: str) -> dict:
    """A copy of an InferenceService whose workshop-image containers run ``image`` instead."""
    check_tag(image)
    repository = pin("custom_image", "repository")
    updated = copy.deepcopy(dict(manifest))
    for component in ("predictor", "transformer"):
        for container in ((updated.get("spec") or {}).get(component) or {}).get("containers") or []:
            if str(container.get("image", "")).split(":", 1)[0] == repository:
                container["image"] = image
    return updated


def prepare_cluster_image(ctx: Any = None, context: str | None = None, model_file: str | Path | None = None) -> str:
    """Make the lab's image, packaging ``model_file``, available to the cluster of kube ``context``.

    - kind (``kind-<name>``): build the image (Docker's layer cache makes a rebuild quick) and load
      it into the cluster's node; returns its tag (``local_tag(model_file)``).
    - any other cluster (GKE): nothing is built here; the image must have been pushed with
      ``invoke image.push --registry ...`` and named in ``$WORKSHOP_CUSTOM_IMAGE``.
    """
    from .kube import lab_context

    context = lab_context(context)
    if context and context.startswith("kind-"):
        if ctx is None:
            from invoke import Context

            ctx = Context()
        source = model_source(model_file)
        tag = local_tag(source)
        execute(ctx, build_plan(tag, source))
        execute(ctx, load_kind_plan(tag, context.removeprefix("kind-")))
        return tag
    pushed = os.environ.get(IMAGE_ENV)
    if not pushed:
        raise WorkshopError(
            f"kube context {context!r} is not a kind cluster, so the image cannot be loaded into it; "
            f"it must come from a registry and ${IMAGE_ENV} must name it",
            hint=f"`invoke image.build` and `invoke image.push --registry REGION-docker.pkg.dev/"
            f"PROJECT/REPO`, then `export {IMAGE_ENV}=<the pushed image>` and restart the kernel",
        )
    return check_tag(pushed)
