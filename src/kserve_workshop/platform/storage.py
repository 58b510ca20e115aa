"""The in-cluster S3-compatible model store for models the learners train themselves.

SeaweedFS serves it from one pod; the component that installs it is ``platform.seaweedfs``.

Credentials are generated per cluster at install time (``secrets``) and live only in the cluster
(and in a mode-0600 file in the local cache, ``.cache/platform/<context>/``); they are never
committed. Two Secrets hold them:

- ``seaweedfs-s3-config`` (namespace ``model-store``): SeaweedFS's S3 identities, mounted into the pod;
- ``kserve-models-s3`` (namespace ``default``, the labs' namespace): the keys KServe's storage
  initializer reads, with the annotations ``serving.kserve.io/s3-endpoint``, ``s3-usehttps: "0"``
  and ``s3-region``. The ServiceAccount ``kserve-models`` lists it; an InferenceService that sets
  ``spec.predictor.serviceAccountName: kserve-models`` can read ``s3://models/...``.

Uploading needs nothing but kubectl: ``kubectl cp`` copies the file into the SeaweedFS pod, and
the ``weed`` CLI there writes it into the bucket through the filer (``upload_model``).

Uploads are content-addressed: a model goes to ``s3://models/<name>/<digest>/``, the digest being
the start of the file's SHA-256. KServe downloads a model once, when a pod starts, and rolls out a
new revision only when the InferenceService's spec changes; a model overwritten in place would
leave every pod serving the old one. With the digest in ``storageUri`` a changed model is a changed
spec, hence a new revision, and the versions a canary splits between stay side by side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ..errors import WorkshopError
from ..kube import cluster_silence, kubectl_cmd
from ..plan import Plan, Runner, Step
from .base import output_of, rendered_dir

NAMESPACE = "model-store"
DEPLOYMENT = "seaweedfs"
CONTAINER = "seaweedfs"
S3_PORT = 8333
#: In-cluster address of the S3 API (what KServe's storage initializer connects to).
ENDPOINT = f"{DEPLOYMENT}.{NAMESPACE}:{S3_PORT}"
REGION = "us-east-1"
BUCKET = "models"
#: The labs' namespace: where InferenceServices reading the store run.
LABS_NAMESPACE = "default"
SERVICE_ACCOUNT = "kserve-models"
KSERVE_SECRET = "kserve-models-s3"
STORE_SECRET = "seaweedfs-s3-config"
CREDENTIALS_FILE = "storage-credentials.yaml"
#: Files KServe's runtimes load (exactly one per model directory): sklearn .joblib/.pkl/.pickle,
#: LightGBM .bst, XGBoost .bst/.json/.ubj (kserve v0.20.0 python/<server>/<server>/model.py).
MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle", ".bst", ".json", ".ubj")
_MODEL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: The filer inside the pod: buckets are folders under /buckets.
FILER = "http://localhost:8888"
#: Hex digits of the SHA-256 kept in a model's path: 64 bits, plenty for one store's models.
DIGEST_LENGTH = 16
_DIGEST = re.compile(rf"^[0-9a-f]{{{DIGEST_LENGTH}}}$")


def model_uri(name: str, digest: str | None = None) -> str:
    """The storageUri of version ``digest`` of model ``name``: ``s3://models/<name>/<digest>``.

    Without a digest, the folder holding every uploaded version of ``name`` (not a servable model).
    """
    _check_model_name(name)
    if digest is None:
        return f"s3://{BUCKET}/{name}"
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise WorkshopError(f"invalid model digest {digest!r}", hint=f"{DIGEST_LENGTH} hex digits (model_digest(file))")
    return f"s3://{BUCKET}/{name}/{digest}"


def model_digest(model_file: str | os.PathLike) -> str:
    """The start of the file's SHA-256: what names this version of the model in the store."""
    path = _model_file(model_file)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:DIGEST_LENGTH]


def content_uri(model_file: str | os.PathLike, name: str) -> str:
    """The storageUri ``upload_model(model_file, name)`` returns, computed locally (no cluster needed)."""
    _check_model_name(name)
    return model_uri(name, model_digest(model_file))


