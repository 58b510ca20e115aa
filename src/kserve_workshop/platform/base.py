"""The contract every platform component keeps, and the pieces their plans are built from.

A component (cert-manager, Istio, ...) knows, for one kube context:

- ``install_plan(profile)`` / ``uninstall_plan()``: a ``Plan`` of exact ``helm``/``kubectl``
  commands, each naming the context, each step with a check that skips it when already done;
- ``is_installed(runner)`` and ``status(runner)`` (pinned vs installed version, ready or why not);
- ``requests(profile)``: the CPU/memory its pods request, read from the same values files and
  objects the plan applies (``platform.budget`` adds them up).

Objects that carry a pin (KnativeServing's version, the model store's image) are kept in
``manifests/platform`` without it, rendered with the pin from versions.toml into the cache, and
applied from there with ``kubectl apply -f FILE`` (a file, not stdin: fast, and the exact file
can be read after a dry run).
"""

from __future__ import annotations

import json
import re
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, Sequence

import yaml

from ..errors import WorkshopError
from ..kube import helm_cmd, kubectl_cmd
from ..paths import MANIFESTS_DIR, cache_dir
from ..plan import Plan, Runner, Step, output_of  # noqa: F401 - output_of: re-exported for the components

if TYPE_CHECKING:
    from .helm import HelmRelease

PLATFORM_MANIFESTS = MANIFESTS_DIR / "platform"
#: Field manager for server-side apply: objects the workshop owns.
FIELD_MANAGER = "kserve-workshop"
#: Bounded waits (kubectl --timeout) per kind of work.
POD_TIMEOUT = "300s"


# ----- profiles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Where the platform runs. Requests are laptop-sized in every profile (GKE nodes have room,
    but nothing is gained by reserving more); what differs is networking and image pulls."""

    name: str
    description: str
    #: kind: the gateway is a NodePort (31080) that the kind config maps to 127.0.0.1:8080, and
    #: Knative skips tag resolution for images loaded with `kind load` (kind.local, dev.local...).
    on_kind: bool
    #: Pull KServe's controller image only when the node lacks it (imagePullPolicy IfNotPresent):
    #: an image put on the node beforehand (`invoke images.preload`, i.e. `kind load docker-image`)
    #: is used as it is. `up --profile ci` does not preload by itself; without it the image is
    #: pulled once, as on a laptop.
    controller_if_not_present: bool = False


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("laptop", "kind on a laptop: ingress on http://127.0.0.1:8080, laptop-sized requests", on_kind=True),
        Profile(
            "ci",
            "kind in CI: as laptop, and KServe's controller image is pulled only when the node lacks it",
            on_kind=True,
            controller_if_not_present=True,
        ),
        Profile("gke", "GKE: ingress through a LoadBalancer IP, the same small requests", on_kind=False),
    )
}
DEFAULT_PROFILE = "laptop"


def get_profile(name: str | Profile) -> Profile:
    """The profile called ``name``; WorkshopError listing the valid names otherwise."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise WorkshopError(f"unknown profile {name!r}", hint=f"valid profiles: {', '.join(PROFILES)}") from None


# ----- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One container's resource requests (what the scheduler reserves for it)."""

    component: str
    name: str
    cpu: str
    memory: str


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pinned: str
    #: The installed version, None when the component is not installed.
    installed: str | None
    ready: bool
    reason: str = ""


def load_yaml(path: Path) -> Any:
    """One YAML document; WorkshopError when the file is missing or malformed."""
    docs = load_yaml_all(path)
    return docs[0] if docs else None


