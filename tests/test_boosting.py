"""Lab 8's library: the runtime facts and selection rule, the pins, saving and loading like the
runtimes, the named-feature V2 request, real local servers, the lab's manifests and its helpers."""

from __future__ import annotations

import pickle
import re
import tomllib
from importlib import metadata

import joblib
import numpy as np
import pytest
import yaml

from kserve_workshop import validate, versions
from kserve_workshop.boosting import cluster, compare, models, runtimes
from kserve_workshop.boosting.data import FEATURE_NAMES, WINE_CLASSES, wine_split
from kserve_workshop.boosting.requests import (
    RuntimeRejects,
    describe_outputs,
    named_v2_request,
    output_array,
    runtime_input,
)
from kserve_workshop.boosting.servers import RuntimeServer, RuntimeServers
from kserve_workshop.custom.chain import error_message, post
from kserve_workshop.dataplane import predict_v1
from kserve_workshop.errors import WorkshopError
from kserve_workshop.isvc import use_model
from kserve_workshop.paths import REPO_ROOT
from kserve_workshop.platform import storage

SPLIT = wine_split()


# ----- pins: pyproject, versions.toml, what is installed -------------------------------------------


def test_the_boosting_pins_are_in_step_with_versions_toml():
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    python = versions.load()["python"]
    assert f"lightgbm=={python['lightgbm']}" in deps
    xgboost = [dep for dep in deps if re.match(r"xgboost(-cpu)?==", dep)]
    # The CPU-only wheel where it exists (Linux x86_64), the plain wheel elsewhere: never both.
    assert sorted(dep.split(";")[0].strip() for dep in xgboost) == [
        f"xgboost-cpu=={python['xgboost']}",
        f"xgboost=={python['xgboost']}",
    ]
    markers = sorted(dep.split(";", 1)[1].strip() for dep in xgboost)
    assert markers == [
        "platform_system != 'Linux' or platform_machine != 'x86_64'",
        "platform_system == 'Linux' and platform_machine == 'x86_64'",
    ]


def test_the_installed_libraries_are_the_pinned_ones_and_no_gpu_packages_came_along():
    python = versions.load()["python"]
    assert metadata.version("lightgbm") == python["lightgbm"]
    assert runtimes.installed_version(runtimes.framework("xgboost")) == python["xgboost"]
    names = {dist.metadata["Name"].lower() for dist in metadata.distributions()}
    assert not {name for name in names if name.startswith("nvidia-")}, "a GPU package was installed"


def test_each_pin_satisfies_its_runtime_images_requirement():
    for key in models.ORDER:
        fw = runtimes.framework(key)
        assert runtimes.library_problem(key, installed=fw.pinned) is None, key


@pytest.mark.parametrize(
    "key, version, refused",
    [
        ("lightgbm", "4.6.0", False),
        ("lightgbm", "4.6.3", False),
        ("lightgbm", "4.5.0", True),
        ("lightgbm", "4.7.0", True),
        ("xgboost", "2.1.1", False),
        ("xgboost", "2.1.4", False),
        ("xgboost", "2.1.0", True),
        ("xgboost", "3.0.0", True),
        ("sklearn", "1.5.2", False),
        ("sklearn", "1.6.1", True),
    ],
)
def test_library_versions_are_judged_by_the_runtime_images_requirement(key, version, refused):
    problem = runtimes.library_problem(key, installed=version)
    assert (problem is not None) == refused, problem
    if refused:
        assert version in problem and runtimes.framework(key).runtime in problem


def test_a_missing_library_is_a_problem_and_an_unknown_framework_an_error(monkeypatch):
    monkeypatch.setattr(runtimes, "installed_version", lambda fw: None)
    assert "not installed" in runtimes.library_problem("lightgbm")
    with pytest.raises(WorkshopError, match="unknown framework 'catboost'"):
        runtimes.framework("catboost")


