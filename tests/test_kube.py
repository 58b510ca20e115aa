"""The kube context guard and the command prefixes that name the context."""

from __future__ import annotations

import pytest

from kserve_workshop import kube
from kserve_workshop.errors import WorkshopError

GKE = "gke_my-project_europe-west1-b_kserve-workshop"


@pytest.fixture
def kubeconfig(monkeypatch):
    """Set the kubeconfig's contexts and current context."""

    def set_(names, current=None):
        monkeypatch.setattr(kube, "kube_contexts", lambda: (list(names), current))

    return set_


@pytest.mark.parametrize("name, ours", [
    ("kind-kserve-workshop", True), (GKE, True), ("gke_p_us-central1_kserve-workshop", True),
    ("kind-other", False), ("kserve-workshop", False), ("gke_p_z_kserve-workshop-2", False),
    ("gke_p_kserve-workshop", False), ("prod", False), ("", False), (None, False)])
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
    with pytest.raises(WorkshopError, match="cannot load kube context missing"):
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


# ----- the labs' context: one rule for upload, serving, port-forwards and %%cluster ----------------

@pytest.fixture
def no_lab_env(monkeypatch):
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    return monkeypatch


@pytest.mark.parametrize("names, current, expected", [
    (["kind-kserve-workshop"], "kind-kserve-workshop", "kind-kserve-workshop"),
    ([GKE, "kind-kserve-workshop"], GKE, GKE),                        # the current one, when it is a workshop's
    (["prod", "kind-kserve-workshop"], "prod", "kind-kserve-workshop"),  # never another current cluster
])
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