def load_yaml_all(path: Path) -> list[Any]:
    try:
        return [doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc is not None]
    except FileNotFoundError:
        raise WorkshopError(f"platform file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise WorkshopError(f"{path} is not valid YAML: {exc}") from None


def dig(data: Any, dotted: str, *, source: str = "values") -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; WorkshopError naming the missing key."""
    current = data
    for key in dotted.split("."):
        if not isinstance(current, Mapping) or key not in current:
            raise WorkshopError(f"{source} has no {dotted!r}")
        current = current[key]
    return current


def requests_of(component: str, name: str, resources: Mapping | None, *, source: str) -> Workload:
    """A Workload from a ``resources`` block (``{"requests": {"cpu": .., "memory": ..}}``)."""
    requests = (resources or {}).get("requests") or {}
    if "cpu" not in requests or "memory" not in requests:
        raise WorkshopError(
            f"{source}: {name} has no cpu and memory requests",
            hint="every platform workload sets its requests (the laptop budget counts them)",
        )
    return Workload(component, name, str(requests["cpu"]), str(requests["memory"]))


def workload_from_values(component: str, name: str, values: Mapping, dotted: str, *, source: str) -> Workload:
    return requests_of(component, name, dig(values, dotted, source=source), source=source)


# ----- rendered objects --------------------------------------------------------------------------


def rendered_dir(context: str) -> Path:
    """Where objects rendered for ``context`` are written (one folder per kube context)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", context)
    path = cache_dir() / "platform" / safe
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_rendered(context: str, filename: str, objects: Sequence[Mapping]) -> Path:
    path = rendered_dir(context) / filename
    header = f"# Rendered by kserve_workshop for kube context {context}; applied with kubectl apply -f.\n"
    path.write_text(header + yaml.safe_dump_all([dict(obj) for obj in objects], sort_keys=False))
    return path


# ----- looking at the cluster --------------------------------------------------------------------


def run_json(runner: Runner, argv: list[str]) -> Any | None:
    """Run a read-only ``-o json`` command; its parsed output, or None when it fails."""
    try:
        result = runner.run(argv, check=False)
    except WorkshopError:
        return None
    if result is None or result.exited != 0:
        return None
    try:
        return json.loads(result.stdout or "null")
    except json.JSONDecodeError:
        return None


def get_object_command(context: str, kind: str, name: str, namespace: str | None = None) -> list[str]:
    argv = kubectl_cmd(context, "get", kind.lower(), name)
    if namespace:
        argv += ["--namespace", namespace]
    return argv + ["--output", "json"]


def get_object(runner: Runner, context: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
    found = run_json(runner, get_object_command(context, kind, name, namespace))
    return found if isinstance(found, dict) else None


def is_subset(desired: Any, live: Any) -> bool:
    """True when ``live`` has every field ``desired`` sets, with the same value (lists: same length)."""
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and is_subset(value, live[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(is_subset(want, have) for want, have in zip(desired, live))
        )
    return desired == live or str(desired) == str(live)


def object_matches(runner: Runner, context: str, obj: Mapping) -> bool:
    """True when the cluster has ``obj`` as declared (its labels, annotations and every other field)."""
    metadata = obj.get("metadata") or {}
    live = get_object(runner, context, obj["kind"], metadata["name"], metadata.get("namespace"))
    if live is None:
        return False
    desired = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
    desired["metadata"] = {key: metadata[key] for key in ("labels", "annotations") if metadata.get(key)}
    return is_subset(desired, live)


def condition_of(obj: Mapping | None, kind: str = "Ready") -> dict | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def conditions_text(obj: Mapping | None) -> str:
    lines = []
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        detail = ": ".join(part for part in (cond.get("reason"), cond.get("message")) if part)
        lines.append(f"{cond.get('type')}={cond.get('status')}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines) or "(no conditions reported)"


def deployments_ready(
    runner: Runner, context: str, namespace: str, names: Iterable[str] | None = None
) -> tuple[bool, str]:
    """(all Available?, why not) for the Deployments in ``namespace`` (or just ``names``)."""
    found = run_json(runner, kubectl_cmd(context, "get", "deployments", "--namespace", namespace, "--output", "json"))
    if found is None:
        return False, f"cannot list deployments in {namespace}"
    items = {item["metadata"]["name"]: item for item in found.get("items", [])}
    wanted = list(names) if names is not None else sorted(items)
    if not wanted:
        return False, f"no deployments in {namespace}"
    problems = []
    for name in wanted:
        item = items.get(name)
        if item is None:
            problems.append(f"deployment {name} missing")
            continue
        desired = (item.get("spec") or {}).get("replicas", 1)
        available = (item.get("status") or {}).get("availableReplicas") or 0
        if available < desired:
            problems.append(f"{name} {available}/{desired} available")
    return (not problems), "; ".join(problems)


def diagnosis(context: str, namespace: str, *extra: list[str]) -> Callable[[Runner], str]:
    """A ``Step.diagnose``: pod states, recent events (and ``extra`` commands' output) in ``namespace``."""

    def explain(runner: Runner) -> str:
        sections = [
            (
                f"pods in {namespace}",
                output_of(runner, kubectl_cmd(context, "get", "pods", "--namespace", namespace, "--output", "wide")),
            ),
            (
                f"recent events in {namespace}",
                output_of(
                    runner,
                    kubectl_cmd(context, "get", "events", "--namespace", namespace, "--sort-by=.lastTimestamp"),
                    tail=20,
                ),
            ),
        ]
        sections += [(shlex.join(argv), output_of(runner, argv)) for argv in extra]
        return "\n\n".join(f"--- {title}\n{text or '(nothing)'}" for title, text in sections)

    return explain


def object_diagnosis(context: str, kind: str, name: str, namespace: str) -> Callable[[Runner], str]:
    """A ``Step.diagnose`` for a custom resource: its conditions, then pods and events."""
    pods_and_events = diagnosis(context, namespace)

    def explain(runner: Runner) -> str:
        obj = get_object(runner, context, kind, name, namespace)
        head = f"--- {kind} {namespace}/{name} conditions\n" + (conditions_text(obj) if obj else "(not found)")
        return head + "\n\n" + pods_and_events(runner)

    return explain


# ----- steps -------------------------------------------------------------------------------------


def wait_pods(context: str, namespace: str, selector: str, timeout: str = POD_TIMEOUT) -> list[str]:
    return kubectl_cmd(
        context,
        "wait",
        "--for=condition=Ready",
        "pods",
        "--selector",
        selector,
        "--namespace",
        namespace,
        f"--timeout={timeout}",
    )


def wait_available(context: str, namespace: str, deployment: str, timeout: str = POD_TIMEOUT) -> list[str]:
    return kubectl_cmd(
        context,
        "wait",
        "--for=condition=Available",
        f"deployment/{deployment}",
        "--namespace",
        namespace,
        f"--timeout={timeout}",
    )


def apply_file_step(
    context: str,
    title: str,
    path: Path,
    objects: Sequence[Mapping],
    *,
    waits: Sequence[list[str]] = (),
    diagnose: Callable[[Runner], str] | None = None,
    is_done: Callable[[Runner], bool] | None = None,
) -> Step:
    """``kubectl apply`` one file (server-side, so large objects need no last-applied annotation).

    Done when every object in it is already in the cluster as declared (unless ``is_done`` says otherwise).
    """
    if is_done is None:

        def is_done(runner: Runner) -> bool:
            return all(object_matches(runner, context, obj) for obj in objects)

    return Step(
        title=title,
        command=kubectl_cmd(
            context,
            "apply",
            "--server-side",
            f"--field-manager={FIELD_MANAGER}",
            "--force-conflicts",
            "--filename",
            str(path),
        ),
        is_done=is_done,
        waits=list(waits),
        diagnose=diagnose,
    )


def delete_namespace_step(context: str, namespace: str) -> Step:
    return Step(
        title=f"delete namespace {namespace}",
        command=kubectl_cmd(
            context, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=300s"
        ),
        is_done=lambda runner: get_object(runner, context, "namespace", namespace) is None,
    )


# ----- the contract ------------------------------------------------------------------------------


class Component(ABC):
    """One platform component for one kube context (see the module docstring)."""

    #: Name used by ``--component``.
    name: ClassVar[str]
    #: One line for help texts and the status table.
    summary: ClassVar[str]

    def __init__(self, context: str):
        self.context = context

    @property
    @abstractmethod
    def namespace(self) -> str:
        """The namespace the component's workloads run in."""

    @abstractmethod
    def pinned_version(self) -> str:
        """The version versions.toml pins."""

    @abstractmethod
    def install_plan(self, profile: Profile) -> Plan:
        """Install (or bring up to the pins): every step skipped when already done."""

    @abstractmethod
    def uninstall_plan(self) -> Plan:
        """Remove the component, in reverse order of installing it."""

    @abstractmethod
    def is_installed(self, runner: Runner) -> bool:
        """Installed at the pinned version (read-only)."""

    @abstractmethod
    def status(self, runner: Runner) -> ComponentStatus:
        """Pinned and installed version, ready or why not (read-only)."""

    @abstractmethod
    def requests(self, profile: Profile) -> list[Workload]:
        """CPU/memory requests of the component's pods, from the values the plan uses."""

    def kubectl(self, *args: str) -> list[str]:
        return kubectl_cmd(self.context, *args)

    def helm(self, *args: str) -> list[str]:
        return helm_cmd(self.context, *args)

    def _release_status(
        self, runner: Runner, release: HelmRelease, deployments: Iterable[str] | None = None
    ) -> ComponentStatus:
        """Status from one helm release plus the Deployments in its namespace."""
        version, helm_status = release.state(runner, self.context)
        if version is None:
            return ComponentStatus(
                self.name, self.pinned_version(), None, False, f"helm release {release.name} not installed"
            )
        if helm_status != "deployed":
            return ComponentStatus(
                self.name, self.pinned_version(), version, False, f"helm release {release.name} is {helm_status}"
            )
        ready, why = deployments_ready(runner, self.context, release.namespace, deployments)
        if ready and version != self.pinned_version():
            why = f"installed {version}, pinned {self.pinned_version()}: run `invoke platform.install`"
            ready = False
        return ComponentStatus(self.name, self.pinned_version(), version, ready, why)