def test_a_library_that_cannot_load_its_native_code_says_to_install_libomp(monkeypatch):
    import importlib

    def broken(name):
        raise OSError("dlopen(lib_lightgbm.dylib): Library not loaded: @rpath/libomp.dylib")

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(WorkshopError, match="native library") as raised:
        runtimes.import_library("lightgbm")
    assert "brew install libomp" in raised.value.hint


# ----- the runtimes and how KServe picks one ------------------------------------------------------


def test_runtime_images_follow_the_kserve_pin_and_mlserver_comes_from_versions_toml():
    images = {runtime.name: runtime.image for runtime in runtimes.CLUSTER_RUNTIMES}
    tag = versions.pin("kserve")
    assert images["kserve-lgbserver"] == f"kserve/lgbserver:{tag}"
    assert images["kserve-xgbserver"] == f"kserve/xgbserver:{tag}"
    assert images["kserve-predictiveserver"] == f"kserve/predictiveserver:{tag}"
    assert images["kserve-mlserver"] == versions.pin("runtimes", "mlserver_image")
    assert [r.name for r in runtimes.CLUSTER_RUNTIMES if not r.arm64] == ["kserve-mlserver"]


@pytest.mark.parametrize(
    "model_format, options, chosen",
    [
        ("lightgbm", {}, "kserve-lgbserver"),
        ("xgboost", {}, "kserve-xgbserver"),
        ("sklearn", {}, "kserve-sklearnserver"),
        ("lightgbm", {"version": "4"}, "kserve-lgbserver"),
        ("lightgbm", {"protocol": "v1"}, "kserve-lgbserver"),
        # v2 and no runtime: MLServer's priority 2 beats KServe's own servers' 1.
        ("lightgbm", {"protocol": "v2"}, "kserve-mlserver"),
        ("sklearn", {"protocol": "v2"}, "kserve-mlserver"),
        ("lightgbm", {"protocol": "v2", "runtime": "kserve-lgbserver"}, "kserve-lgbserver"),
        # autoSelect: false, but named: allowed.
        ("xgboost", {"protocol": "v2", "runtime": "kserve-predictiveserver"}, "kserve-predictiveserver"),
        ("lightgbm", {"version": "3", "protocol": "v2"}, "kserve-mlserver"),
    ],
)
def test_choose_runtime_follows_kserves_rule(model_format, options, chosen):
    assert runtimes.choose_runtime(model_format, **options).runtime == chosen


@pytest.mark.parametrize(
    "model_format, options, reason",
    [
        ("lightgbm", {"version": "3"}, "NoSupportingRuntime"),  # only MLServer has v3, and it speaks only v2
        ("catboost", {}, "NoSupportingRuntime"),
        ("lightgbm", {"runtime": "kserve-lgbservr"}, "RuntimeNotRecognized"),
        ("lightgbm", {"runtime": "kserve-xgbserver"}, "does not list lightgbm"),
        ("lightgbm", {"runtime": "kserve-mlserver", "protocol": "v1"}, "does not speak v1"),
    ],
)
def test_choose_runtime_refuses_what_kserve_refuses(model_format, options, reason):
    choice = runtimes.choose_runtime(model_format, **options)
    assert choice.runtime is None and reason in choice.reason


def test_the_predictive_server_is_never_auto_selected():
    for model_format in ("sklearn", "xgboost", "lightgbm"):
        for protocol in ("v1", "v2"):
            assert "kserve-predictiveserver" not in runtimes.choose_runtime(model_format, protocol=protocol).candidates


# ----- saving and loading like the runtimes -------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    return {key: models.train(key, SPLIT).model for key in models.ORDER}


@pytest.fixture(scope="module")
def model_dirs(trained, tmp_path_factory):
    dirs = models.fresh_model_dirs(tmp_path_factory.mktemp("lab8"))
    for key in models.ORDER:
        models.save_model(trained[key], dirs[key], key)
    return dirs


