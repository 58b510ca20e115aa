"""Where a snapshot comes from: a live cluster (``LiveSource``) or a saved directory (``DirSource``).

Saved layout (each file is what the kubectl command beside it prints; only the first is required,
a list file may hold a ``List`` or a single object):

    inferenceservice.json   kubectl get inferenceservice NAME -n NS -o json
    ksvc.json               kubectl get ksvc -n NS -l serving.kserve.io/inferenceservice=NAME -o json
    revisions.json          kubectl get revisions.serving.knative.dev -n NS -l serving.kserve.io/inferenceservice=NAME -o json
    routes.json             kubectl get routes.serving.knative.dev -n NS -l serving.kserve.io/inferenceservice=NAME -o json
    pods.json               kubectl get pods -n NS -l serving.kserve.io/inferenceservice=NAME -o json
    events.json             kubectl get events -n NS -o json
    namespace.json          kubectl get namespace NS -o json
    logs/<pod>_<container>.log           kubectl logs POD -n NS -c CONTAINER --tail 50
    logs/<pod>_<container>.previous.log  kubectl logs POD -n NS -c CONTAINER --previous --tail 50
    snapshot.json           written by `invoke diagnose.snapshot`: name, namespace, origin, what was missing

``invoke diagnose.snapshot NAME --out DIR`` writes exactly this layout from a live cluster.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ..errors import WorkshopError
from ..kube.errors import status_code
from .shapes import check_meta, check_objects
from .snapshot import (
    ISVC_LABEL,
    MODEL_CONTAINER,
    STORAGE_INITIALIZER,
    LogKey,
    Snapshot,
    all_statuses,
    event_time,
    name_of,
)

ISVC_FILE = "inferenceservice.json"
LIST_FILES = {
    "ksvcs": "ksvc.json",
    "revisions": "revisions.json",
    "routes": "routes.json",
    "pods": "pods.json",
    "events": "events.json",
}
NAMESPACE_FILE = "namespace.json"
LOGS_DIR = "logs"
META_FILE = "snapshot.json"
LAYOUT_HINT = (
    "expected a directory saved by `invoke diagnose.snapshot NAME --out DIR`, holding at least "
    f"{ISVC_FILE} (kubectl get inferenceservice NAME -n NS -o json)"
)

KSERVE = ("serving.kserve.io", "v1beta1", "inferenceservices")
KNATIVE = {
    "ksvcs": ("serving.knative.dev", "v1", "services"),
    "revisions": ("serving.knative.dev", "v1", "revisions"),
    "routes": ("serving.knative.dev", "v1", "routes"),
}
KINDS = {
    "pods": ("v1", "Pod"),
    "events": ("v1", "Event"),
    "ksvcs": ("serving.knative.dev/v1", "Service"),
    "revisions": ("serving.knative.dev/v1", "Revision"),
    "routes": ("serving.knative.dev/v1", "Route"),
}
LOG_NAME_RE = re.compile(
    r"^(?P<pod>[a-z0-9][a-z0-9.-]*)_(?P<container>[a-z0-9][a-z0-9-]*?)(?P<previous>\.previous)?\.log$"
)


# --- saved directories ------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError as exc:
        raise WorkshopError(f"{path} is nested too deeply to be a Kubernetes object", hint=LAYOUT_HINT) from exc
    except json.JSONDecodeError as exc:
        raise WorkshopError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            hint="save it again with `kubectl get ... -o json > FILE` (not -o yaml), "
            "or with `invoke diagnose.snapshot`",
        ) from exc
    except UnicodeDecodeError as exc:
        raise WorkshopError(f"{path} is not a UTF-8 text file", hint=LAYOUT_HINT) from exc
    except OSError as exc:
        raise WorkshopError(f"cannot read {path}: {exc.strerror}") from exc


def _items(data: Any, path: Path) -> list[dict]:
    """Objects of a kubectl JSON output (a List, a single object, or a bare JSON array), each
    checked to be of the file's kind and to have the field types diagnosis reads (``shapes``)."""
    items = (
        data.get("items")
        if isinstance(data, dict) and "items" in data
        else (data if isinstance(data, list) else [data] if isinstance(data, dict) and data.get("kind") else None)
    )
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise WorkshopError(
            f"{path} does not hold Kubernetes objects (a List with items, or one object)", hint=LAYOUT_HINT
        )
    check_objects(path.name, items, str(path), hint=LAYOUT_HINT)
    return items


