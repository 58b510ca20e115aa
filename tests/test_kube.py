"""The kube package: the context guard and command prefixes, the one config loader, the one API-error
mapping, conditions."""

from __future__ import annotations

import json

import pytest

from kserve_workshop import kube
from kserve_workshop.errors import WorkshopError
from kserve_workshop.kube import client as kube_client, conditions, errors as kube_errors

GKE = "gke_my-project_europe-west1-b_kserve-workshop"


@pytest.fixture
def kubeconfig(monkeypatch):
    """Set the kubeconfig's contexts and current context."""

    def set_(names, current=None):
        monkeypatch.setattr(kube, "kube_contexts", lambda: (list(names), current))

    return set_


@pytest.mark.parametrize(
    "name, ours",
    [
        ("kind-kserve-workshop", True),
        (GKE, True),
        ("gke_p_us-central1_kserve-workshop", True),
        ("kind-other", False),
        ("kserve-workshop", False),
        ("gke_p_z_kserve-workshop-2", False),
        ("gke_p_kserve-workshop", False),
        ("prod", False),
        ("", False),
        (None, False),
    ],
)
def test_which_contexts_are_the_workshops(name, ours):
    assert kube.is_workshop_context(name) is ours


def test_no_context_given_uses_the_current_workshop_cluster(kubeconfig):
    kubeconfig(["kind-kserve-workshop", GKE], GKE)
    assert kube.guard_context(None, False) == GKE


def test_no_context_given_never_uses_another_current_cluster(kubeconfig):
    kubeconfig(["prod", "kind-kserve-workshop"], "prod")
    assert kube.guard_context(None, False) == "kind-kserve-workshop"


def test_no_workshop_cluster_at_all(kubeconfig):
    kubeconfig(["prod"], "prod")
    with pytest.raises(WorkshopError) as info:
        kube.guard_context(None, False)
    assert "no workshop cluster" in info.value.message and "invoke up" in info.value.hint
    # A dry run touches nothing: it shows the plan for the workshop's kind cluster.
    assert kube.guard_context(None, False, dry_run=True) == "kind-kserve-workshop"


def test_another_context_is_refused_without_yes(kubeconfig):
    kubeconfig(["prod", "kind-kserve-workshop"], "kind-kserve-workshop")
    with pytest.raises(WorkshopError) as info:
        kube.guard_context("prod", False)
    assert "refusing to change kube context 'prod'" in info.value.message and "--yes" in info.value.hint
    with pytest.raises(WorkshopError, match="refusing"):
        kube.guard_context("prod", False, dry_run=True)


def test_another_context_with_yes_is_accepted_with_a_warning(kubeconfig, capsys):
    kubeconfig(["prod"], "prod")
    assert kube.guard_context("prod", True) == "prod"
    assert "not a workshop cluster" in capsys.readouterr().err


def test_a_named_workshop_context_needs_no_yes(kubeconfig):
    kubeconfig([GKE], None)
    assert kube.guard_context(GKE, False) == GKE


def test_a_context_missing_from_the_kubeconfig(kubeconfig):
    kubeconfig(["kind-kserve-workshop"], "kind-kserve-workshop")
    with pytest.raises(WorkshopError, match="not in your kubeconfig"):
        kube.guard_context(GKE, False)
    with pytest.raises(WorkshopError, match="not in your kubeconfig"):
        kube.guard_context("staging", True)
    assert kube.guard_context(GKE, False, dry_run=True) == GKE


def test_read_context_allows_any_existing_context(kubeconfig):
    kubeconfig(["prod", "kind-kserve-workshop"], "prod")
    assert kube.read_context("prod") == "prod"
    assert kube.read_context(None) == "kind-kserve-workshop"
    with pytest.raises(WorkshopError, match="not in your kubeconfig"):
        kube.read_context("nope")


def test_commands_name_the_context():
    assert kube.kubectl_cmd("c1", "get", "pods") == ["kubectl", "--context", "c1", "get", "pods"]
    assert kube.helm_cmd("c1", "list") == ["helm", "--kube-context", "c1", "list"]