def _model_file(model_file: str | os.PathLike) -> Path:
    """``model_file`` as a Path, refused when it is not a file KServe's runtimes would load."""
    path = Path(model_file)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix in MODEL_SUFFIXES)
        raise WorkshopError(
            f"{path} is a folder: pass the model file in it"
            + (f" ({', '.join(inside)})" if inside else " (there is none: train and save it first)"),
            hint=f"e.g. {path / (inside[0] if inside else 'model.joblib')}",
        )
    if not path.is_file():
        raise WorkshopError(f"model file not found: {path}", hint="train and save it first (training.save_model)")
    if path.suffix not in MODEL_SUFFIXES:
        raise WorkshopError(
            f"{path.name}: KServe's runtimes load {', '.join(MODEL_SUFFIXES)} files",
            hint="save the model with joblib.dump(model, 'model.joblib') (scikit-learn), "
            "or the library's save_model as model.bst (LightGBM) or model.json (XGBoost)",
        )
    return path


def _check_model_name(name: str) -> None:
    if not isinstance(name, str) or not _MODEL_NAME.match(name) or len(name) > 63:
        raise WorkshopError(
            f"invalid model name {name!r}",
            hint="use lowercase letters, digits and '-' (e.g. my-iris), at most 63 characters",
        )


# ----- credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str

    @classmethod
    def generate(cls) -> "Credentials":
        # Shaped like AWS keys: a 20-character id and a random secret.
        return cls(access_key=secrets.token_hex(10).upper(), secret_key=secrets.token_urlsafe(30))


