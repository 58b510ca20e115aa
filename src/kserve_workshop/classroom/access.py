"""Learner credentials: a kubeconfig per learner holding a ServiceAccount token with an expiry,
and the model store's Secret copied into each learner namespace.

Both run as ``python -m kserve_workshop.classroom ...`` steps of the create plan (so the plan
stays a list of exact commands and a dry run creates nothing). What they write is private:

- kubeconfigs go only to the folder the instructor names (never inside a git work tree), mode 0600;
- the token comes from the TokenRequest API (``kubectl create token --duration``): it expires, is
  bound to the ServiceAccount (deleting the namespace revokes it) and is stored in no Secret;
- a learner kubeconfig carries that token and nothing else: no client certificate, no exec or
  auth-provider plugin, so none of the instructor's own (often cluster-admin) credentials.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import yaml

from ..errors import WorkshopError
from ..kube import kubectl_cmd
from ..plan import Runner
from .learners import LEARNER_SA, MODELS_SECRET, PART_OF

MIN_HOURS, MAX_HOURS = 1, 72
#: User fields that would carry someone else's credentials into a learner's kubeconfig.
FORBIDDEN_USER_FIELDS = (
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "exec",
    "auth-provider",
    "username",
    "password",
    "tokenFile",
    "as",
    "as-groups",
)


def check_hours(hours: Any) -> int:
    try:
        value = int(str(hours).strip())
    except ValueError:
        raise WorkshopError(f"--hours must be a whole number, got {hours!r}") from None
    if not MIN_HOURS <= value <= MAX_HOURS:
        raise WorkshopError(
            f"--hours must be {MIN_HOURS} to {MAX_HOURS}, got {value}",
            hint="a workshop day is 8 hours; tokens cannot be revoked one by one, so keep it short",
        )
    return value


def _inside_git_work_tree(path: Path) -> Path | None:
    for parent in (path, *path.parents):
        if (parent / ".git").exists():
            return parent
    return None


def check_out_dir(out: Any) -> Path:
    """The folder for learner kubeconfigs: required, and never inside a git work tree."""
    if not out or not str(out).strip():
        raise WorkshopError(
            "--out is required: the folder where the learners' kubeconfigs are written",
            hint="a private folder outside any git checkout, e.g. ~/workshop-kubeconfigs",
        )
    path = Path(str(out)).expanduser().resolve()
    repo = _inside_git_work_tree(path)
    if repo is not None:
        raise WorkshopError(
            f"refusing to write credentials inside the git work tree {repo}",
            hint="kubeconfigs hold tokens and must never be committed: choose a folder outside "
            "any checkout, e.g. ~/workshop-kubeconfigs",
        )
    if path.exists() and not path.is_dir():
        raise WorkshopError(f"--out {path} exists and is not a folder")
    return path


def kubeconfig_path(out_dir: Path, namespace: str) -> Path:
    return Path(out_dir) / f"{namespace}.kubeconfig"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (0600), also when the file existed before."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


# ----- tokens and kubeconfigs --------------------------------------------------------------------


def _jwt_payload(token: str) -> dict:
    """The claims of a JWT (unverified: only read to describe the token), {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, json.JSONDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def token_expiry(token: str) -> int | None:
    """The ``exp`` claim (Unix seconds) of a JWT, None when it has none or is not a JWT."""
    exp = _jwt_payload(token).get("exp")
    return int(exp) if isinstance(exp, (int, float)) else None


def cluster_of(view: dict, context: str) -> dict:
    """The ``cluster`` entry (server, CA) that ``context`` uses in ``kubectl config view -o json``."""
    contexts = {c.get("name"): c.get("context") or {} for c in view.get("contexts") or []}
    if context not in contexts:
        raise WorkshopError(
            f"kube context {context!r} is not in your kubeconfig", hint="list them with `kubectl config get-contexts`"
        )
    cluster_name = contexts[context].get("cluster")
    for entry in view.get("clusters") or []:
        if entry.get("name") == cluster_name:
            cluster = dict(entry.get("cluster") or {})
            if not cluster.get("server"):
                break
            return {
                key: cluster[key]
                for key in ("server", "certificate-authority-data", "tls-server-name", "insecure-skip-tls-verify")
                if key in cluster
            }
    raise WorkshopError(f"the kubeconfig has no server for context {context!r}")


def learner_kubeconfig(cluster: dict, namespace: str, token: str, cluster_name: str) -> dict:
    user = f"{namespace}-{LEARNER_SA}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster_name, "cluster": dict(cluster)}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": namespace, "context": {"cluster": cluster_name, "namespace": namespace, "user": user}}],
        "current-context": namespace,
    }