class DirSource:
    """Reads a snapshot saved as JSON files (the layout in this module's docstring)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def snapshot(self, name: str, namespace: str | None = None) -> Snapshot:
        folder = self.directory
        if not folder.is_dir():
            raise WorkshopError(f"{folder} is not a directory", hint=LAYOUT_HINT)
        isvc_path = folder / ISVC_FILE
        if not isvc_path.is_file():
            raise WorkshopError(f"{folder} has no {ISVC_FILE}", hint=LAYOUT_HINT)
        candidates = [o for o in _items(_read_json(isvc_path), isvc_path) if o.get("kind") == "InferenceService"]
        if not candidates:
            raise WorkshopError(f"{isvc_path} holds no InferenceService", hint=LAYOUT_HINT)
        isvc = next((o for o in candidates if name_of(o) == name), None)
        if isvc is None:
            raise WorkshopError(
                f"{isvc_path} holds InferenceService {name_of(candidates[0])!r}, not {name!r}",
                hint=f"run `invoke diagnose {name_of(candidates[0])} --from-dir {folder}`",
            )
        saved_ns = (isvc.get("metadata") or {}).get("namespace") or "default"
        if namespace and namespace != saved_ns:
            raise WorkshopError(
                f"{isvc_path} is from namespace {saved_ns!r}, not {namespace!r}",
                hint="leave out --namespace with --from-dir: the saved object says it",
            )
        snap = Snapshot(name=name, namespace=saved_ns, isvc=isvc, origin=f"saved directory {folder}")
        for attr, filename in LIST_FILES.items():
            path = folder / filename
            if path.is_file():
                setattr(snap, attr, _items(_read_json(path), path))
            else:
                snap.missing.append(f"{filename} (not saved)")
        ns_path = folder / NAMESPACE_FILE
        if ns_path.is_file():
            found = _items(_read_json(ns_path), ns_path)
            snap.namespace_obj = found[0] if found else None
        else:
            snap.missing.append(f"{NAMESPACE_FILE} (not saved)")
        self._read_logs(snap)
        meta_path = folder / META_FILE
        if meta_path.is_file():
            meta = _read_json(meta_path)
            check_meta(meta, str(meta_path), hint=LAYOUT_HINT)
            snap.origin += f", taken from {meta.get('origin', '?')} at {meta.get('saved_at', '?')}"
            snap.missing.extend(meta.get("missing") or [])
        return snap

    def _read_logs(self, snap: Snapshot) -> None:
        logs = self.directory / LOGS_DIR
        if not logs.is_dir():
            snap.missing.append(f"{LOGS_DIR}/ (no container logs saved)")
            return
        for path in sorted(logs.iterdir()):
            match = LOG_NAME_RE.match(path.name)
            if not match:
                snap.missing.append(f"{LOGS_DIR}/{path.name} (ignored: not named <pod>_<container>[.previous].log)")
                continue
            if not path.is_file():
                snap.missing.append(f"{LOGS_DIR}/{path.name} (ignored: not a file)")
                continue
            key = LogKey(match["pod"], match["container"], bool(match["previous"]))
            try:
                snap.logs[key] = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                snap.missing.append(f"{LOGS_DIR}/{path.name} (could not be read: {exc.strerror})")


# --- live clusters ------------------------------------------------------------------------------


class KubeReader(Protocol):
    """The read-only calls a live snapshot needs (one method per kind of object)."""

    def get_isvc(self, name: str, namespace: str) -> dict: ...
    def list_custom(self, group: str, version: str, plural: str, namespace: str, selector: str) -> list[dict]: ...
    def list_pods(self, namespace: str, selector: str) -> list[dict]: ...
    def list_events(self, namespace: str) -> list[dict]: ...
    def read_namespace(self, namespace: str) -> dict: ...
    def read_log(self, pod: str, namespace: str, container: str, previous: bool, tail: int) -> str: ...


class ClientReader:
    """``KubeReader`` over the official kubernetes client (JSON kept as kubectl prints it)."""

    def __init__(self, api_client: Any, timeout: float = 10):
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.timeout = timeout

    @staticmethod
    def _json(response: Any) -> Any:
        return json.loads(response.data)

    def get_isvc(self, name, namespace):
        group, version, plural = KSERVE
        return self.custom.get_namespaced_custom_object(
            group, version, namespace, plural, name, _request_timeout=self.timeout
        )

    def list_custom(self, group, version, plural, namespace, selector):
        return self.custom.list_namespaced_custom_object(
            group, version, namespace, plural, label_selector=selector, _request_timeout=self.timeout
        ).get("items", [])

    def list_pods(self, namespace, selector):
        return self._json(
            self.core.list_namespaced_pod(
                namespace, label_selector=selector, _preload_content=False, _request_timeout=self.timeout
            )
        ).get("items", [])

    def list_events(self, namespace):
        return self._json(
            self.core.list_namespaced_event(namespace, _preload_content=False, _request_timeout=self.timeout)
        ).get("items", [])

    def read_namespace(self, namespace):
        return self._json(self.core.read_namespace(namespace, _preload_content=False, _request_timeout=self.timeout))

    def read_log(self, pod, namespace, container, previous, tail):
        return self.core.read_namespaced_pod_log(
            pod, namespace, container=container, previous=previous, tail_lines=tail, _request_timeout=self.timeout
        )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _network_error(exc: Exception) -> str:
    """The telling part of urllib3's long connection errors ("Connection refused", "timed out", ...)."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^\"'()]+)", text) or re.search(
        r"(?i)(timed out|name resolution|"
        r"certificate verify failed[^\"'()]*)",
        text,
    )
    return match.group(1).strip() if match else _first_line(exc)