def test_each_model_is_saved_as_the_one_file_its_runtime_loads(model_dirs):
    assert {key: [p.name for p in path.iterdir()] for key, path in model_dirs.items()} == {
        "sklearn": ["model.joblib"],
        "lightgbm": ["model.bst"],
        "xgboost": ["model.json"],
    }
    for key in models.ORDER:
        accuracy = compare.runtime_accuracy(model_dirs[key], key, SPLIT)
        assert accuracy >= 0.9, (key, accuracy)
    assert models.model_file(model_dirs["lightgbm"], "lightgbm").read_text().startswith("tree")
    assert models.model_file(model_dirs["xgboost"], "xgboost").read_text().startswith('{"learner"')


def test_boosters_answer_with_a_probability_per_class(model_dirs):
    for key in ("lightgbm", "xgboost"):
        answer = models.predict_like_runtime(models.load_like_runtime(model_dirs[key], key), key, SPLIT.X_test[:5])
        assert answer.shape == (5, len(WINE_CLASSES)) and np.allclose(answer.sum(axis=1), 1, atol=1e-5)
    classes = models.predict_like_runtime(
        models.load_like_runtime(model_dirs["sklearn"], "sklearn"), "sklearn", SPLIT.X_test[:5]
    )
    assert classes.shape == (5,)


def test_saving_refuses_a_library_the_runtime_cannot_load(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(runtimes, "installed_version", lambda fw: "3.0.0")
    with pytest.raises(WorkshopError, match=r"xgboost~=2\.1\.1") as raised:
        models.save_model(trained["xgboost"], tmp_path / "x", "xgboost")
    assert "xgboost 2.1.4" in raised.value.hint and "bootstrap" in raised.value.hint
    assert not (tmp_path / "x").exists(), "nothing is written when the version is refused"


def test_saving_refuses_another_model_file_and_another_framework(trained, tmp_path):
    (tmp_path / "model.ubj").write_bytes(b"{}")
    with pytest.raises(WorkshopError, match="already holds model.ubj"):
        models.save_model(trained["xgboost"], tmp_path, "xgboost")
    with pytest.raises(WorkshopError, match="expected a trained LightGBM model, got XGBClassifier"):
        models.save_model(trained["xgboost"], tmp_path / "l", "lightgbm")
    again = models.save_model(trained["lightgbm"], tmp_path / "l", "lightgbm")
    assert models.save_model(trained["lightgbm"], tmp_path / "l", "lightgbm") == again  # re-saving is fine


def test_model_file_explains_missing_and_extra_files(tmp_path):
    with pytest.raises(WorkshopError, match="does not exist"):
        models.model_file(tmp_path / "nothing", "lightgbm")
    (tmp_path / "model.txt").write_text("tree")
    with pytest.raises(WorkshopError, match="no model file for kserve-lgbserver") as raised:
        models.model_file(tmp_path, "lightgbm")
    assert "looks only for .bst" in raised.value.hint
    (tmp_path / "a.bst").write_text("tree")
    (tmp_path / "b.bst").write_text("tree")
    with pytest.raises(WorkshopError, match="more than one model file"):
        models.model_file(tmp_path, "lightgbm")


def test_a_pickle_is_not_a_booster_file(trained, tmp_path):
    (tmp_path / "model.bst").write_bytes(pickle.dumps(trained["lightgbm"]))
    with pytest.raises(WorkshopError, match="could not load model.bst") as raised:
        models.load_like_runtime(tmp_path, "lightgbm")
    assert "is a pickle" in raised.value.hint


def test_as_classes():
    assert models.as_classes([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]]).tolist() == [1, 0]
    assert models.as_classes([2, 0]).tolist() == [2, 0]
    assert models.as_classes([0.2, 0.9]).tolist() == [0, 1]


# ----- the named-feature V2 request ---------------------------------------------------------------


def test_the_named_request_becomes_the_models_table():
    body = named_v2_request(SPLIT.X_test[:3])
    assert [tensor["name"] for tensor in body["inputs"]] == list(FEATURE_NAMES)
    table = runtime_input(body)
    assert list(table.columns) == list(FEATURE_NAMES) and np.allclose(table.to_numpy(), SPLIT.X_test[:3])


