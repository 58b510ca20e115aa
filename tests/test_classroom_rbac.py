"""The offline RBAC evaluator (tested against Kubernetes' rules, allowed and denied), and every
generated learner Role evaluated against the table of allowed / denied actions."""

from __future__ import annotations

import copy

import pytest
import yaml

from kserve_workshop import validate
from kserve_workshop.classroom import learners
from kserve_workshop.classroom.authz import Policy, Request, Subject, resource_matches, rule_allows
from kserve_workshop.classroom.rbac_table import CLUSTER, OTHER, OWN, TABLE, Row

RBAC = "rbac.authorization.k8s.io"
LAB7 = learners.MANIFESTS_DIR / "labs" / "07-batching-and-logging"
ALICE = Subject.service_account("team-a", "alice")


def role(name, namespace, rules, kind="Role"):
    meta = {"name": name} | ({"namespace": namespace} if kind == "Role" else {})
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta, "rules": rules}


def binding(name, namespace, role_kind, role_name, subjects, kind="RoleBinding"):
    meta = {"name": name} | ({"namespace": namespace} if kind == "RoleBinding" else {})
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": kind,
        "metadata": meta,
        "subjects": subjects,
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role_name},
    }


SA_ALICE = [{"kind": "ServiceAccount", "name": "alice", "namespace": "team-a"}]


# ----- the evaluator, rule by rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    "rule_resources, resource, subresource, expected",
    [
        (["pods"], "pods", "", True),
        (["pods"], "pods", "log", False),  # the parent does not cover its subresources
        (["pods/log"], "pods", "log", True),
        (["pods/log"], "pods", "", False),  # nor a subresource its parent
        (["*"], "pods", "exec", True),  # '*' matches subresources too
        (["*/scale"], "deployments", "scale", True),  # '*/sub' matches that subresource of anything
        (["*/scale"], "deployments", "", False),
        (["pods/*"], "pods", "log", False),  # 'pods/*' is not a wildcard
        (["services"], "pods", "", False),
    ],
)
def test_resource_matching_follows_kubernetes(rule_resources, resource, subresource, expected):
    assert resource_matches({"resources": rule_resources}, resource, subresource) is expected


def test_verbs_groups_and_names():
    rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["settings"]}
    assert rule_allows(rule, Request("get", "configmaps", name="settings", namespace="x"))
    assert not rule_allows(rule, Request("get", "configmaps", name="other", namespace="x"))
    # a resourceNames rule never allows list or create: those requests carry no name
    assert not rule_allows(rule, Request("list", "configmaps", namespace="x"))
    assert not rule_allows(rule, Request("update", "configmaps", name="settings", namespace="x"))
    assert not rule_allows(rule, Request("get", "configmaps", group="apps", name="settings", namespace="x"))
    star = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    assert rule_allows(star, Request("delete", "nodes", name="n1"))
    assert not rule_allows(star, Request("get", path="/healthz"))  # resource rules never match paths


def test_non_resource_urls():
    rule = {"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]}
    assert rule_allows(rule, Request("get", path="/healthz"))
    assert rule_allows(rule, Request("get", path="/metrics/cadvisor"))
    assert not rule_allows(rule, Request("get", path="/version"))
    assert not rule_allows(rule, Request("post", path="/healthz"))


def test_rolebinding_grants_only_in_its_namespace():
    policy = Policy(
        [
            role("edit", "team-a", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]),
            binding("b", "team-a", "Role", "edit", SA_ALICE),
        ]
    )
    assert policy.can(ALICE, Request("delete", "pods", name="p", namespace="team-a"))
    assert not policy.can(ALICE, Request("delete", "pods", name="p", namespace="team-b"))
    assert not policy.can(ALICE, Request("list", "pods"))  # all namespaces: cluster-scoped request


def test_rolebinding_to_a_clusterrole_is_still_namespaced():
    cluster_admin = role(
        "cluster-admin", None, [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], kind="ClusterRole"
    )
    policy = Policy([cluster_admin, binding("admin-here", "team-a", "ClusterRole", "cluster-admin", SA_ALICE)])
    assert policy.can(ALICE, Request("get", "secrets", name="s", namespace="team-a"))
    assert not policy.can(ALICE, Request("get", "secrets", name="s", namespace="kube-system"))
    assert not policy.can(ALICE, Request("list", "nodes"))
    # ... while a ClusterRoleBinding grants it everywhere
    policy.objects.append(
        binding("admin-all", None, "ClusterRole", "cluster-admin", SA_ALICE, kind="ClusterRoleBinding")
    )
    assert policy.can(ALICE, Request("list", "nodes"))
    assert policy.can(ALICE, Request("get", "secrets", name="s", namespace="kube-system"))