def credential_objects(creds: Credentials) -> list[dict]:
    """The two Secrets holding ``creds`` (see the module docstring)."""
    identities = {
        "identities": [
            {
                "name": "workshop",
                "credentials": [{"accessKey": creds.access_key, "secretKey": creds.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    labels = {"app.kubernetes.io/part-of": "kserve-workshop"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": STORE_SECRET, "namespace": NAMESPACE, "labels": labels},
            "stringData": {"s3.json": json.dumps(identities, indent=2)},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": KSERVE_SECRET,
                "namespace": LABS_NAMESPACE,
                "labels": labels,
                "annotations": {
                    "serving.kserve.io/s3-endpoint": ENDPOINT,
                    "serving.kserve.io/s3-usehttps": "0",
                    "serving.kserve.io/s3-region": REGION,
                },
            },
            "stringData": {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key},
        },
    ]


def credentials_from_secret(secret: dict | None) -> Credentials | None:
    """The keys in a ``kserve-models-s3`` Secret as read from the API (base64 ``data``)."""
    data = (secret or {}).get("data") or {}
    try:
        return Credentials(
            access_key=base64.b64decode(data["AWS_ACCESS_KEY_ID"]).decode(),
            secret_key=base64.b64decode(data["AWS_SECRET_ACCESS_KEY"]).decode(),
        )
    except (KeyError, ValueError):
        return None


def credentials_from_file(path: Path) -> Credentials | None:
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except (OSError, yaml.YAMLError):
        return None
    for doc in docs:
        if (doc or {}).get("metadata", {}).get("name") == KSERVE_SECRET:
            data = doc.get("stringData") or {}
            if data.get("AWS_ACCESS_KEY_ID") and data.get("AWS_SECRET_ACCESS_KEY"):
                return Credentials(data["AWS_ACCESS_KEY_ID"], data["AWS_SECRET_ACCESS_KEY"])
    return None


def write_credentials(context: str, path: Path) -> Credentials:
    """Write the credential Secrets for ``context`` to ``path`` (mode 0600).

    Keeps the credentials the cluster already has (else those in ``path``; else new ones), so a
    reinstall never locks KServe out of a running store.
    """
    creds = _credentials_in_cluster(context) or credentials_from_file(path) or Credentials.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"# Model store credentials of kube context {context}: generated, never commit.\n")
        handle.write(yaml.safe_dump_all(credential_objects(creds), sort_keys=False))
    os.chmod(path, 0o600)
    return creds


def _credentials_in_cluster(context: str) -> Credentials | None:
    from ..tools import tool_env

    argv = kubectl_cmd(context, "get", "secret", KSERVE_SECRET, "--namespace", LABS_NAMESPACE, "--output", "json")
    try:
        found = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60, env=tool_env())
        return credentials_from_secret(json.loads(found.stdout)) if found.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None


def credentials_path(context: str) -> Path:
    return rendered_dir(context) / CREDENTIALS_FILE


# ----- uploading a model -------------------------------------------------------------------------


def upload_plan(context: str, model_file: Path, name: str, pod: str, digest: str | None = None) -> Plan:
    """Copy ``model_file`` to ``s3://models/<name>/<digest>/`` through pod ``pod`` of the store.

    Only that version's folder is emptied first (KServe's sklearn runtime wants exactly one model
    file in it); other versions of the model stay, for the revisions that serve them.
    """
    _check_model_name(name)
    digest = digest or model_digest(model_file)
    uri = model_uri(name, digest)
    folder = f"{name}/{digest}"
    staging = PurePosixPath("/tmp/upload") / name / digest

    def exec_(*argv: str) -> list[str]:
        return kubectl_cmd(context, "exec", "--namespace", NAMESPACE, pod, "--container", CONTAINER, "--", *argv)

    return Plan(
        f"upload {model_file.name} as {uri}",
        [
            Step(title="stage the file in the model store pod", command=exec_("mkdir", "-p", str(staging))),
            Step(
                title=f"copy {model_file}",
                command=kubectl_cmd(
                    context,
                    "cp",
                    str(model_file),
                    f"{NAMESPACE}/{pod}:{staging / model_file.name}",
                    "--container",
                    CONTAINER,
                ),
            ),
            Step(
                title=f"empty {uri} (one model file per version)",
                # `|| true`: a version uploaded for the first time has nothing to remove.
                command=exec_("sh", "-c", f"echo 'fs.rm -r /buckets/{BUCKET}/{folder}' | weed shell || true"),
            ),
            Step(
                title=f"write it to {uri}",
                command=exec_(
                    "weed", "filer.copy", str(staging / model_file.name), f"{FILER}/buckets/{BUCKET}/{folder}/"
                ),
            ),
            Step(title="clean up the staged copy", command=exec_("rm", "-rf", str(staging))),
        ],
    )


def store_pod(runner: Runner, context: str) -> str:
    """Name of the running SeaweedFS pod; WorkshopError when the store is not running."""
    argv = kubectl_cmd(
        context,
        "get",
        "pods",
        "--namespace",
        NAMESPACE,
        "--selector",
        f"app={DEPLOYMENT}",
        "--field-selector=status.phase=Running",
        "--output",
        "jsonpath={.items[0].metadata.name}",
    )
    result = runner.run(argv, check=False)
    name = (result.stdout or "").strip() if result is not None and result.exited == 0 else ""
    if not name:
        silent = cluster_silence(runner, context)  # a cluster that does not answer is not a missing store
        if silent:
            raise WorkshopError(
                f"the cluster of kube context {context!r} does not answer: {silent}",
                hint="is it running? `kubectl cluster-info`; a kind cluster needs Docker running (`invoke doctor`)",
            )
        detail = output_of(runner, kubectl_cmd(context, "get", "pods", "--namespace", NAMESPACE))
        raise WorkshopError(
            f"the model store is not running in {context}" + (f":\n{detail}" if detail else ""),
            hint="install it with `invoke platform.install --component storage`",
        )
    return name


def upload_model(
    model_file: str | os.PathLike,
    name: str,
    *,
    context: str | None = None,
    yes: bool = False,
    runner: Runner | None = None,
) -> str:
    """Upload a trained model file to the workshop's model store; returns its ``storageUri``.

    The URI is content-addressed (``s3://models/<name>/<digest>``, see the module docstring):
    put it in the InferenceService's ``storageUri`` (with ``serviceAccountName: kserve-models``),
    and a re-trained model rolls out as a new revision. ``context`` defaults to
    ``kube.lab_context()``, the same context the serving helpers use; a context that is not the
    workshop's needs ``yes=True`` (or ``$WORKSHOP_KUBE_CONTEXT`` naming it).
    """
    from invoke import Context

    from ..kube import guard_context, is_lab_context_named, kube_contexts, lab_context, require_tools

    path = _model_file(model_file)
    _check_model_name(name)
    dry_run = runner is not None and runner.dry_run
    if context is None and not dry_run:
        context = lab_context()
    context = guard_context(context, yes or is_lab_context_named(context or ""), dry_run=dry_run)
    digest = model_digest(path)
    if runner is None:
        require_tools("kubectl")
        runner = Runner(Context())
    if runner.dry_run and context not in kube_contexts()[0]:
        # No cluster to ask which pod serves the store: the plan names it by a placeholder, and says why.
        from ..console import warn

        warn(
            f"no cluster here: kube context {context!r} is not in your kubeconfig; the plan shows the model "
            "store's pod as <model-store-pod> (`invoke up` creates the workshop's cluster)"
        )
        pod = "<model-store-pod>"
    else:
        pod = store_pod(runner, context)
    runner.execute(upload_plan(context, path, name, pod, digest))
    return model_uri(name, digest)