def test_runtime_input_is_what_kserve_makes_of_a_body():
    body = named_v2_request(SPLIT.X_test[:3])
    first_only = runtime_input({"inputs": body["inputs"]})
    assert first_only.shape == (3,) and np.allclose(first_only, SPLIT.X_test[:3, 0])
    with pytest.raises(RuntimeRejects) as raised:
        runtime_input({"inputs": [{"name": "alcohol", "datatype": "FP64", "data": [1.0]}]})
    assert raised.value.status == 422 and "shape" in raised.value.message
    with pytest.raises(WorkshopError, match="rows of 13 numbers"):
        named_v2_request([[1.0, 2.0]])


def test_output_array_reshapes_and_refuses_inconsistent_outputs():
    response = {"outputs": [{"name": "output-0", "shape": [2, 3], "datatype": "FP32", "data": list(range(6))}]}
    assert output_array(response).shape == (2, 3)
    assert describe_outputs(response) == [{"name": "output-0", "shape": [2, 3], "datatype": "FP32"}]
    with pytest.raises(WorkshopError, match="declares shape"):
        output_array({"outputs": [{"name": "o", "shape": [4], "data": [1, 2]}]})
    with pytest.raises(WorkshopError, match="not a V2 response"):
        describe_outputs({"predictions": [1]})


# ----- real servers on 127.0.0.1 ------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(model_dirs):
    with RuntimeServers(model_dirs) as running:
        yield running


def test_one_v2_request_three_runtimes_three_kinds_of_answer(servers):
    body = named_v2_request(SPLIT.X_test[:3])
    shapes = {}
    for key, server in servers.items():
        response = post(server.url, server.model_name, body, protocol="v2")
        assert response.status_code == 200, error_message(response)
        output = response.json()["outputs"][0]
        shapes[key] = (output["name"], output["shape"], output["datatype"])
        assert models.as_classes(output_array(response.json())).tolist() == SPLIT.y_test[:3].tolist()
    assert shapes == {
        "sklearn": ("output-0", [3], "INT64"),
        "lightgbm": ("output-0", [3, 3], "FP64"),
        "xgboost": ("output-0", [3, 3], "FP32"),
    }


def test_v1_works_on_every_runtime(servers):
    for key, server in servers.items():
        predictions = predict_v1(server.url, server.model_name, SPLIT.X_test[:2].tolist())
        assert models.as_classes(predictions).tolist() == SPLIT.y_test[:2].tolist(), key


def test_the_servers_read_named_columns_by_position(servers):
    body = named_v2_request(SPLIT.X_test[:3])
    reversed_body = {**body, "inputs": body["inputs"][::-1]}
    for key, server in servers.items():
        response = post(server.url, server.model_name, reversed_body, protocol="v2")
        assert response.status_code == 200
        assert models.as_classes(output_array(response.json())).tolist() != SPLIT.y_test[:3].tolist(), key


def test_the_check_decodes_bodies_as_the_servers_do(servers):
    """What runtime_input accepts the servers answer; what it refuses they refuse with the same status."""
    body = named_v2_request(SPLIT.X_test[:3])
    bodies = [
        body,
        {"inputs": body["inputs"]},
        {"inputs": [{k: v for k, v in t.items() if k != "shape"} for t in body["inputs"]]},
        {"inputs": [{"name": "input-0", "shape": [3, 13], "datatype": "FP32", "data": SPLIT.X_test[:3].tolist()}]},
    ]
    server = servers["lightgbm"]
    for candidate in bodies:
        response = post(server.url, server.model_name, candidate, protocol="v2")
        try:
            features = runtime_input(candidate)
        except RuntimeRejects as rejected:
            assert response.status_code == rejected.status, (candidate, response.text)
            continue
        if np.asarray(features).ndim == 2:
            assert response.status_code == 200, response.text
        else:  # a 1-D array: the booster refuses it
            assert response.status_code == 500 and "2 dimensional" in error_message(response)


