"""Catch-up to lab N and reset of lab N, for a learner who joined late or broke their environment.

What each lab leaves behind is declared once (``FOOTPRINTS``): the InferenceServices it creates (from
its manifests folder, plus those its notebook builds in code), its other objects (Lab 7's sink), the
folders of the workshop's cache it writes, and whether it needs the custom image. From that:

- ``catchup_plan(N)``: the models labs 1..N-1 trained are in the cache (trained now where missing),
  the KServe schema is cached, no InferenceService of an earlier lab is left on the cluster (they
  would hold the learner's quota, and neither would the other objects of an earlier lab), and for
  Lab 6 on kind the custom image is built and loaded. Idempotent: every step is skipped when its
  effect is already there.
- ``reset_plan(N)``: deletes lab N's InferenceServices, other objects and cache folders; the reset
  task compares the namespace's objects before and after and fails when anything of lab N is left.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import WorkshopError
from ..kube import kubectl_cmd
from ..paths import MANIFESTS_DIR, NOTEBOOKS_DIR, cache_dir
from ..plan import Plan, Runner, Step

ISVC_RESOURCE = "inferenceservices.serving.kserve.io"
#: Objects a lab's InferenceServices bring (Knative and KServe name them after the InferenceService),
#: and the kinds of a lab's other objects.
LISTED_KINDS = f"{ISVC_RESOURCE},services,pods,deployments.apps,configmaps"


@dataclass(frozen=True)
class Footprint:
    lab: int
    #: Cache folders (relative to the workshop's cache) the lab writes.
    cache: tuple[str, ...] = ()
    #: Cache folders holding a model.joblib of the standard iris classifier (catch-up retrains them).
    iris_models: tuple[str, ...] = ()
    #: InferenceServices the notebook creates in code (not from a manifest file).
    code_isvcs: tuple[str, ...] = ()
    #: Other objects the notebook creates, as ``TYPE/NAME`` (their pods are named after them).
    objects: tuple[str, ...] = ()
    custom_image: bool = False


FOOTPRINTS: dict[int, Footprint] = {
    f.lab: f
    for f in (
        Footprint(1, cache=("labs/01",), iris_models=("labs/01/model",)),
        Footprint(2, code_isvcs=("sklearn-iris-sdk",)),
        Footprint(3, cache=("lab3",), iris_models=("lab3/model",)),
        Footprint(4, cache=("lab4",)),
        Footprint(5, cache=("lab5",), iris_models=("lab5/model",), code_isvcs=("iris-monitored",)),
        Footprint(6, cache=("lab6",), iris_models=("lab6/model",), custom_image=True),
        # Lab 7's batcher and logger InferenceServices come from the learner's own YAML; the sink is a
        # Deployment and a Service running the custom image on the learner's file, a ConfigMap.
        Footprint(
            7,
            cache=("lab7",),
            iris_models=("lab7/model",),
            code_isvcs=("iris-batcher", "iris-logger"),
            objects=("deployments.apps/payload-sink", "services/payload-sink", "configmaps/payload-sink"),
            custom_image=True,
        ),
        # Lab 8's three InferenceServices come from its manifests; it trains its own wine models.
        Footprint(8, cache=("lab8",)),
    )
}


def known_labs() -> list[int]:
    """Lab numbers with a master notebook (``notebooks/NN-*.ipynb``)."""
    return sorted({int(p.name[:2]) for p in NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb")})


def check_lab(number, flag: str) -> int:
    labs = known_labs()
    if number is None or not str(number).strip():
        raise WorkshopError(f"{flag} N is needed: the lab's number", hint=f"labs: {', '.join(map(str, labs))}")
    try:
        value = int(str(number).strip())
    except ValueError:
        raise WorkshopError(
            f"{flag} must be a lab number, got {number!r}", hint=f"labs: {', '.join(map(str, labs))}"
        ) from None
    if value not in labs:
        raise WorkshopError(f"there is no lab {value}", hint=f"labs: {', '.join(map(str, labs))}")
    return value


def footprint(lab: int) -> Footprint:
    return FOOTPRINTS.get(lab, Footprint(lab))


def lab_isvcs(lab: int, manifests_dir: Path = MANIFESTS_DIR / "labs") -> list[str]:
    """Names of the InferenceServices lab ``lab`` creates: its manifests' and its notebook's own."""
    names: list[str] = []
    for folder in sorted(Path(manifests_dir).glob(f"{lab:02d}-*")):
        for path in sorted(folder.glob("*.y*ml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "InferenceService":
                    name = (doc.get("metadata") or {}).get("name")
                    if name and name not in names:
                        names.append(name)
    return names + [n for n in footprint(lab).code_isvcs if n not in names]


def lab_names(lab: int) -> list[str]:
    """Names of everything lab ``lab`` creates in the namespace: its InferenceServices and other objects."""
    names = lab_isvcs(lab)
    return names + [o.split("/", 1)[1] for o in footprint(lab).objects if o.split("/", 1)[1] not in names]


def _delete_objects_step(context: str, namespace: str, objects: tuple[str, ...], why: str) -> Step:
    argv = kubectl_cmd(
        context, "delete", *objects, "--namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=300s"
    )
    probe = kubectl_cmd(context, "get", *objects, "--namespace", namespace, "--ignore-not-found", "--output", "name")
    return Step(
        title=f"{why}: delete {', '.join(objects)} in {namespace}",
        command=argv,
        is_done=lambda runner: not (runner.run(probe, check=False).stdout or "").strip(),
    )


def _delete_isvcs_step(context: str, namespace: str, names: list[str], why: str) -> Step:
    argv = kubectl_cmd(
        context,
        "delete",
        ISVC_RESOURCE,
        *names,
        "--namespace",
        namespace,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=300s",
    )
    probe = kubectl_cmd(
        context, "get", ISVC_RESOURCE, *names, "--namespace", namespace, "--ignore-not-found", "--output", "name"
    )
    return Step(
        title=f"{why}: delete InferenceService(s) {', '.join(names)} in {namespace}",
        command=argv,
        is_done=lambda runner: not (runner.run(probe, check=False).stdout or "").strip(),
    )


def catchup_plan(to: int, *, context: str | None, namespace: str, kind_cluster: str | None = None) -> Plan:
    """Bring the environment to the state lab ``to`` starts from (see the module docstring)."""
    plan = Plan(f"catch up to lab {to}")
    for lab in range(1, to):
        for model_dir in footprint(lab).iris_models:
            target = cache_dir() / model_dir
            plan.add(
                Step(
                    title=f"lab {lab}'s iris model in {target}",
                    command=[sys.executable, "-m", "kserve_workshop.classroom", "train-iris", str(target)],
                    is_done=lambda runner, t=target: (t / "model.joblib").is_file(),
                )
            )
    plan.add(
        Step(
            title="KServe's InferenceService schema in the cache (the labs validate manifests offline)",
            command=[sys.executable, "-m", "invoke", "schemas"],
        )
    )
    if context is not None:
        for lab in range(1, to):
            names = lab_isvcs(lab)
            if names:
                plan.add(_delete_isvcs_step(context, namespace, names, f"lab {lab} is over"))
            if footprint(lab).objects:
                plan.add(_delete_objects_step(context, namespace, footprint(lab).objects, f"lab {lab} is over"))
        if kind_cluster and footprint(to).custom_image:
            from .. import image

            plan.extend(image.build_plan())
            plan.extend(image.load_kind_plan(cluster=kind_cluster))
    return plan


def reset_plan(lab: int, *, context: str | None, namespace: str) -> Plan:
    plan = Plan(f"reset lab {lab}")
    names = lab_isvcs(lab)
    if context is not None and names:
        plan.add(_delete_isvcs_step(context, namespace, names, f"undo lab {lab}"))
    if context is not None and footprint(lab).objects:
        plan.add(_delete_objects_step(context, namespace, footprint(lab).objects, f"undo lab {lab}"))
    for folder in footprint(lab).cache:
        target = cache_dir() / folder
        plan.add(
            Step(
                title=f"remove lab {lab}'s files in {target}",
                command=["rm", "-rf", str(target)],
                is_done=lambda runner, t=target: not t.exists(),
            )
        )
    if not plan.steps:
        plan.add(Step(title=f"lab {lab} leaves nothing behind"))
    return plan


def list_objects(runner: Runner, context: str, namespace: str) -> set[str]:
    """``kind/name`` of the InferenceServices, Services, pods, Deployments and ConfigMaps in ``namespace``."""
    result = runner.run(kubectl_cmd(context, "get", LISTED_KINDS, "--namespace", namespace, "--output", "name"))
    return {line.strip() for line in (result.stdout or "").splitlines() if line.strip()}


def belongs_to(obj: str, names: list[str]) -> bool:
    """True when ``kind/name`` is one of the lab's objects or named after one (``<name>-...``)."""
    name = obj.split("/", 1)[-1]
    return any(name == own or name.startswith(f"{own}-") for own in names)


def verify_reset(before: set[str], after: set[str], names: list[str]) -> None:
    """After a reset the namespace holds what it held before, less lab N's objects; else say what is left."""
    left = sorted(obj for obj in after if belongs_to(obj, names))
    appeared = sorted(after - before - set(left))
    if left or appeared:
        parts = ([f"still there from the lab: {', '.join(left)}"] if left else []) + (
            [f"appeared meanwhile: {', '.join(appeared)}"] if appeared else []
        )
        raise WorkshopError(
            "the namespace is not back to its state before the lab: " + "; ".join(parts),
            hint="pods of a deleted InferenceService can take a minute to terminate: run the reset "
            "again; `kubectl get pods` shows them",
        )


def describe(plan: Plan) -> str:
    return "\n".join(
        f"- {step.title}" + (f"\n    {shlex.join(step.command)}" if step.command else "") for step in plan.steps
    )
