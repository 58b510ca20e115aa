"""The ``storage`` component: the in-cluster model store, installed, removed and checked.

SeaweedFS runs as one Deployment of the official image in ``weed server -s3`` mode on a
volume claim (``manifests/platform/storage/seaweedfs.yaml``, image pinned in versions.toml), so the
models survive a restart of the pod. KServe's own CI uses SeaweedFS too, differently: ``weed mini
-dir=/data -s3`` on an emptyDir (kserve ``config/overlays/test/s3-local-backend``). Why not
SeaweedFS's Helm chart: it runs master, volume, filer and S3 as separate workloads with their own
requests; a few MB of models need one small pod.

The store's addresses, credentials and uploads are in ``storage``.
"""

from __future__ import annotations

import copy
import sys

from ..errors import WorkshopError
from ..plan import Plan, Runner, Step
from ..versions import pin
from .base import (
    PLATFORM_MANIFESTS,
    Component,
    ComponentStatus,
    Profile,
    Workload,
    apply_file_step,
    deployments_ready,
    diagnosis,
    get_object,
    load_yaml_all,
    object_matches,
    requests_of,
    write_rendered,
)
from .storage import (
    BUCKET,
    CONTAINER,
    DEPLOYMENT,
    KSERVE_SECRET,
    LABS_NAMESPACE,
    NAMESPACE,
    SERVICE_ACCOUNT,
    STORE_SECRET,
    credentials_path,
)


STORE_MANIFEST = PLATFORM_MANIFESTS / "storage" / "seaweedfs.yaml"
ACCESS_MANIFEST = PLATFORM_MANIFESTS / "storage" / "model-access.yaml"