def test_kubeconfig_is_read_from_kubeconfig_env(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("""
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts:
  - {name: kind-kserve-workshop, context: {cluster: c, user: u}}
  - {name: other, context: {cluster: c, user: u}}
current-context: other
""")
    monkeypatch.setenv("KUBECONFIG", str(config))
    assert kube.kube_contexts() == (["kind-kserve-workshop", "other"], "other")
    assert kube.current_context() == "other"
    assert kube.api_client("kind-kserve-workshop") is not None
    with pytest.raises(WorkshopError, match="no usable kube context 'missing'"):
        kube.api_client("missing")


def test_without_a_kubeconfig(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    assert kube.kube_contexts() == ([], None)
    assert kube.current_context() is None


def test_missing_tools_are_named(monkeypatch):
    from kserve_workshop import tools

    monkeypatch.setattr(tools, "which", lambda name, bin_dir=None: None if name == "helm" else f"/bin/{name}")
    monkeypatch.setattr(tools, "use_local_tools", lambda bin_dir=None: None)
    with pytest.raises(WorkshopError) as info:
        kube.require_tools("kubectl", "helm")
    assert info.value.message == "missing tool(s): helm" and "invoke tools" in info.value.hint
    kube.require_tools("kubectl")


# ----- kube.client: one loader -----------------------------------------------------------------

TWO_CONTEXTS = """
apiVersion: v1
kind: Config
clusters:
  - {name: a, cluster: {server: "https://127.0.0.1:1"}}
  - {name: b, cluster: {server: "https://127.0.0.2:2"}}
users: [{name: u, user: {token: t}}]
contexts:
  - {name: kind-kserve-workshop, context: {cluster: a, user: u}}
  - {name: other, context: {cluster: b, user: u}}
current-context: kind-kserve-workshop
"""


@pytest.fixture
def two_contexts(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text(TWO_CONTEXTS)
    monkeypatch.setenv("KUBECONFIG", str(config))
    return config


def test_the_loader_reads_kubeconfig_as_set_now_and_leaves_the_default_alone(two_contexts):
    from kubernetes import client

    before = client.Configuration.get_default_copy().host
    assert kube_client.load_configuration().host == "https://127.0.0.1:1"  # the current context
    assert kube_client.load_configuration("other").host == "https://127.0.0.2:2"
    assert kube_client.api_client("other").configuration.host == "https://127.0.0.2:2"
    assert kube_client.core_api("other").api_client.configuration.host == "https://127.0.0.2:2"
    assert kube_client.custom_objects_api().api_client.configuration.host == "https://127.0.0.1:1"
    assert kube_client.load_configuration("other", retries=1).retries == 1
    assert client.Configuration.get_default_copy().host == before


def test_the_kserve_sdk_client_uses_the_context_asked_for(two_contexts):
    from kubernetes import client

    before = client.Configuration.get_default_copy().host
    sdk = kube_client.kserve_client("other")
    for api in (sdk.api_instance, sdk.core_api, sdk.app_api, sdk.hpa_v2_api):
        assert api.api_client.configuration.host == "https://127.0.0.2:2"
    assert client.Configuration.get_default_copy().host == before


@pytest.mark.parametrize(
    "context, text",
    [
        ("missing", "no usable kube context 'missing'"),
        # without a context: the labs' context, and there is none
        (None, "no workshop cluster in your kubeconfig"),
    ],
)
def test_a_context_that_cannot_be_loaded_is_one_clear_error(two_contexts, tmp_path, monkeypatch, context, text):
    if context is None:
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-file"))
    with pytest.raises(WorkshopError, match=text) as info:
        kube_client.api_client(context)
    assert "invoke up" in info.value.hint
    with pytest.raises(WorkshopError, match=text):
        kube_client.kserve_client(context)


def test_api_client_is_still_importable_from_kube():
    assert kube.api_client is kube_client.api_client
    with pytest.raises(AttributeError):
        kube.no_such_name  # noqa: B018 - the attribute access is the test


# ----- kube.errors: one mapping ----------------------------------------------------------------


def api_exception(status: int, reason: str | None = None, message: str = "boom"):
    from kubernetes.client.exceptions import ApiException

    exc = ApiException(status=status, reason=reason or "Error")
    exc.body = json.dumps({"kind": "Status", "reason": reason, "message": message})
    return exc


@pytest.mark.parametrize(
    "error, kind, text",
    [
        (
            api_exception(404, "NotFound", 'pods "p" not found'),
            kube_errors.NotFound,
            'not found \\(pods "p" not found\\)',
        ),
        (api_exception(401, "Unauthorized", "no token"), kube_errors.Forbidden, "access denied"),
        (api_exception(403, "Forbidden", "cannot get"), kube_errors.Forbidden, "access denied \\(cannot get\\)"),
        (
            api_exception(409, "AlreadyExists", 'pods "p" already exists'),
            kube_errors.AlreadyExists,
            'pods "p" already exists',
        ),
        (api_exception(409, "Conflict", "the object has been modified"), kube_errors.Conflict, "conflict"),
        (api_exception(422, "Invalid", "spec.x: Invalid value"), kube_errors.Rejected, "rejected by the API server"),
        (
            api_exception(400, "BadRequest", "webhook denied"),
            kube_errors.Rejected,
            "rejected by the API server \\(webhook denied\\)",
        ),
        (
            api_exception(503, "ServiceUnavailable", "etcd"),
            kube_errors.ApiUnavailable,
            "the API server answered 503 \\(etcd\\)",
        ),
        (ConnectionRefusedError("refused"), kube_errors.ApiUnavailable, "cannot reach the cluster"),
    ],
)
def test_api_failures_map_into_one_family(error, kind, text):
    with pytest.raises(kind, match=f"^read pod p: {text}") as info:
        with kube_errors.api_errors("read pod p"):
            raise error
    assert isinstance(info.value, kube_errors.KubeApiError) and isinstance(info.value, WorkshopError)
    assert info.value.status == getattr(error, "status", None)


def test_the_caller_names_the_not_found_and_rejected_hints():
    with pytest.raises(kube_errors.NotFound) as info:
        with kube_errors.api_errors("get x", not_found_hint="list them: kubectl get x"):
            raise api_exception(404, "NotFound", "gone")
    assert info.value.hint == "list them: kubectl get x"
    with pytest.raises(kube_errors.Rejected) as info:
        with kube_errors.api_errors("create x", rejected_hint="validate it first"):
            raise api_exception(422, "Invalid", "bad")
    assert info.value.hint == "validate it first"


def test_other_errors_pass_through_unmapped():
    with pytest.raises(KeyError):
        with kube_errors.api_errors("read pod p"):
            raise KeyError("not an API error")
    assert kube_errors.as_kube_error(ValueError("x"), "act") is None
    assert kube_errors.status_code(api_exception(404)) == 404
    assert kube_errors.status_code(OSError("x")) is None


def test_a_body_that_is_not_a_status_still_gives_a_message():
    exc = api_exception(404, "Not Found")
    exc.body = "404 page not found"
    assert kube_errors.api_status(exc) == {}
    assert kube_errors.api_message(exc) == "Not Found"


# ----- kube.conditions ---------------------------------------------------------------------------

POD = {
    "status": {
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
        ]
    }
}


def test_the_condition_of_a_type():
    assert conditions.condition(POD, "Ready")["reason"] == "ContainersNotReady"
    assert conditions.condition(POD, "Initialized") is None
    assert conditions.condition({}, "Ready") is None and conditions.condition(None, "Ready") is None
    assert conditions.has_true_condition(POD, "PodScheduled")
    assert not conditions.has_true_condition(POD, "Ready")
    assert not conditions.has_true_condition(POD, "Initialized")


# ----- the labs' context: one rule for upload, serving, port-forwards and %%cluster ----------------


@pytest.fixture
def no_lab_env(monkeypatch):
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    "names, current, expected",
    [
        (["kind-kserve-workshop"], "kind-kserve-workshop", "kind-kserve-workshop"),
        ([GKE, "kind-kserve-workshop"], GKE, GKE),  # the current one, when it is a workshop's
        (["prod", "kind-kserve-workshop"], "prod", "kind-kserve-workshop"),  # never another current cluster
    ],
)
def test_lab_context_follows_the_guards_rule(kubeconfig, no_lab_env, names, current, expected):
    kubeconfig(names, current)
    assert kube.lab_context() == expected == kube.guard_context(None, False)


def test_lab_context_given_explicitly_is_used_as_it_is(kubeconfig, no_lab_env):
    kubeconfig(["prod"], "prod")
    assert kube.lab_context("minikube") == "minikube"


def test_lab_context_named_by_the_environment(kubeconfig, no_lab_env):
    kubeconfig(["minikube", "kind-kserve-workshop"], "kind-kserve-workshop")
    no_lab_env.setenv(kube.LAB_CONTEXT_ENV, "minikube")
    assert kube.lab_context() == "minikube" and kube.is_lab_context_named("minikube")
    assert not kube.is_lab_context_named("kind-kserve-workshop")
    no_lab_env.setenv(kube.LAB_CONTEXT_ENV, "minikub")
    with pytest.raises(WorkshopError, match="WORKSHOP_KUBE_CONTEXT='minikub' is not a context of your kubeconfig"):
        kube.lab_context()


def test_lab_context_without_a_workshop_cluster_says_how_to_get_or_name_one(kubeconfig, no_lab_env):
    kubeconfig(["prod"], "prod")
    with pytest.raises(WorkshopError, match="no workshop cluster") as info:
        kube.lab_context()
    assert "invoke up" in info.value.hint and "WORKSHOP_KUBE_CONTEXT" in info.value.hint


def test_the_api_clients_without_a_context_use_the_labs_not_the_current_one(tmp_path, no_lab_env):
    """A notebook whose current context is another cluster still talks to the workshop's (where
    upload_model puts the models); WORKSHOP_KUBE_CONTEXT names another one explicitly."""
    config = tmp_path / "config"
    config.write_text(TWO_CONTEXTS.replace("current-context: kind-kserve-workshop", "current-context: other"))
    no_lab_env.setenv("KUBECONFIG", str(config))
    assert kube.current_context() == "other"
    assert kube_client.custom_objects_api().api_client.configuration.host == "https://127.0.0.1:1"
    assert kube_client.core_api().api_client.configuration.host == "https://127.0.0.1:1"
    no_lab_env.setenv(kube.LAB_CONTEXT_ENV, "other")
    assert kube_client.custom_objects_api().api_client.configuration.host == "https://127.0.0.2:2"
