"""An offline evaluator of Kubernetes RBAC: may this subject do this request, given these objects?

Written from Kubernetes' authorization rules (the RBAC authorizer and the rule helpers of
``rbac/v1``), so the classroom's generated Roles can be checked without an API server:

- RBAC only allows; nothing denies. A request is allowed when any rule of any role bound to the
  subject matches it.
- A ClusterRoleBinding grants its ClusterRole everywhere: in every namespace and for cluster-scoped
  requests. A RoleBinding grants its Role, or the rules of the ClusterRole it names, only for
  requests in the RoleBinding's own namespace.
- Subjects: ``User`` by name, ``Group`` by the user's groups, ``ServiceAccount`` as
  ``system:serviceaccount:<namespace>:<name>`` (a subject without a namespace takes the binding's).
  A service account's token also carries the groups ``system:serviceaccounts``,
  ``system:serviceaccounts:<namespace>`` and ``system:authenticated``.
- A rule matches a resource request when its verbs hold the verb or ``*``, its apiGroups hold the
  group or ``*``, its resources hold ``*``, the combined ``resource/subresource``, or
  ``*/subresource``, and its resourceNames are empty or hold the object's name (so a rule with
  resourceNames never allows ``list``, ``watch`` or ``create``, whose requests carry no name).
  ``pods`` does not match ``pods/log``; ``*`` matches every resource and subresource.
- A non-resource request (``/healthz``) matches rules with nonResourceURLs: ``*``, the exact path,
  or a prefix ending in ``*``.

What it leaves out (and the classroom does not use): aggregated ClusterRoles (``aggregationRule``
is not expanded), the ``system:masters`` group's bypass, other authorizers (Node, webhooks), and
the escalate/bind/impersonate checks made when RBAC objects are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class Subject:
    """Who asks: a user name and its groups."""

    user: str
    groups: tuple[str, ...] = ()

    @classmethod
    def service_account(cls, namespace: str, name: str) -> "Subject":
        return cls(
            f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
        )


@dataclass(frozen=True)
class Request:
    """What is asked. ``namespace=None`` is a cluster-scoped (or all-namespaces) request."""

    verb: str
    resource: str = ""
    group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str | None = None
    #: Set for non-resource requests (``/healthz``, ``/metrics``); resource fields are then ignored.
    path: str = ""

    def describe(self) -> str:
        if self.path:
            return f"{self.verb} {self.path}"
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        if self.group:
            what += f".{self.group}"
        where = f" in {self.namespace}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {what}{f' {self.name}' if self.name else ''}{where}"


def _has(values: Iterable[str] | None, wanted: str, wildcard: str = "*") -> bool:
    values = list(values or [])
    return wildcard in values or wanted in values


def verb_matches(rule: Mapping, verb: str) -> bool:
    return _has(rule.get("verbs"), verb)


def group_matches(rule: Mapping, group: str) -> bool:
    return _has(rule.get("apiGroups"), group)


def resource_matches(rule: Mapping, resource: str, subresource: str = "") -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for candidate in rule.get("resources") or []:
        if candidate in ("*", combined):
            return True
        if subresource and candidate == f"*/{subresource}":
            return True
    return False


def name_matches(rule: Mapping, name: str) -> bool:
    names = rule.get("resourceNames") or []
    return not names or name in names


def path_matches(rule: Mapping, path: str) -> bool:
    for candidate in rule.get("nonResourceURLs") or []:
        if candidate == "*" or candidate == path:
            return True
        if candidate.endswith("*") and path.startswith(candidate[:-1]):
            return True
    return False


def rule_allows(rule: Mapping, request: Request) -> bool:
    """One PolicyRule against one request (resource or non-resource)."""
    if request.path:
        return verb_matches(rule, request.verb) and path_matches(rule, request.path)
    return (
        verb_matches(rule, request.verb)
        and group_matches(rule, request.group)
        and resource_matches(rule, request.resource, request.subresource)
        and name_matches(rule, request.name)
    )


def subject_matches(subject_entry: Mapping, who: Subject, binding_namespace: str | None) -> bool:
    kind, name = subject_entry.get("kind"), subject_entry.get("name")
    if kind == "User":
        return name == who.user
    if kind == "Group":
        return name in who.groups
    if kind == "ServiceAccount":
        namespace = subject_entry.get("namespace") or binding_namespace
        return who.user == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"
    return False


@dataclass
class Decision:
    allowed: bool
    #: "<Binding kind>/<namespace>/<name> -> <Role kind>/<name>" of the first binding that allowed it.
    reason: str = ""


@dataclass
class Policy:
    """RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding) as dicts."""

    objects: list[Mapping] = field(default_factory=list)

    def _roles(self, kind: str) -> dict[tuple[str | None, str], Mapping]:
        out = {}
        for obj in self.objects:
            if obj.get("kind") == kind:
                meta = obj.get("metadata") or {}
                out[(meta.get("namespace") if kind == "Role" else None, meta.get("name"))] = obj
        return out

    def _rules_of(self, role_ref: Mapping, binding_namespace: str | None) -> list[Mapping]:
        if role_ref.get("apiGroup") != "rbac.authorization.k8s.io":
            return []
        kind, name = role_ref.get("kind"), role_ref.get("name")
        if kind == "ClusterRole":
            role = self._roles("ClusterRole").get((None, name))
        elif kind == "Role" and binding_namespace is not None:
            role = self._roles("Role").get((binding_namespace, name))
        else:  # a ClusterRoleBinding cannot reference a Role
            role = None
        return list((role or {}).get("rules") or [])

    def authorize(self, who: Subject, request: Request) -> Decision:
        for obj in self.objects:
            kind = obj.get("kind")
            if kind not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            meta = obj.get("metadata") or {}
            binding_namespace = meta.get("namespace") if kind == "RoleBinding" else None
            if kind == "RoleBinding" and request.namespace != binding_namespace:
                continue  # a RoleBinding grants only inside its namespace, never cluster-wide
            if not any(subject_matches(s, who, binding_namespace) for s in obj.get("subjects") or []):
                continue
            role_ref = obj.get("roleRef") or {}
            if any(rule_allows(rule, request) for rule in self._rules_of(role_ref, binding_namespace)):
                where = f"{binding_namespace}/" if binding_namespace else ""
                return Decision(
                    True, f"{kind}/{where}{meta.get('name')} -> {role_ref.get('kind')}/{role_ref.get('name')}"
                )
        return Decision(False)

    def can(self, who: Subject, request: Request) -> bool:
        return self.authorize(who, request).allowed