class Storage(Component):
    name = "storage"
    summary = "SeaweedFS model store (s3://models/...) with per-cluster credentials"

    @property
    def namespace(self) -> str:
        return NAMESPACE

    def pinned_version(self) -> str:
        return pin("seaweedfs")

    def image(self) -> str:
        return f"{pin('seaweedfs', 'image')}:{self.pinned_version()}"

    def store_objects(self) -> list[dict]:
        """Namespace, volume claim, Service and Deployment, with the pinned image."""
        objects = copy.deepcopy(load_yaml_all(STORE_MANIFEST))
        _container(_deployment(objects))["image"] = self.image()
        return objects

    def install_plan(self, profile: Profile) -> Plan:
        store = self.store_objects()
        store_path = write_rendered(self.context, "seaweedfs.yaml", store)
        creds_path = credentials_path(self.context)
        access = load_yaml_all(ACCESS_MANIFEST)
        explain = diagnosis(self.context, NAMESPACE)
        have_secrets = lambda runner: all(  # noqa: E731 - shared by two steps
            get_object(runner, self.context, "secret", name, namespace) is not None
            for name, namespace in ((STORE_SECRET, NAMESPACE), (KSERVE_SECRET, LABS_NAMESPACE))
        )
        return Plan(
            "storage",
            [
                apply_file_step(
                    self.context,
                    f"model store: namespace {NAMESPACE}, volume, Service, Deployment ({self.image()})",
                    store_path,
                    store,
                ),
                Step(
                    title="model store credentials (kept if the cluster has them, else generated)",
                    command=[
                        sys.executable,
                        "-m",
                        "kserve_workshop.platform",
                        "write-credentials",
                        "--context",
                        self.context,
                        str(creds_path),
                    ],
                    is_done=have_secrets,
                ),
                apply_file_step(
                    self.context,
                    f"Secrets {STORE_SECRET} and {LABS_NAMESPACE}/{KSERVE_SECRET}",
                    creds_path,
                    [],
                    is_done=have_secrets,
                ),
                Step(
                    title=f"wait for the model store (deployment/{DEPLOYMENT})",
                    waits=[
                        self.kubectl(
                            "rollout", "status", f"deployment/{DEPLOYMENT}", "--namespace", NAMESPACE, "--timeout=300s"
                        )
                    ],
                    is_done=lambda runner: self._rolled_out(runner),
                    diagnose=explain,
                ),
                Step(
                    title=f"bucket {BUCKET}",
                    command=self._exec(
                        "sh", "-c", f"{_bucket_listed()} || echo 's3.bucket.create -name {BUCKET}' | weed shell"
                    ),
                    is_done=lambda runner: runner.succeeds(self._exec("sh", "-c", _bucket_listed())),
                    diagnose=explain,
                ),
                apply_file_step(
                    self.context,
                    f"ServiceAccount {LABS_NAMESPACE}/{SERVICE_ACCOUNT} for InferenceServices",
                    ACCESS_MANIFEST,
                    access,
                ),
            ],
        )

    def uninstall_plan(self) -> Plan:
        access = load_yaml_all(ACCESS_MANIFEST)
        return Plan(
            "uninstall storage",
            [
                Step(
                    title=f"delete ServiceAccount {LABS_NAMESPACE}/{SERVICE_ACCOUNT}",
                    command=self.kubectl("delete", "--filename", str(ACCESS_MANIFEST), "--ignore-not-found"),
                    is_done=lambda runner: not any(object_matches(runner, self.context, obj) for obj in access),
                ),
                Step(
                    title=f"delete Secret {LABS_NAMESPACE}/{KSERVE_SECRET}",
                    command=self.kubectl(
                        "delete", "secret", KSERVE_SECRET, "--namespace", LABS_NAMESPACE, "--ignore-not-found"
                    ),
                    is_done=lambda runner: (
                        get_object(runner, self.context, "secret", KSERVE_SECRET, LABS_NAMESPACE) is None
                    ),
                ),
                Step(
                    title=f"delete namespace {NAMESPACE} (the store, its volume and every model in it)",
                    command=self.kubectl(
                        "delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", "--timeout=300s"
                    ),
                    is_done=lambda runner: get_object(runner, self.context, "namespace", NAMESPACE) is None,
                ),
            ],
        )

    def _exec(self, *argv: str) -> list[str]:
        return self.kubectl(
            "exec", "--namespace", NAMESPACE, f"deployment/{DEPLOYMENT}", "--container", CONTAINER, "--", *argv
        )

    def _deployment(self, runner: Runner) -> dict | None:
        return get_object(runner, self.context, "deployment", DEPLOYMENT, NAMESPACE)

    def _rolled_out(self, runner: Runner) -> bool:
        found = self._deployment(runner)
        if found is None:
            return False
        spec, status = found.get("spec") or {}, found.get("status") or {}
        replicas = spec.get("replicas", 1)
        return (
            status.get("observedGeneration") == (found.get("metadata") or {}).get("generation")
            and status.get("updatedReplicas") == replicas
            and status.get("availableReplicas") == replicas
        )

    def is_installed(self, runner: Runner) -> bool:
        return self.status(runner).ready

    def status(self, runner: Runner) -> ComponentStatus:
        found = self._deployment(runner)
        if found is None:
            return ComponentStatus(
                self.name, self.pinned_version(), None, False, f"no deployment {DEPLOYMENT} in {NAMESPACE}"
            )
        image = _container(found).get("image", "")
        installed = image.rsplit(":", 1)[1] if ":" in image else image
        ready, why = deployments_ready(runner, self.context, NAMESPACE, [DEPLOYMENT])
        missing = [
            f"{namespace}/{name}"
            for kind, name, namespace in (
                ("secret", STORE_SECRET, NAMESPACE),
                ("secret", KSERVE_SECRET, LABS_NAMESPACE),
                ("serviceaccount", SERVICE_ACCOUNT, LABS_NAMESPACE),
            )
            if get_object(runner, self.context, kind, name, namespace) is None
        ]
        if missing:
            ready, why = False, "missing: " + ", ".join(missing)
        elif ready and installed != self.pinned_version():
            ready, why = False, f"image {image}, pinned {self.image()}: run `invoke platform.install`"
        return ComponentStatus(self.name, self.pinned_version(), installed, ready, why)

    def requests(self, profile: Profile) -> list[Workload]:
        container = _container(_deployment(self.store_objects()))
        return [requests_of(self.name, DEPLOYMENT, container.get("resources"), source=STORE_MANIFEST.name)]


def _bucket_listed() -> str:
    return f"echo s3.bucket.list | weed shell | grep -qw {BUCKET}"


def _deployment(objects: list[dict]) -> dict:
    for obj in objects:
        if obj.get("kind") == "Deployment" and obj["metadata"]["name"] == DEPLOYMENT:
            return obj
    raise WorkshopError(f"{STORE_MANIFEST} has no Deployment {DEPLOYMENT}")


def _container(deployment: dict) -> dict:
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        if container.get("name") == CONTAINER:
            return container
    raise WorkshopError(f"Deployment {DEPLOYMENT} has no container {CONTAINER}")