def test_subjects_roles_and_refs_must_match():
    rules = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    get_pod = Request("get", "pods", name="p", namespace="team-a")
    # the wrong ServiceAccount, a Role of another namespace, a ClusterRoleBinding to a Role
    assert not Policy(
        [
            role("r", "team-a", rules),
            binding("b", "team-a", "Role", "r", [{"kind": "ServiceAccount", "name": "bob", "namespace": "team-a"}]),
        ]
    ).can(ALICE, get_pod)
    assert not Policy([role("r", "team-b", rules), binding("b", "team-a", "Role", "r", SA_ALICE)]).can(ALICE, get_pod)
    assert not Policy(
        [role("r", "team-a", rules), binding("b", None, "Role", "r", SA_ALICE, kind="ClusterRoleBinding")]
    ).can(ALICE, get_pod)
    # a ServiceAccount subject without namespace takes the binding's
    assert Policy(
        [role("r", "team-a", rules), binding("b", "team-a", "Role", "r", [{"kind": "ServiceAccount", "name": "alice"}])]
    ).can(ALICE, get_pod)
    # groups: every ServiceAccount of team-a
    assert Policy(
        [
            role("r", "team-a", rules),
            binding(
                "b",
                "team-a",
                "Role",
                "r",
                [{"kind": "Group", "name": "system:serviceaccounts:team-a", "apiGroup": RBAC}],
            ),
        ]
    ).can(ALICE, get_pod)
    assert not Policy(
        [
            role("r", "team-a", rules),
            binding("b", "team-a", "Role", "r", [{"kind": "User", "name": "alice", "apiGroup": RBAC}]),
        ]
    ).can(ALICE, get_pod)


# ----- the generated learner objects against the table --------------------------------------------

NAMESPACES = learners.namespace_names(3)
QUOTA = learners.quota_for()
OBJECTS = learners.class_objects(NAMESPACES, QUOTA)


def _cases():
    for index, own in enumerate(NAMESPACES):
        other = NAMESPACES[(index + 1) % len(NAMESPACES)]
        for row in TABLE:
            yield pytest.param(own, other, row, id=f"{own}:{row.label}")


@pytest.mark.parametrize("own, other, row", list(_cases()))
def test_every_learner_can_do_exactly_what_the_table_says(own, other, row):
    who = Subject.service_account(own, learners.LEARNER_SA)
    decision = Policy(OBJECTS).authorize(who, row.request(own, other))
    assert decision.allowed is row.allowed, f"{own}: {row.request(own, other).describe()} -> {decision}"


def test_the_table_covers_own_other_and_cluster_scopes_both_ways():
    scopes = {(row.scope, row.allowed) for row in TABLE}
    assert {(OWN, True), (OWN, False), (OTHER, False), (CLUSTER, False)} <= scopes
    assert not any(row.allowed for row in TABLE if row.scope != OWN), "nothing outside their namespace"


