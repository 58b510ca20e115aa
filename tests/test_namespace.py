"""WORKSHOP_NAMESPACE: the labs' namespace, for the library's helpers and the notebooks."""

from __future__ import annotations

import pytest

from kserve_workshop import serving
from kserve_workshop.errors import WorkshopError
from kserve_workshop.namespace import manifest_namespace, workshop_namespace


def test_default_env_and_explicit(monkeypatch):
    monkeypatch.delenv("WORKSHOP_NAMESPACE", raising=False)
    assert workshop_namespace() == "default"
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-03")
    assert workshop_namespace() == "learner-03"
    assert workshop_namespace("other") == "other"


@pytest.mark.parametrize("bad", ["Learner-03", "learner_03", "-x", "x" * 64, "a b"])
def test_bad_namespace_from_the_environment_is_one_clear_error(monkeypatch, bad):
    monkeypatch.setenv("WORKSHOP_NAMESPACE", bad)
    with pytest.raises(WorkshopError, match="WORKSHOP_NAMESPACE"):
        workshop_namespace()


def test_manifests_saying_default_follow_the_learner_namespace(monkeypatch):
    monkeypatch.delenv("WORKSHOP_NAMESPACE", raising=False)
    assert manifest_namespace("default") == "default"
    with pytest.raises(WorkshopError, match="asked for"):
        manifest_namespace("default", "learner-03")
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-03")
    assert manifest_namespace("default") == "learner-03"
    assert manifest_namespace("default", "learner-03") == "learner-03"
    assert manifest_namespace(None) == "learner-03"
    assert manifest_namespace("monitoring") == "monitoring"
    with pytest.raises(WorkshopError):
        manifest_namespace("monitoring", "learner-03")


class RecordingApi:
    def __init__(self):
        self.calls = []

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        self.calls.append(namespace)
        return {"metadata": {"name": name, "namespace": namespace}}

    def create_namespaced_custom_object(self, group, version, namespace, plural, body):
        self.calls.append(namespace)
        return body


def test_helpers_use_the_learner_namespace(monkeypatch):
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-03")
    api = RecordingApi()
    serving.get_isvc("iris", api=api)
    assert api.calls == ["learner-03"]