def test_a_bad_request_is_a_500_with_the_boosters_message_as_upstream(servers):
    server = servers["lightgbm"]
    response = post(server.url, server.model_name, {"instances": [[1.0, 2.0]]}, protocol="v1")
    assert response.status_code == 500
    assert "number of features in data (2)" in error_message(response)


def test_xgboost_predicts_even_with_features_missing(servers):
    """A model trained on arrays has no feature names to check: XGBoost treats absent columns as missing."""
    server = servers["xgboost"]
    response = post(server.url, server.model_name, {"instances": [[13.2, 1.8]]}, protocol="v1")
    assert response.status_code == 200 and len(response.json()["predictions"][0]) == len(WINE_CLASSES)


def test_a_server_refuses_a_directory_without_its_model_file(tmp_path):
    with pytest.raises(WorkshopError, match="no model file for kserve-xgbserver"):
        RuntimeServer("xgboost", tmp_path)
    with pytest.raises(WorkshopError, match="unknown framework"):
        RuntimeServers({"catboost": tmp_path})


def test_a_server_that_cannot_load_its_file_exits_with_a_clear_message(trained, tmp_path):
    joblib.dump(trained["lightgbm"], tmp_path / "model.bst")
    server = RuntimeServer("lightgbm", tmp_path, "broken", startup_timeout=60)
    with pytest.raises(WorkshopError, match="exited with code 2") as raised:
        server.start()
    assert "is a pickle" in str(raised.value)
    assert not server.running


# ----- the comparison -----------------------------------------------------------------------------


def test_the_comparison_table_and_its_plot(model_dirs):
    from kserve_workshop.load import LoadResult

    results = {
        key: LoadResult(
            url="http://127.0.0.1:1/",
            concurrency=1,
            rate=None,
            started_at=0.0,
            elapsed=1.0,
            starts=[0.0] * 4,
            durations=[0.001, 0.002, 0.003, 0.004],
            oks=[True] * 4,
        )
        for key in models.ORDER
    }
    table = compare.comparison_table(model_dirs, results, SPLIT)
    assert list(table.index) == list(models.ORDER) and list(table.columns) == list(compare.COLUMNS)
    assert table.loc["lightgbm", "p50_ms"] == pytest.approx(2.5)
    assert table.loc["xgboost", "model_kib"] == pytest.approx(models.file_size(model_dirs["xgboost"], "xgboost") / 1024)
    figure = compare.plot_comparison(table)
    assert len(figure.axes) == len(compare.COLUMNS)
    with pytest.raises(WorkshopError, match="no model directory or load result for xgboost"):
        compare.comparison_table(model_dirs, {k: v for k, v in results.items() if k != "xgboost"}, SPLIT)


# ----- the lab's manifests and cluster helpers ----------------------------------------------------

MANIFESTS = sorted(cluster.LAB_MANIFESTS.glob("*.yaml"))


def test_the_lab_manifests_validate_against_the_crd(isvc_schema):
    assert [path.stem for path in MANIFESTS] == sorted(cluster.ISVC_NAMES.values())
    assert validate.validate_paths(MANIFESTS) == []


def test_a_misspelt_field_in_a_lab8_manifest_is_rejected(isvc_schema, tmp_path):
    text = (cluster.LAB_MANIFESTS / "wine-lightgbm.yaml").read_text().replace("protocolVersion:", "protocolVersoin:")
    broken = tmp_path / "wine-lightgbm.yaml"
    broken.write_text(text)
    problems = [str(issue) for issue in validate.errors(validate.validate_paths([broken]))]
    assert problems and any("protocolVersoin" in problem for problem in problems), problems