def check_learner_kubeconfig(config: dict) -> None:
    """Refuse a learner kubeconfig that carries anything but one ServiceAccount token."""
    users = config.get("users") or []
    if len(users) != 1:
        raise WorkshopError(f"a learner kubeconfig must hold exactly one user, found {len(users)}")
    user = users[0].get("user") or {}
    leaked = [key for key in FORBIDDEN_USER_FIELDS if key in user]
    if leaked or not user.get("token"):
        raise WorkshopError(
            "refusing to write a learner kubeconfig that carries "
            + (f"{', '.join(leaked)}" if leaked else "no token")
            + ": only the learner's own ServiceAccount token may be in it"
        )
    subject = _token_subject(user["token"])
    if subject is not None and not subject.startswith("system:serviceaccount:"):
        raise WorkshopError(f"the token in a learner kubeconfig belongs to {subject!r}, not to a ServiceAccount")


def _token_subject(token: str) -> str | None:
    return _jwt_payload(token).get("sub")


def write_learner_kubeconfig(runner: Runner, context: str, namespace: str, hours: int, out_dir: Path) -> Path:
    """Request a token for ``namespace``'s learner ServiceAccount and write its kubeconfig."""
    hours = check_hours(hours)
    out_dir = check_out_dir(out_dir)
    view_result = runner.run(
        ["kubectl", "config", "view", "--raw", "--minify", "--flatten", "--context", context, "--output", "json"]
    )
    try:
        view = json.loads(view_result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise WorkshopError(f"kubectl config view did not print JSON: {exc}") from None
    cluster = cluster_of(view, context)
    token_result = runner.run(
        kubectl_cmd(context, "create", "token", LEARNER_SA, "--namespace", namespace, "--duration", f"{hours}h")
    )
    token = (token_result.stdout or "").strip()
    if not token:
        raise WorkshopError(f"kubectl create token printed no token for {namespace}/{LEARNER_SA}")
    config = learner_kubeconfig(cluster, namespace, token, cluster_name=f"workshop-{context}")
    check_learner_kubeconfig(config)
    path = kubeconfig_path(out_dir, namespace)
    expiry = token_expiry(token)
    header = (
        f"# Kubeconfig of learner namespace {namespace}: a ServiceAccount token, "
        + (
            f"valid until {time.strftime('%Y-%m-%d %H:%M %Z', time.localtime(expiry))}"
            if expiry
            else "with the expiry the API server chose"
        )
        + ". Private: hand it to one learner, never commit it.\n"
    )
    write_private(path, header + yaml.safe_dump(config, sort_keys=False))
    return path


# ----- the model store's Secret ------------------------------------------------------------------

#: Path-style S3 addressing for KServe's agent (Lab 7 logs to the store): learners cannot annotate
#: a Secret themselves, and virtual-host names of the in-cluster store resolve nowhere.
PATH_STYLE_ANNOTATION = ("serving.kserve.io/s3-usevirtualbucket", "false")


def store_secret_copies(secret: dict | None, namespaces: list[str]) -> list[dict]:
    """Copies of the model store's ``kserve-models-s3`` Secret (as read from ``default``) for
    ``namespaces``: same keys and S3 annotations (path-style addressing added unless it says
    otherwise), new namespace, no server-set fields."""
    if not secret or not (secret.get("data") or {}).get("AWS_ACCESS_KEY_ID"):
        raise WorkshopError(
            f"the cluster has no model store Secret default/{MODELS_SECRET}",
            hint="install the model store first (`invoke platform.install --component storage`), "
            "or pass --no-model-store",
        )
    annotations = {
        key: value
        for key, value in ((secret.get("metadata") or {}).get("annotations") or {}).items()
        if key.startswith("serving.kserve.io/")
    }
    annotations.setdefault(*PATH_STYLE_ANNOTATION)
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": secret.get("type", "Opaque"),
            "metadata": {
                "name": MODELS_SECRET,
                "namespace": namespace,
                "labels": dict(PART_OF),
                "annotations": dict(annotations),
            },
            "data": dict(secret["data"]),
        }
        for namespace in namespaces
    ]


def write_store_secrets(runner: Runner, context: str, namespaces: list[str], path: Path) -> Path:
    found = runner.run(
        kubectl_cmd(context, "get", "secret", MODELS_SECRET, "--namespace", "default", "--output", "json"), check=False
    )
    secret = None
    if found is not None and found.exited == 0:
        try:
            secret = json.loads(found.stdout or "null")
        except json.JSONDecodeError:
            secret = None
    copies = store_secret_copies(secret, namespaces)
    write_private(
        Path(path),
        f"# Model store credentials for the learner namespaces of {context}: never commit.\n"
        + yaml.safe_dump_all(copies, sort_keys=False),
    )
    return Path(path)
