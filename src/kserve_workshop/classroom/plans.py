"""Plans of the classroom tasks on a shared cluster: ``class.create``, ``class.delete``, ``class.can-i``.

Like the platform's plans, each is a list of exact commands that ``--dry-run`` prints and the tests
assert through invoke's ``MockContext``. Objects are rendered to the cache and applied from the file.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..cluster import expect_empty
from ..errors import WorkshopError
from ..kube import kubectl_cmd
from ..paths import cache_dir
from ..plan import Plan, Runner, Step
from ..platform.base import FIELD_MANAGER
from .access import kubeconfig_path
from .authz import Subject
from .learners import CLASS_LABEL, LEARNER_SA, Quota, class_objects
from .rbac_table import TABLE, Row


def class_dir(context: str) -> Path:
    """Where the class's rendered objects go: ``.cache/classroom/<context>/`` (git-ignored)."""
    path = cache_dir() / "classroom" / re.sub(r"[^A-Za-z0-9_.-]", "_", context)
    path.mkdir(parents=True, exist_ok=True)
    return path


def render(path: Path, context: str, objects: list[dict]) -> Path:
    """Write ``objects`` (no secrets among them) to ``path`` for ``kubectl apply -f``."""
    header = f"# Rendered by kserve_workshop for kube context {context}; applied with kubectl apply -f.\n"
    path.write_text(header + yaml.safe_dump_all(objects, sort_keys=False))
    return path


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", "kserve_workshop.classroom", *args]


def _expect_output(argv: list[str], expected: str) -> list[str]:
    """A command that succeeds only when ``argv`` prints exactly ``expected``."""
    return ["sh", "-c", f'test "$({shlex.join(argv)} 2>/dev/null)" = {expected}']


@dataclass(frozen=True)
class ClassSpec:
    context: str
    namespaces: tuple[str, ...]
    quota: Quota
    out_dir: Path
    hours: int = 8
    model_store: bool = True
    class_name: str = "workshop"


def create_plan(spec: ClassSpec) -> Plan:
    """Namespaces with quota, limits and RBAC; the store's Secret; one kubeconfig per learner, each
    verified on the API server to reach its own namespace and not hold cluster-wide rights."""
    objects = class_objects(list(spec.namespaces), spec.quota, spec.class_name)
    objects_file = render(class_dir(spec.context) / "learners.yaml", spec.context, objects)
    plan = Plan(
        f"class of {len(spec.namespaces)} learner(s) on {spec.context}",
        [
            Step(
                title=f"namespaces, ServiceAccounts, Roles, RoleBindings, quotas and limits of "
                f"{len(spec.namespaces)} learner(s) ({spec.namespaces[0]} ... {spec.namespaces[-1]})",
                command=kubectl_cmd(
                    spec.context,
                    "apply",
                    "--server-side",
                    f"--field-manager={FIELD_MANAGER}",
                    "--force-conflicts",
                    "--filename",
                    str(objects_file),
                ),
            ),
        ],
    )
    if spec.model_store:
        secrets_file = class_dir(spec.context) / "store-secrets.yaml"
        plan.add(
            Step(
                title="copy the model store's Secret default/kserve-models-s3 for each learner (file mode 0600)",
                command=_python(
                    "store-secrets", "--context", spec.context, "--out", str(secrets_file), *spec.namespaces
                ),
            ),
            Step(title="apply the copies", command=kubectl_cmd(spec.context, "apply", "--filename", str(secrets_file))),
        )
    for namespace in spec.namespaces:
        config = kubeconfig_path(spec.out_dir, namespace)
        learner = ["kubectl", "--kubeconfig", str(config)]
        plan.add(
            Step(
                title=f"{namespace}: kubeconfig with a {spec.hours} h token -> {config}",
                command=_python(
                    "kubeconfig",
                    "--context",
                    spec.context,
                    "--namespace",
                    namespace,
                    "--hours",
                    str(spec.hours),
                    "--out",
                    str(spec.out_dir),
                ),
                waits=[
                    _expect_output(
                        [
                            *learner,
                            "auth",
                            "can-i",
                            "create",
                            "inferenceservices.serving.kserve.io",
                            "--namespace",
                            namespace,
                        ],
                        "yes",
                    ),
                    _expect_output([*learner, "auth", "can-i", "*", "*", "--all-namespaces"], "no"),
                ],
            )
        )
    return plan