@pytest.mark.parametrize("key", models.ORDER)
def test_each_manifest_names_a_runtime_kserve_accepts_for_its_model(key):
    isvc = cluster.manifest(key)
    model = isvc["spec"]["predictor"]["model"]
    fw = runtimes.framework(key)
    assert model["modelFormat"]["name"] == fw.model_format
    choice = runtimes.choose_runtime(
        fw.model_format,
        version=model["modelFormat"].get("version"),
        protocol=model["protocolVersion"],
        runtime=model["runtime"],
    )
    assert choice.runtime == model["runtime"], choice.reason
    assert model["protocolVersion"] == "v2"
    assert model["storageUri"] == storage.model_uri(cluster.upload_name(key))
    assert isvc["spec"]["predictor"]["serviceAccountName"] == storage.SERVICE_ACCOUNT
    assert set(model["resources"]) == {"requests", "limits"}
    # Without `runtime:` KServe would pick MLServer for v2: the manifests must keep naming theirs.
    assert runtimes.choose_runtime(fw.model_format, protocol="v2").runtime == "kserve-mlserver"


def test_the_baseline_goes_to_the_predictive_server_and_the_boosters_to_their_own():
    assert {key: cluster.manifest(key)["spec"]["predictor"]["model"]["runtime"] for key in models.ORDER} == {
        "sklearn": "kserve-predictiveserver",
        "lightgbm": "kserve-lgbserver",
        "xgboost": "kserve-xgbserver",
    }


def test_write_manifests_carries_the_uploaded_uris(tmp_path):
    uris = {key: f"s3://models/{cluster.upload_name(key)}/sha-{i}" for i, key in enumerate(models.ORDER)}
    files = cluster.write_manifests(uris, tmp_path)
    for key, path in files.items():
        written = yaml.safe_load(path.read_text())
        assert written["spec"]["predictor"]["model"]["storageUri"] == uris[key]
        assert written["metadata"]["name"] == cluster.ISVC_NAMES[key]
        assert "namespace" not in written["metadata"], "kubectl apply -n NAMESPACE chooses it"
    learner = cluster.write_manifests(uris, tmp_path / "learner", namespace="learner-07")
    assert {yaml.safe_load(p.read_text())["metadata"]["namespace"] for p in learner.values()} == {"learner-07"}
    with pytest.raises(WorkshopError, match="no uploaded model for xgboost"):
        cluster.write_manifests({k: v for k, v in uris.items() if k != "xgboost"}, tmp_path)
    with pytest.raises(WorkshopError, match="invalid storage URI"):
        use_model(cluster.manifest("lightgbm"), "models/x")


def test_the_store_accepts_the_boosters_files_and_the_upload_plan_copies_them(tmp_path):
    model = tmp_path / "model.bst"
    model.write_text("tree")
    plan = storage.upload_plan("kind-kserve-workshop", model, cluster.upload_name("lightgbm"), "seaweedfs-0")
    digest = storage.model_digest(model)  # uploads are content-addressed: s3://models/<name>/<digest>
    assert any(
        f"weed filer.copy /tmp/upload/lab8-wine-lightgbm/{digest}/model.bst" in command for command in plan.commands()
    )
    assert {".bst", ".json", ".ubj"} <= set(storage.MODEL_SUFFIXES)


def test_write_body_writes_json_for_curl(tmp_path):
    path = cluster.write_body(named_v2_request(SPLIT.X_test[:1]), tmp_path / "body.json")
    assert yaml.safe_load(path.read_text())["parameters"] == {"content_type": "pd"}


# ----- tasks ----------------------------------------------------------------------------------------


def test_platform_budget_lists_the_runtime_images_and_lab8s_pods(capsys):
    from invoke import MockContext

    from kserve_workshop.tasks import platform as platform_tasks

    platform_tasks.budget(MockContext())
    out = capsys.readouterr().out
    assert f"kserve/xgbserver:{versions.pin('kserve')}" in out and "nvidia-nccl" in out
    assert "Lab 8 adds 3 model pods requesting 0.15 CPU and 0.75 GiB" in out


def test_images_list_and_preload_carry_lab8s_runtime_images():
    from kserve_workshop.classroom import images as classroom_images

    tag = versions.pin("kserve")
    loaded = {image.reference for image in classroom_images.node_images()}
    for server in ("lgbserver", "xgbserver", "predictiveserver"):
        assert f"docker.io/kserve/{server}:{tag}" in loaded