def test_a_role_granting_too_much_is_caught_by_the_table():
    # Mutations a careless edit could make: each must turn at least one row red.
    def failures(objects):
        policy = Policy(objects)
        return [
            row.label
            for own, other, row in (p.values for p in _cases())
            if policy.can(Subject.service_account(own, learners.LEARNER_SA), row.request(own, other)) is not row.allowed
        ]

    def with_rule(rule):
        objects = copy.deepcopy(OBJECTS)
        for obj in objects:
            if obj["kind"] == "Role":
                obj["rules"].append(rule)
        return objects

    assert failures(OBJECTS) == []
    assert "read secrets in own namespace" in failures(
        with_rule({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    )
    assert "exec into own pod" in failures(
        with_rule({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["*"]})
    ) or "exec into own pod" in failures(with_rule({"apiGroups": [""], "resources": ["*"], "verbs": ["create"]}))
    cluster_wide = copy.deepcopy(OBJECTS) + [
        role(
            "view-all",
            None,
            [{"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["list"]}],
            kind="ClusterRole",
        ),
        binding(
            "oops",
            None,
            "ClusterRole",
            "view-all",
            [{"kind": "ServiceAccount", "name": "learner", "namespace": NAMESPACES[0]}],
            kind="ClusterRoleBinding",
        ),
    ]
    assert {"list nodes", "list another learner's pods"} <= set(failures(cluster_wide))
    # A learner Role that lost a permission the labs need is caught too.
    fewer = copy.deepcopy(OBJECTS)
    for obj in fewer:
        if obj["kind"] == "Role":
            obj["rules"] = [r for r in obj["rules"] if "pods/portforward" not in r["resources"]]
    assert "port-forward to a pod" in failures(fewer)
    # Lab 7's sink needs ConfigMaps and Deployments; the rule that grants them must not grant exec.
    without_sink = copy.deepcopy(OBJECTS)
    for obj in without_sink:
        if obj["kind"] == "Role":
            obj["rules"] = [
                r for r in obj["rules"] if "configmaps" not in r["resources"] and "deployments" not in r["resources"]
            ]
    assert {
        "create a ConfigMap (Lab 7's sink code)",
        "create a Deployment (Lab 7's sink)",
        "watch a Deployment's rollout (kubectl rollout status)",
    } <= set(failures(without_sink))
    assert {"exec into own pod", "exec into own pod (websocket clients: get)"} <= set(
        failures(with_rule({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}))
    )


def test_can_i_arguments_name_the_same_request():
    row = Row("read a pod's logs", "get", "pods", subresource="log", name="p", allowed=True)
    assert row.can_i_argv("learner-01", "learner-02") == [
        "auth",
        "can-i",
        "get",
        "pods/p",
        "--subresource=log",
        "--namespace",
        "learner-01",
    ]
    isvc = next(r for r in TABLE if r.label == "list InferenceServices in all namespaces")
    assert isvc.can_i_argv("a", "b") == [
        "auth",
        "can-i",
        "list",
        "inferenceservices.serving.kserve.io",
        "--all-namespaces",
    ]
    delete_ns = next(r for r in TABLE if r.label == "delete another learner's namespace")
    assert delete_ns.can_i_argv("a", "b")[-3:] == ["namespaces/b", "--namespace", "b"]


# ----- schemas, sizing, names --------------------------------------------------------------------


def test_every_generated_object_validates_against_the_kubernetes_schemas():
    issues = [
        issue
        for index, obj in enumerate(OBJECTS)
        for issue in validate.validate_object(obj, file="classroom", index=index)
    ]
    assert validate.errors(issues) == [] and issues == []
    assert {obj["kind"] for obj in OBJECTS} == {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ResourceQuota",
        "LimitRange",
    }


def test_a_broken_object_is_rejected_by_the_same_validation():
    quota = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == "ResourceQuota"))
    quota["spec"]["hardd"] = quota["spec"].pop("hard")
    limits = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == "LimitRange"))
    limits["spec"]["limits"][0]["defaultRequests"] = {"cpu": "1"}
    for bad in (quota, limits):
        assert validate.errors(validate.validate_object(bad, file="bad"))


def test_no_generated_binding_is_cluster_wide_or_cluster_admin():
    assert not any(obj["kind"] in ("ClusterRole", "ClusterRoleBinding") for obj in OBJECTS)
    for obj in OBJECTS:
        if obj["kind"] == "RoleBinding":
            assert obj["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": learners.ROLE_NAME}
            assert obj["subjects"] == [
                {"kind": "ServiceAccount", "name": learners.LEARNER_SA, "namespace": obj["metadata"]["namespace"]}
            ]
        if obj["kind"] == "Role":
            assert not any(
                "*" in rule.get(key, []) for rule in obj["rules"] for key in ("verbs", "resources", "apiGroups")
            )


def test_quota_is_sized_from_the_labs_manifests(tmp_path):
    lab = tmp_path / "09-big"
    lab.mkdir()
    (lab / "big.yaml").write_text("""
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: big}
spec:
  predictor:
    maxReplicas: 10
    model:
      modelFormat: {name: sklearn}
      resources: {requests: {cpu: 100m, memory: 256Mi}}
""")
    quota = learners.quota_for(tmp_path)
    # 10 pods x (100m + 25m queue-proxy), + one more pod of headroom
    assert quota.cpu_millicores == 1375 and quota.pods == 12
    assert quota.memory_mib == 11 * (256 + 32)
    assert "09-big" in quota.basis
    # The repository's labs: the autoscaling lab (6 + 2 pods) sizes the pods and memory, Lab 7 (four
    # InferenceServices, three with KServe's agent, and the sink) the CPU.
    assert "03-autoscaling: 1280 MiB, 8 pods" in QUOTA.basis and QUOTA.pods >= 8
    assert "07-batching-and-logging: 620m CPU" in QUOTA.basis


def test_each_resource_is_sized_by_the_lab_that_needs_most_of_it(tmp_path):
    def lab(name, replicas, cpu, memory):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.yaml").write_text(f"""
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {{name: {name}}}
spec:
  predictor:
    maxReplicas: {replicas}
    model:
      modelFormat: {{name: sklearn}}
      resources: {{requests: {{cpu: {cpu}, memory: {memory}}}}}