class LiveSource:
    """Gathers a snapshot from the cluster of a kube context (read-only; every call bounded)."""

    def __init__(
        self,
        context: str | None = None,
        *,
        reader: KubeReader | None = None,
        tail_lines: int = 50,
        max_pods: int = 3,
        timeout: float = 10,
    ):
        self.context = context
        self._reader = reader
        self.tail_lines = tail_lines
        self.max_pods = max_pods
        self.timeout = timeout
        self.server: str | None = None

    def reader(self) -> KubeReader:
        if self._reader is None:
            from kubernetes import client

            from ..kube.client import load_configuration

            where = f" for context {self.context!r}" if self.context else ""
            try:
                # One retry, not urllib3's default three: an unreachable cluster must fail within seconds.
                configuration = load_configuration(self.context, retries=1)
            except WorkshopError as exc:
                raise WorkshopError(
                    f"no usable kubeconfig{where}: {exc.message.split(': ', 1)[-1]}",
                    hint="create the workshop's cluster with `invoke up` (or point KUBECONFIG "
                    "at one), or diagnose a saved snapshot with --from-dir DIR",
                ) from exc
            self.server = configuration.host
            self._reader = ClientReader(client.ApiClient(configuration), self.timeout)
        return self._reader

    def snapshot(self, name: str, namespace: str | None = None) -> Snapshot:
        namespace = namespace or "default"
        reader = self.reader()
        origin = f"cluster (context {self.context})" if self.context else "cluster (current kube context)"
        try:
            isvc = reader.get_isvc(name, namespace)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear message
            raise self._isvc_error(exc, name, namespace) from exc
        snap = Snapshot(name=name, namespace=namespace, isvc=isvc, origin=origin)
        selector = f"{ISVC_LABEL}={name}"
        for attr, (group, version, plural) in KNATIVE.items():
            items = self._gather(
                snap, f"Knative {plural}", lambda: reader.list_custom(group, version, plural, namespace, selector)
            )
            setattr(snap, attr, _with_kind(items or [], attr))
        snap.pods = _with_kind(self._gather(snap, "pods", lambda: reader.list_pods(namespace, selector)) or [], "pods")
        events = self._gather(snap, "events", lambda: reader.list_events(namespace)) or []
        snap.events = _with_kind(events, "events")
        snap.events = snap.related_events()[-50:]
        snap.namespace_obj = self._gather(snap, f"namespace {namespace}", lambda: reader.read_namespace(namespace))
        for pod in snap.pods[: self.max_pods]:
            for container, previous in _logs_worth_reading(pod):
                key = LogKey(name_of(pod), container, previous)
                text = self._gather(
                    snap,
                    f"log {key.describe()}",
                    lambda: reader.read_log(key.pod, namespace, container, previous, self.tail_lines),
                    quiet_statuses={400},
                )
                if text:
                    snap.logs[key] = text
        return snap

    @staticmethod
    def _gather(snap: Snapshot, label: str, call, quiet_statuses: frozenset | set = frozenset()):
        """Run one read; on failure note what is missing and why, and carry on."""
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - a partial diagnosis beats none; the gap is reported
            status = status_code(exc)
            if status in quiet_statuses:
                return None
            if status == 404:
                snap.missing.append(f"{label} (the API does not exist: not installed, or Standard mode)")
            elif status == 403:
                snap.missing.append(f"{label} (forbidden for your user)")
            else:
                snap.missing.append(f"{label} ({_first_line(exc)})")
            return None

    def _isvc_error(self, exc: Exception, name: str, namespace: str) -> WorkshopError:
        status = status_code(exc)
        if status == 404:
            body = getattr(exc, "body", "") or ""
            if '"reason":"NotFound"' in body.replace(" ", "") and "inferenceservices" in body:
                return WorkshopError(
                    f"InferenceService {namespace}/{name} does not exist",
                    hint=f"list them with: kubectl get inferenceservices -n {namespace}",
                )
            return WorkshopError(
                "this cluster has no InferenceService API: KServe is not installed",
                hint="install the platform with `invoke up`",
            )
        if status == 403:
            return WorkshopError(f"your user may not read InferenceServices in {namespace}")
        if status is not None:
            return WorkshopError(
                f"reading InferenceService {namespace}/{name} failed: HTTP {status} {getattr(exc, 'reason', '')}"
            )
        where = f"context {self.context!r}" if self.context else "the current kube context"
        server = f" at {self.server}" if self.server else ""
        return WorkshopError(
            f"cannot reach the cluster of {where}{server}: {_network_error(exc)}",
            hint="is the cluster running? (kubectl cluster-info) Or use --from-dir DIR",
        )