def _delete_isvcs_in_class_namespaces(context: str, selector: str) -> list[str]:
    """A shell loop over the class's namespaces (found by their label; learners' InferenceServices
    carry no class label of their own), deleting each one's InferenceServices with a bounded wait."""
    names = shlex.join(
        kubectl_cmd(
            context, "get", "namespaces", "--selector", selector, "--output", "jsonpath={.items[*].metadata.name}"
        )
    )
    delete = shlex.join(kubectl_cmd(context, "delete", "inferenceservices.serving.kserve.io", "--all", "--namespace"))
    wait = "--ignore-not-found --wait=true --timeout=300s"
    # The names in a variable first: `set -e` ignores a failing command substitution in a for list,
    # which would turn "cannot list the namespaces" into "nothing to delete".
    return ["sh", "-c", f'set -e; names=$({names}); for ns in $names; do {delete} "$ns" {wait}; done']


def delete_plan(context: str, class_name: str = "workshop") -> Plan:
    """Delete every namespace of the class (their InferenceServices, pods, tokens) and verify."""
    selector = f"{CLASS_LABEL}={class_name}"
    left = kubectl_cmd(context, "get", "namespaces", "--selector", selector, "--output", "name")
    return Plan(
        f"delete the class {class_name} on {context}",
        [
            Step(
                title="delete the InferenceServices of every learner namespace first "
                "(KServe's controller removes their finalizers)",
                command=_delete_isvcs_in_class_namespaces(context, selector),
            ),
            Step(
                title=f"delete the learner namespaces ({selector}); their ServiceAccounts go, so every token stops working",
                command=kubectl_cmd(
                    context,
                    "delete",
                    "namespaces",
                    "--selector",
                    selector,
                    "--ignore-not-found",
                    "--wait=true",
                    "--timeout=600s",
                ),
            ),
            Step(title="verify no learner namespace is left", waits=[expect_empty(left)]),
        ],
    )


def can_i_commands(
    context: str, namespaces: list[str], table: tuple[Row, ...] = TABLE, kubeconfigs: Path | None = None
) -> list[tuple[Row, str, str, list[str]]]:
    """``(row, learner namespace, other namespace, argv)`` for every row and learner.

    With ``kubeconfigs`` the learner's own kubeconfig asks (a real token, SelfSubjectAccessReview);
    without, the instructor asks as the learner (``--as``, impersonation).
    """
    if len(namespaces) < 2:
        raise WorkshopError(
            "the RBAC table needs two learner namespaces (own and another's)",
            hint="create the class with --learners 2 or more",
        )
    out = []
    for index, own in enumerate(namespaces):
        other = namespaces[(index + 1) % len(namespaces)]
        for row in table:
            if kubeconfigs is not None:
                argv = ["kubectl", "--kubeconfig", str(kubeconfig_path(kubeconfigs, own)), *row.can_i_argv(own, other)]
            else:
                argv = kubectl_cmd(
                    context, *row.can_i_argv(own, other), f"--as={Subject.service_account(own, LEARNER_SA).user}"
                )
            out.append((row, own, other, argv))
    return out


def run_can_i(runner: Runner, commands: list[tuple[Row, str, str, list[str]]]) -> list[tuple[Row, str, str, str]]:
    """Run every check; returns the mismatches ``(row, own, other, answer)`` (empty when all agree)."""
    mismatches = []
    for row, own, other, argv in commands:
        result = runner.run(argv, check=False)
        answer = ((result.stdout if result is not None else "") or "").strip().splitlines()
        said = answer[-1].strip() if answer else ""
        if said not in ("yes", "no"):
            detail = ((result.stderr if result is not None else "") or "").strip()
            raise WorkshopError(
                f"`{shlex.join(argv)}` answered neither yes nor no"
                + (f": {detail.splitlines()[-1]}" if detail else ""),
                hint="is the cluster up and the class created (`invoke class.create`)?",
            )
        if (said == "yes") != row.allowed:
            mismatches.append((row, own, other, said))
    return mismatches