@pytest.mark.parametrize(
    "flags, message",
    [
        ({"duration": 0}, "--duration must be more than 0 and at most 60 seconds, got 0"),
        ({"duration": 61}, "--duration"),
        ({"concurrency": 0}, "--concurrency"),
        ({"concurrency": True}, "--concurrency"),
    ],
)
def test_local_runtimes_refuses_bad_flags(flags, message, capsys):
    from invoke import Exit, MockContext

    from kserve_workshop.tasks import local as local_tasks

    with pytest.raises(Exit) as raised:
        local_tasks.local_runtimes(MockContext(), **flags)
    assert raised.value.code == 1 and message in capsys.readouterr().err


def test_the_image_size_script_sums_the_locked_wheels_for_the_platform(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("wheels", REPO_ROOT / "scripts" / "runtime_image_wheels.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def wheel(name, tag, size):
        return f'{{ url = "https://x/{name}-1.0-{tag}.whl", size = {size} }}'

    lock = tmp_path / "uv.lock"
    lock.write_text(
        "\n".join(
            [
                "[[package]]",
                'name = "server"',
                'version = "0.1"',
                'source = { virtual = "." }',
                'dependencies = [{ name = "lib" }, { name = "gpu", marker = "platform_machine == \'x86_64\'" }]',
                "[package.dev-dependencies]",
                'dev = [{ name = "fmt" }]',
                'test = [{ name = "pytest" }]',
                "[[package]]",
                'name = "lib"',
                'version = "1.0"',
                f"wheels = [{wheel('lib', 'cp311-cp311-manylinux_2_17_x86_64', 1_000_000)}, "
                f"{wheel('lib', 'cp311-cp311-manylinux_2_17_aarch64', 900_000)}, {wheel('lib', 'cp312-cp312-manylinux_2_17_x86_64', 5)}]",
                "[[package]]",
                'name = "gpu"',
                'version = "1.0"',
                f"wheels = [{wheel('gpu', 'py3-none-manylinux_2_17_x86_64', 7_000_000)}]",
                "[[package]]",
                'name = "fmt"',
                'version = "1.0"',
                f"wheels = [{wheel('fmt', 'py3-none-any', 500_000)}]",
                "[[package]]",
                'name = "pytest"',
                'version = "1.0"',
                f"wheels = [{wheel('pytest', 'py3-none-any', 9_000_000)}]",
            ]
        )
    )
    assert script.main([str(lock), "server"]) == 0
    assert "server (x86_64): 4 packages, wheels 8 MB" in capsys.readouterr().out  # test group left out
    assert script.main([str(lock), "server", "--arch", "aarch64"]) == 0
    assert "server (aarch64): 3 packages, wheels 1 MB" in capsys.readouterr().out  # no gpu wheel on arm64
    assert script.main([str(tmp_path / "missing.lock"), "server"]) == 1
    with pytest.raises(SystemExit, match="not a package"):
        script.main([str(lock), "nothing"])


def _lab_numbers(labs: str) -> set[int]:
    numbers: set[int] = set()
    for part in labs.split(","):
        first, _, last = part.strip().partition("-")
        numbers.update(range(int(first), int(last or first) + 1))
    return numbers


def test_each_runtime_images_labs_are_the_labs_whose_manifests_use_it():
    from kserve_workshop.boosting.images import RUNTIME_IMAGES

    # build_isvc (kserve_workshop.isvc) makes InferenceServices for kserve-sklearnserver in code.
    used: dict[str, set[int]] = {
        "kserve-sklearnserver": {
            int(path.name[:2])
            for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")
            if "build_isvc(" in path.read_text()
        }
    }
    for path in (REPO_ROOT / "manifests" / "labs").glob("*/*.yaml"):
        for manifest in yaml.safe_load_all(path.read_text()):
            model = ((manifest or {}).get("spec") or {}).get("predictor", {}).get("model") or {}
            if model.get("runtime"):
                used.setdefault(model["runtime"], set()).add(int(path.parent.name[:2]))
    for image in RUNTIME_IMAGES:
        assert _lab_numbers(image.labs) == used[image.runtime], image.runtime