""")

    lab("01-cpu", 2, "400m", "64Mi")  # 850m, 192 MiB
    lab("02-memory", 2, "50m", "900Mi")  # 150m, 1864 MiB
    quota = learners.quota_for(tmp_path)
    assert quota.cpu_millicores >= 850 and quota.memory_mib >= 1864, quota


def test_a_batcher_or_a_logger_brings_kserves_agent_into_the_quota():
    plain = yaml.safe_load((LAB7 / "iris-unbatched.yaml").read_text())
    pods, cpu, memory = learners.isvc_peak(plain)
    for field in ({"batcher": {"maxBatchSize": 4}}, {"logger": {"mode": "all"}}, {"batcher": {}, "logger": {}}):
        with_agent = copy.deepcopy(plain)
        with_agent["spec"]["predictor"].update(field)
        # one agent per pod (KServe v0.20.0 inferenceservice-config: requests 100m / 100Mi)
        assert learners.isvc_peak(with_agent) == (pods, cpu + 100, memory + 100)


def test_lab7_counts_its_sink_and_the_inferenceservices_its_notebook_builds():
    peaks = learners.lab_peaks()
    without = learners.lab_peaks(notebook_isvcs={})
    pods, cpu, memory, isvcs, services = peaks["07-batching-and-logging"]
    assert isvcs == 4 and pods == 5, "iris-unbatched, iris-logger-s3, iris-batcher, iris-logger and the sink"
    assert without["07-batching-and-logging"][3] == 2
    sink = next(
        doc for doc in yaml.safe_load_all((LAB7 / "payload-sink.yaml").read_text()) if doc["kind"] == "Deployment"
    )
    assert learners.deployment_peak(sink) == (1, 20.0, 64.0)
    assert services == 4 * 4 + 1, "per InferenceService KServe's host Service, Knative's route and revision ones"


def test_the_quota_has_room_for_the_services_kserve_and_knative_make():
    # KServe's ExternalName Service, Knative's route Service and two per revision (public, private).
    lab2 = yaml.safe_load(
        (learners.MANIFESTS_DIR / "labs" / "02-first-inferenceservice" / "sklearn-iris.yaml").read_text()
    )
    assert learners.isvc_services(lab2) == 4
    with_transformer = copy.deepcopy(lab2)
    with_transformer["spec"]["transformer"] = {"containers": [{"name": "kserve-container", "image": "x"}]}
    canary = copy.deepcopy(with_transformer)
    canary["spec"]["predictor"]["canaryTrafficPercent"] = 20
    assert (learners.isvc_services(with_transformer), learners.isvc_services(canary)) == (7, 9)
    # Lab 6's two InferenceServices with transformers need 14, Lab 7's four and the sink 17: plus room for
    # the Services of revisions Knative keeps after a rollout.
    assert QUOTA.services >= 17 + learners.SERVICES_HEADROOM
    assert next(o for o in OBJECTS if o["kind"] == "ResourceQuota")["spec"]["hard"]["services"] == str(QUOTA.services)


def test_notebook_isvcs_are_shaped_like_the_masters_solutions():
    """The sizing's stand-ins for Lab 7's exercise manifests request what the master's solutions request."""
    import ast

    import nbformat

    from kserve_workshop.paths import NOTEBOOKS_DIR

    cells = nbformat.read(NOTEBOOKS_DIR / "07-batching-and-logging.ipynb", as_version=4).cells
    values = {"max_batch_size": 8, "max_latency_ms": 10, "NAMESPACE": "learner-01"}
    solutions = {}
    for cell in cells:
        for variable in ("batcher_yaml", "logger_yaml"):
            if cell.cell_type == "code" and cell.source.startswith(f"{variable} = "):
                assignment = ast.parse(cell.source).body[0]
                manifest = yaml.safe_load(eval(compile(ast.Expression(assignment.value), "cell", "eval"), values))
                solutions[manifest["metadata"]["name"]] = manifest
    template_dir = learners.MANIFESTS_DIR / "labs" / "07-batching-and-logging"
    for name, template, fields in learners.NOTEBOOK_ISVCS["07-batching-and-logging"]:
        stand_in = yaml.safe_load((template_dir / template).read_text())
        stand_in["spec"]["predictor"].update(fields)
        assert learners.isvc_peak(stand_in) == learners.isvc_peak(solutions[name]), name


@pytest.mark.parametrize(
    "count, prefix",
    [
        (0, "learner"),
        (-1, "learner"),
        (201, "learner"),
        ("3", "learner"),
        (2, "Learner"),
        (2, "9x"),
        (2, "a" * 50),
        (2, "bad_prefix"),
    ],
)
def test_bad_class_sizes_and_prefixes_are_refused(count, prefix):
    from kserve_workshop.errors import WorkshopError

    with pytest.raises(WorkshopError):
        learners.namespace_names(count, prefix)


def test_namespace_names_sort_in_order():
    assert learners.namespace_names(3) == ["learner-01", "learner-02", "learner-03"]
    assert learners.namespace_names(120, "room")[-1] == "room-120"
