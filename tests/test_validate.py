"""Offline manifest validation: real Kubernetes schemas (strict) and KServe's own CRD schema.

The InferenceService cases need the pinned CRD: from the workshop's cache when it has been
fetched (`invoke schemas`), else seeded from ../shared/reference/ beside the checkout when that
exists; otherwise those tests are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.reference_files import REFERENCE_CRD

from kserve_workshop import paths, schemas, validate
from kserve_workshop.errors import WorkshopError

FIXTURES = Path(__file__).parent / "fixtures" / "manifests"
INVOKE = [sys.executable, "-m", "invoke"]


def _find_crd() -> Path | None:
    if schemas.isvc_crd_path().is_file():
        return schemas.isvc_crd_path()
    return REFERENCE_CRD if REFERENCE_CRD.is_file() else None


@pytest.fixture(scope="module")
def seeded_cache(tmp_path_factory) -> Path | None:
    """A cache directory holding the pinned InferenceService CRD, or None when it is unavailable."""
    source = _find_crd()
    if source is None:
        return None
    cache = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKSHOP_CACHE", str(cache))
    schemas.fetch_isvc_crd(source)
    schemas.isvc_schema()  # convert once for the whole module
    patch.undo()
    return cache


@pytest.fixture
def crd_cache(seeded_cache, monkeypatch):
    """WORKSHOP_CACHE pointing at the seeded cache; skips (saying why) when the CRD is unavailable."""
    if seeded_cache is None:
        pytest.skip(
            "the KServe InferenceService CRD is unavailable: run `invoke schemas` (needs internet) "
            f"or put it at {REFERENCE_CRD}"
        )
    monkeypatch.setenv("WORKSHOP_CACHE", str(seeded_cache))
    return seeded_cache


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    return tmp_path


def issues_of(name: str) -> list[validate.ValidationIssue]:
    return validate.validate_paths([FIXTURES / name])


def as_tuples(issues, severity=validate.ERROR):
    return [(i.object, i.field, i.message) for i in issues if i.severity == severity]


# ----- InferenceService against KServe's CRD -------------------------------------------------------


def test_a_valid_inferenceservice_passes(crd_cache):
    assert issues_of("isvc-valid.yaml") == []


def test_a_misspelt_inferenceservice_field_is_rejected(crd_cache):
    issues = issues_of("isvc-misspelt-field.yaml")
    assert as_tuples(issues) == [
        (
            "InferenceService/sklearn-iris",
            "spec.predictor.model.storageUrl",
            "unknown field (did you mean 'storageUri'?)",
        )
    ]
    assert issues[0].file.endswith("isvc-misspelt-field.yaml")


def test_a_mistyped_inferenceservice_field_is_rejected(crd_cache):
    found = {field: message for _, field, message in as_tuples(issues_of("isvc-wrong-type.yaml"))}
    assert set(found) == {"spec.predictor.minReplicas", "spec.predictor.canaryTrafficPercent"}
    assert found["spec.predictor.minReplicas"] == "wrong type: expected integer, found string 'two'"
    assert found["spec.predictor.canaryTrafficPercent"].startswith("wrong type: expected integer, found array")


def test_inferenceservice_metadata_is_checked_as_objectmeta(crd_cache):
    obj = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "x", "label": {"a": "b"}},
        "spec": {"predictor": {}},
    }
    assert as_tuples(validate.validate_object(obj)) == [
        ("InferenceService/x", "metadata.label", "unknown field (did you mean 'labels'?)")
    ]


def test_an_unknown_top_level_field_is_rejected(crd_cache):
    obj = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "x"},
        "specs": {},
    }
    assert ("InferenceService/x", "specs", "unknown field (did you mean 'spec'?)") in as_tuples(
        validate.validate_object(obj)
    )


def test_without_the_crd_an_inferenceservice_is_an_error_not_a_pass(empty_cache):
    errors = as_tuples(issues_of("isvc-valid.yaml"))
    assert len(errors) == 1 and "invoke schemas" in errors[0][2]


def test_the_crd_is_cached_only_when_its_checksum_matches(empty_cache):
    with pytest.raises(WorkshopError, match="checksum mismatch"):
        schemas.fetch_isvc_crd(FIXTURES / "isvc-valid.yaml")
    assert not schemas.isvc_crd_path().exists()
    assert [p for p in schemas.isvc_crd_path().parent.iterdir()] == []  # no temporary file either


def test_a_tampered_cached_crd_is_refused(crd_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    schemas.isvc_crd_path().parent.mkdir(parents=True)
    shutil.copyfile(crd_cache / schemas.isvc_crd_path().relative_to(tmp_path), schemas.isvc_crd_path())
    with schemas.isvc_crd_path().open("a") as handle:
        handle.write("\n# edited\n")
    with pytest.raises(WorkshopError, match="does not match its pinned sha256"):
        schemas.isvc_schema()


# ----- the CRD -> JSON Schema conversion, on a small CRD -------------------------------------------

TOY_CRD = {
    "spec": {
        "group": "example.com",
        "names": {"kind": "Toy"},
        "versions": [
            {
                "name": "v1",
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer", "format": "int32"},
                                    "cpu": {
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                        "x-kubernetes-int-or-string": True,
                                    },
                                    "note": {"type": "string", "nullable": True},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "empty": {"type": "object"},
                                },
                            },
                        },
                    }
                },
            }
        ],
    }
}


def _toy_errors(spec: dict) -> list[str]:
    import jsonschema

    schema = schemas.crd_to_json_schema(TOY_CRD, "v1")
    obj = {"apiVersion": "example.com/v1", "kind": "Toy", "metadata": {"anything": 1}, "spec": spec}
    return sorted(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj))


def test_conversion_disallows_unknown_fields_where_the_crd_lists_properties():
    assert _toy_errors({"size": 1, "cpu": "100m", "note": None, "labels": {"a": "b"}, "free": {"x": {"y": 1}}}) == []
    assert _toy_errors({"sise": 1}) == ["Additional properties are not allowed ('sise' was unexpected)"]
    assert _toy_errors({"empty": {"x": 1}}) == ["Additional properties are not allowed ('x' was unexpected)"]
    assert _toy_errors({"size": "1"}) == ["'1' is not of type 'integer'"]
    assert _toy_errors({"cpu": 1.5}) != []
    assert _toy_errors({"labels": {"a": 1}}) == ["1 is not of type 'string'"]


def test_conversion_pins_apiversion_and_kind():
    schema = schemas.crd_to_json_schema(TOY_CRD, "v1")
    assert schema["properties"]["apiVersion"] == {"const": "example.com/v1"}
    assert schema["properties"]["kind"] == {"const": "Toy"}
    with pytest.raises(WorkshopError, match="no version v2"):
        schemas.crd_to_json_schema(TOY_CRD, "v2")


# ----- core kinds (kubernetes-validate's bundled schemas, offline) ---------------------------------


def test_valid_core_objects_pass():
    assert issues_of("deployment-valid.yaml") == []


def test_a_misspelt_core_field_is_rejected():
    assert as_tuples(issues_of("deployment-misspelt-field.yaml")) == [
        (
            "Deployment/web",
            "spec.template.spec.containers[0].imagePullPolice",
            "unknown field (did you mean 'imagePullPolicy'?)",
        )
    ]


def test_a_mistyped_core_field_is_rejected():
    assert as_tuples(issues_of("deployment-wrong-type.yaml")) == [
        ("Deployment/web", "spec.replicas", "wrong type: expected integer, found string '3'")
    ]


def test_an_unknown_core_kind_is_an_error():
    errors = as_tuples(issues_of("core-kind-typo.yaml"))
    assert errors == [
        (
            "Deploymnet/web",
            "kind",
            "Kubernetes 1.34.0 has no kind Deploymnet in apps/v1 (check the spelling and the apiVersion)",
        )
    ]


def test_a_missing_name_is_an_error():
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {"a": "b"}}
    assert as_tuples(validate.validate_object(obj)) == [
        ("ConfigMap (document 1)", "metadata.name", "missing (every object needs a name)")
    ]


def test_lists_are_validated_item_by_item():
    obj = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "date": {}},
        ],
    }
    assert as_tuples(validate.validate_object(obj)) == [
        ("ConfigMap/bad", "date", "unknown field (did you mean 'data'?)")
    ]


def test_a_missing_required_field_names_it():
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    }
    assert as_tuples(validate.validate_object(obj)) == [("Deployment/web", "spec.selector", "required field missing")]


# ----- other kinds and files -----------------------------------------------------------------------


def test_custom_kinds_without_a_schema_are_warnings_but_their_metadata_is_checked():
    issues = issues_of("custom-kinds.yaml")
    assert as_tuples(issues) == [
        ("PodMonitor/kserve-models", "metadata.namespcae", "unknown field (did you mean 'namespace'?)")
    ]
    warnings = as_tuples(issues, validate.WARNING)
    assert [w[0] for w in warnings] == ["KnativeServing/knative-serving", "PodMonitor/kserve-models"]
    assert all("not schema-checked" in w[2] for w in warnings)


def test_crd_groups_under_k8s_io_are_custom_kinds():
    obj = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"}}
    issues = validate.validate_object(obj)
    assert as_tuples(issues) == [] and len(as_tuples(issues, validate.WARNING)) == 1


def test_the_kind_cluster_config_is_validated_strictly():
    assert as_tuples(issues_of("kind-config-typo.yaml")) == [
        ("Cluster (document 1)", "nodes[0].extraPortMappings[0].hostport", "unknown field (did you mean 'hostPort'?)")
    ]


def test_files_that_are_not_kubernetes_objects():
    assert as_tuples(issues_of("not-an-object.yaml")) == [
        (
            "object (document 1)",
            "apiVersion and kind",
            "missing: every Kubernetes object needs apiVersion and kind (Helm values files must have 'values' in "
            "their name)",
        )
    ]
    broken = as_tuples(issues_of("broken.yaml"))
    assert len(broken) == 1 and broken[0][2].startswith("not valid YAML")
    values = issues_of("istiod-values.yaml")
    assert as_tuples(values) == [] and as_tuples(values, validate.INFO) != []


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(WorkshopError, match="no such file or directory"):
        validate.validate_paths([tmp_path / "nothing.yaml"])


def test_every_manifest_in_the_repository_is_valid(seeded_cache, tmp_path, monkeypatch):
    """Every YAML under manifests/; InferenceServices need the CRD, and only they are skipped without it."""
    monkeypatch.setenv("WORKSHOP_CACHE", str(seeded_cache or tmp_path))
    issues = validate.validate_paths([paths.MANIFESTS_DIR])
    errors = [str(i) for i in validate.errors(issues)]
    if seeded_cache is None:
        errors = [e for e in errors if "InferenceService schema" not in e]
    assert errors == []
    assert validate.yaml_files([paths.MANIFESTS_DIR]), "manifests/ holds YAML files"


# ----- inputs that must never be called valid ---------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n---\n", "\n\n"])
def test_a_file_without_objects_is_an_error_not_valid(tmp_path, text):
    issues = validate.validate_paths([_write(tmp_path, "empty.yaml", text)])
    assert [(i.severity, i.message.split(":")[0]) for i in issues] == [
        (validate.ERROR, "no Kubernetes object in this file (it is empty, or holds only comments or '---')")
    ]


def test_a_folder_without_yaml_and_an_empty_path_are_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not yaml")
    with pytest.raises(WorkshopError, match="no YAML files"):
        validate.validate_paths([tmp_path])
    for nothing in ([], [""], ["  "]):
        with pytest.raises(WorkshopError, match="nothing to validate"):
            validate.validate_paths(nothing)


ISVC_HEAD = "metadata:\n  name: iris\n"


@pytest.mark.parametrize(
    "api_version, kind, field, message",
    [
        (
            "serving.kserve.io/v1beta1",
            "InferenceServce",
            "kind",
            "serving.kserve.io has no kind 'InferenceServce' (did you mean 'InferenceService'?)",
        ),
        (
            "serving.kserve.io/v1beta2",
            "InferenceService",
            "apiVersion",
            "serving.kserve.io has no version 'v1beta2': it serves v1alpha1, v1alpha2, v1beta1 "
            "(did you mean serving.kserve.io/v1beta1?)",
        ),
        (
            "serving.kserve.io/v9",
            "InferenceService",
            "apiVersion",
            "serving.kserve.io has no version 'v9': it serves v1alpha1, v1alpha2, v1beta1",
        ),
        (
            "serving.kserve.io/v1alpha1",
            "InferenceService",
            "apiVersion",
            "InferenceService is served as serving.kserve.io/v1beta1, not serving.kserve.io/v1alpha1",
        ),
        (
            "serving.kserve.io/v1alpha1",
            "ClusterServingRuntim",
            "kind",
            "serving.kserve.io has no kind 'ClusterServingRuntim' (did you mean 'ClusterServingRuntime'?)",
        ),
    ],
)
def test_a_kserve_kind_or_version_typo_is_an_error_with_a_suggestion(empty_cache, api_version, kind, field, message):
    issues = validate.validate_object({"apiVersion": api_version, "kind": kind, "metadata": {"name": "iris"}})
    assert [(i.severity, i.field, i.message) for i in issues] == [(validate.ERROR, field, message)]


def test_real_kserve_kinds_outside_the_crd_are_still_only_noted(empty_cache):
    issues = validate.validate_object(
        {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ClusterServingRuntime",
            "metadata": {"name": "kserve-sklearnserver"},
        }
    )
    assert [i.severity for i in issues] == [validate.WARNING]
    other_group = validate.validate_object(
        {"apiVersion": "example.com/v1", "kind": "Widgit", "metadata": {"name": "w"}}
    )
    assert [i.severity for i in other_group] == [validate.WARNING]


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: '1'\nmetadata:\n  name: y\n"
    issues = validate.validate_paths([_write(tmp_path, "dup.yaml", text)])
    assert [i.message for i in issues] == [
        "not valid YAML: line 7: mapping key 'metadata' is already defined at line 3 (kubectl refuses duplicate "
        "keys; the second would replace the first)"
    ]
    same_key_elsewhere = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {name: a}\n"
    assert validate.validate_paths([_write(tmp_path, "fine.yaml", same_key_elsewhere)]) == []


@pytest.mark.parametrize(
    "kind, api_version, name, message",
    [
        ("ConfigMap", "v1", "Sklearn_Iris!!", "'Sklearn_Iris!!' is not a valid ConfigMap name"),
        ("Namespace", "v1", "team.a", "'team.a' is not a valid Namespace name"),
        ("Service", "v1", "1st-service", "'1st-service' is not a valid Service name"),
        ("ConfigMap", "v1", "a" * 254, "is 254 characters long: a ConfigMap name has at most 253"),
        ("PodMonitor", "monitoring.coreos.com/v1", "Bad_Name", "'Bad_Name' is not a valid PodMonitor name"),
    ],
)
def test_names_follow_kubernetes_dns_rules(empty_cache, kind, api_version, name, message):
    issues = validate.validate_object({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}})
    assert [i.field for i in validate.errors(issues)] == ["metadata.name"]
    assert message in validate.errors(issues)[0].message


def test_inferenceservice_names_follow_kserve_rules(crd_cache):
    def name_errors(name):
        obj = {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": name},
            "spec": {
                "predictor": {
                    "model": {
                        "modelFormat": {"name": "sklearn"},
                        "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model",
                    }
                }
            },
        }
        return [i.message for i in validate.errors(validate.validate_object(obj))]

    assert name_errors("sklearn-iris") == [] and name_errors("a" * 47) == []
    assert name_errors("Sklearn_Iris!!") == [
        "'Sklearn_Iris!!' is not a valid InferenceService name: use lowercase "
        "letters, digits and '-', starting with a letter and ending with a "
        "letter or digit"
    ]
    assert "at most 47 (Knative names its revision" in name_errors("a" * 48)[0]
    assert "not a valid InferenceService name" in name_errors("9-lives")[0]


BILLION_LAUGHS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n"
    + '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"  {name}: &{name} [{','.join(['*' + previous] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi")
    )
)


def test_a_billion_laughs_is_refused_at_once(tmp_path):
    assert len(BILLION_LAUGHS) < 500
    started = time.monotonic()
    issues = validate.validate_paths([_write(tmp_path, "laughs.yaml", BILLION_LAUGHS)])
    assert time.monotonic() - started < 5, "alias expansion must be bounded before anything walks the document"
    assert [i.message.split(":")[0] for i in issues] == ["not valid YAML"]
    assert "expand to more than 1,000,000 values" in issues[0].message


def test_a_recursive_alias_is_refused():
    from kserve_workshop import manifest_yaml

    with pytest.raises(manifest_yaml.ManifestYAMLError, match="recursive"):
        manifest_yaml.load("a: &x [1, *x]\n")
    assert manifest_yaml.load("a: &x [1, 2]\nb: *x\nc: {<<: {k: 1}, k2: 2}\n") == {
        "a": [1, 2],
        "b": [1, 2],
        "c": {"k": 1, "k2": 2},
    }


# ----- the real CLI --------------------------------------------------------------------------------


def _invoke(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "WORKSHOP_CACHE": str(cache)}
    return subprocess.run([*INVOKE, *args], cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_invoke_validate_lists_file_object_and_field_and_exits_non_zero(tmp_path):
    done = _invoke(
        "validate",
        "tests/fixtures/manifests/deployment-valid.yaml",
        "--",
        "tests/fixtures/manifests/deployment-wrong-type.yaml",
        "tests/fixtures/manifests/deployment-misspelt-field.yaml",
        cache=tmp_path,
    )
    assert done.returncode == 1
    assert (
        "tests/fixtures/manifests/deployment-wrong-type.yaml: Deployment/web: spec.replicas: wrong type" in done.stderr
    )
    assert (
        "deployment-misspelt-field.yaml: Deployment/web: spec.template.spec.containers[0].imagePullPolice"
        in done.stderr
    )
    assert "deployment-valid.yaml" not in done.stderr
    assert "error: 2 error(s) in 3 file(s)" in done.stderr and "Traceback" not in done.stderr


def test_invoke_validate_an_inferenceservice(crd_cache):
    done = _invoke("validate", "tests/fixtures/manifests/isvc-misspelt-field.yaml", cache=crd_cache)
    assert done.returncode == 1 and "spec.predictor.model.storageUrl: unknown field" in done.stderr
    done = _invoke("validate", "tests/fixtures/manifests/isvc-valid.yaml", cache=crd_cache)
    assert done.returncode == 0 and "1 file(s) valid" in done.stdout


def test_invoke_validate_a_missing_path(tmp_path):
    done = _invoke("validate", "no/such/dir", cache=tmp_path)
    assert done.returncode == 1 and "no such file or directory: no/such/dir" in done.stderr
    assert "Traceback" not in done.stderr


def test_invoke_schemas_refuses_a_wrong_file(tmp_path):
    done = _invoke("schemas", "--from-file", "tests/fixtures/manifests/broken.yaml", cache=tmp_path)
    assert done.returncode == 1 and "checksum mismatch" in done.stderr and "Traceback" not in done.stderr
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_invoke_schemas_keeps_a_valid_cache_without_fetching(crd_cache):
    # WORKSHOP_TOOLS_BASE_URL-style overrides do not apply to the CRD, so a fetch here would fail
    # offline: succeeding proves the cached, checksummed copy was kept.
    done = _invoke("schemas", cache=crd_cache)
    assert done.returncode == 0 and "already cached" in done.stdout


def test_invoke_schemas_does_not_trust_a_tampered_cache(crd_cache, tmp_path, monkeypatch):
    import shutil

    from kserve_workshop import schemas

    assert schemas.cached_isvc_crd_is_valid()
    cache = tmp_path / "cache"
    shutil.copytree(crd_cache, cache)
    monkeypatch.setenv("WORKSHOP_CACHE", str(cache))
    crd = schemas.isvc_crd_path()
    crd.write_text(crd.read_text() + "\n# tampered\n")
    assert not schemas.cached_isvc_crd_is_valid()