def _with_kind(items: list[dict], attr: str) -> list[dict]:
    """List items from the API lack apiVersion/kind; add them as kubectl does."""
    api_version, kind = KINDS[attr]
    return [{"apiVersion": api_version, "kind": kind, **item} for item in items]


def _logs_worth_reading(pod: dict) -> list[tuple[str, bool]]:
    """(container, previous) logs that can explain a failure: the model server, the storage
    initializer, and any container that has crashed; the previous run's log when there was one."""
    wanted = []
    for _, status in all_statuses(pod):
        container = status.get("name", "")
        state, last = status.get("state") or {}, status.get("lastState") or {}
        crashed = bool(last.get("terminated")) or bool(state.get("terminated") and state["terminated"].get("exitCode"))
        if container not in (MODEL_CONTAINER, STORAGE_INITIALIZER) and not crashed:
            continue
        if state.get("running") or state.get("terminated"):
            wanted.append((container, False))
        if last.get("terminated"):
            wanted.append((container, True))
    return wanted


# --- saving ----------------------------------------------------------------------------------

SECRET_ENV_RE = re.compile(r"(?i)key|secret|token|passw|credential")


def _redacted(obj: dict) -> dict:
    """A copy safe to send to someone: no managedFields, no last-applied copy, no secret-looking env values."""
    obj = json.loads(json.dumps(obj))
    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    spec = obj.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if "value" in env and SECRET_ENV_RE.search(env.get("name", "")):
                env["value"] = "<redacted>"
    return obj


def _as_list(items: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [_redacted(i) for i in items],
        "metadata": {"resourceVersion": ""},
    }


def check_output_dir(directory: str | Path) -> Path:
    """A snapshot goes into a new or empty directory (never mixed with older files)."""
    folder = Path(directory)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise WorkshopError(
            f"{folder} exists and is not an empty directory", hint="choose a new directory for the snapshot"
        )
    return folder


def save_snapshot(snap: Snapshot, directory: str | Path) -> list[Path]:
    """Write ``snap`` in the saved layout; refuses a non-empty directory. Returns the files written."""
    folder = check_output_dir(directory)
    (folder / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    written = []

    def write(name: str, data: Any) -> None:
        path = folder / name
        path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        written.append(path)

    write(ISVC_FILE, _redacted(snap.isvc))
    for attr, filename in LIST_FILES.items():
        items = getattr(snap, attr)
        write(filename, _as_list(sorted(items, key=event_time) if attr == "events" else items))
    if snap.namespace_obj is not None:
        write(NAMESPACE_FILE, _redacted(snap.namespace_obj))
    for key, text in sorted(snap.logs.items(), key=lambda kv: (kv[0].pod, kv[0].container, kv[0].previous)):
        path = folder / LOGS_DIR / f"{key.pod}_{key.container}{'.previous' if key.previous else ''}.log"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    write(
        META_FILE,
        {
            "name": snap.name,
            "namespace": snap.namespace,
            "origin": snap.origin,
            "saved_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "missing": snap.missing,
        },
    )
    return written
