"""The laptop budget: the platform's pods request at most 1.5 CPU and 3 GiB, computed from the
values files and objects the install plans apply."""

from __future__ import annotations

import pytest
import yaml

from kserve_workshop.errors import WorkshopError
from kserve_workshop.platform import COMPONENT_NAMES, get_profile
from kserve_workshop.platform import budget, cert_manager, knative, seaweedfs


@pytest.mark.parametrize("profile", ["laptop", "ci", "gke"])
def test_platform_requests_fit_the_laptop_budget(profile):
    totals = budget.platform_totals(get_profile(profile))
    assert totals.cpu_millicores <= 1500, totals.summary()
    assert totals.memory_mib <= 3 * 1024, totals.summary()
    assert totals.within_laptop_budget


def test_every_component_with_pods_is_counted():
    counted = {w.component for w in budget.platform_requests(get_profile("laptop"))}
    assert counted == set(COMPONENT_NAMES) - {"ingressclass"}


def test_the_knative_workloads_are_all_counted():
    names = {w.name.split("/")[0] for w in budget.platform_requests(get_profile("laptop"), "knative")}
    assert set(knative.SERVING_DEPLOYMENTS) | {"knative-operator", "operator-webhook"} == names


@pytest.mark.parametrize("quantity, millicores", [("5m", 5), ("0.5", 500), ("1", 1000), ("250m", 250), ("2", 2000)])
def test_cpu_quantities(quantity, millicores):
    assert budget.cpu_millicores(quantity) == millicores


@pytest.mark.parametrize(
    "quantity, mib", [("32Mi", 32), ("1Gi", 1024), ("512Ki", 0.5), ("1048576", 1), ("1M", 1e6 / 2**20)]
)
def test_memory_quantities(quantity, mib):
    assert budget.memory_mib(quantity) == pytest.approx(mib)


@pytest.mark.parametrize("bad", ["", "lots", "5 m", "1Xi", "-1"])
def test_bad_quantities_are_refused(bad):
    with pytest.raises(WorkshopError, match="quantity"):
        budget.memory_mib(bad)


def test_a_greedy_values_file_breaks_the_budget(tmp_path, monkeypatch):
    values = yaml.safe_load(cert_manager.VALUES.read_text())
    values["resources"]["requests"] = {"cpu": "2", "memory": "4Gi"}
    greedy = tmp_path / "values.yaml"
    greedy.write_text(yaml.safe_dump(values))
    monkeypatch.setattr(cert_manager, "VALUES", greedy)
    totals = budget.platform_totals(get_profile("laptop"))
    assert not totals.within_laptop_budget
    assert totals.cpu_millicores > 2000


def test_a_workload_without_requests_is_an_error(tmp_path, monkeypatch):
    values = yaml.safe_load(cert_manager.VALUES.read_text())
    del values["webhook"]["resources"]["requests"]
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    monkeypatch.setattr(cert_manager, "VALUES", path)
    with pytest.raises(WorkshopError, match="cert-manager-webhook has no cpu and memory requests"):
        budget.platform_requests(get_profile("laptop"))


def test_an_unshrunk_knative_deployment_is_an_error(tmp_path, monkeypatch):
    docs = list(yaml.safe_load_all(knative.SERVING_MANIFEST.read_text()))
    for doc in docs:
        if doc["kind"] == "KnativeServing":
            doc["spec"]["workloads"] = [w for w in doc["spec"]["workloads"] if w["name"] != "activator"]
    path = tmp_path / "knative-serving.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    monkeypatch.setattr(knative, "SERVING_MANIFEST", path)
    with pytest.raises(WorkshopError, match="activator is not shrunk"):
        budget.platform_requests(get_profile("laptop"))


def test_store_requests_come_from_its_deployment(tmp_path, monkeypatch):
    text = seaweedfs.STORE_MANIFEST.read_text().replace("cpu: 20m", "cpu: 1500m")
    path = tmp_path / "seaweedfs.yaml"
    path.write_text(text)
    monkeypatch.setattr(seaweedfs, "STORE_MANIFEST", path)
    [store] = budget.platform_requests(get_profile("laptop"), "storage")
    assert store.cpu == "1500m"
