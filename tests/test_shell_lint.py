"""Static checks of the notebooks' shell lines: kubectl commands, flags and resource types that exist.

The reference they check against is generated from a real kubectl and the platform's CRDs
(scripts/kubectl_reference.py); when a kubectl binary is at hand, the commands and flags are
collected again from it and compared with the committed file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from kserve_workshop.labkit import kubectl_reference as ref
from kserve_workshop.labkit.kubectl_reference import reference
from kserve_workshop.labkit.notebook_cells import python_of
from kserve_workshop.labkit.notebook_lint import check_notebook
from kserve_workshop.labkit.shell_lint import check_line, expressions, shell_lines
from kserve_workshop.paths import REPO_ROOT
from kserve_workshop.versions import pin

FIRST = "%load_ext kserve_workshop.notebook\nCONTEXT, NAMESPACE, NAME = 'kind-x', 'default', 'iris'"


def problems_of(tmp_path, *sources: str) -> list[str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (FIRST, *sources)]
    path = tmp_path / "09-shell.ipynb"
    nbformat.write(nb, path)
    return [str(problem) for problem in check_notebook(path)]


# ------------------------------------------------------------------------- in a notebook


def test_a_made_up_kubectl_flag_in_a_cluster_cell_fails_the_static_check(tmp_path):
    problems = problems_of(
        tmp_path, "%%cluster\n!kubectl --context {CONTEXT} -n {NAMESPACE} get isvc {NAME} --show-everything"
    )
    assert problems == ["09-shell.ipynb cell 2, line 2: kubectl get: no flag --show-everything"]


def test_the_same_cell_with_real_flags_passes(tmp_path):
    assert (
        problems_of(
            tmp_path, "%%cluster\n!kubectl --context {CONTEXT} -n {NAMESPACE} get isvc {NAME} --show-labels -o wide"
        )
        == []
    )


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("!kubectl --context {CONTEXT} gett pods", "kubectl: no command 'gett' (did you mean 'get'?)"),
        ("!kubectl rollout stat deploy/x", "kubectl rollout: no command 'stat' (did you mean 'status'?)"),
        ("!kubectl top pds", "kubectl top: no command 'pds' (did you mean 'pod'?)"),
        (
            "!kubectl get inferenceservice {NAME} --namspace x",
            "kubectl get: no flag --namspace (did you mean 'namespace'?)",
        ),
        ("!kubectl -n {NAMESPACE} get isvcs", "kubectl get: no resource type 'isvcs' (did you mean 'isvc'?)"),
        ("!kubectl get kpas -n {NAMESPACE}", "no resource type 'kpas'"),
        ("!kubectl get podautoscalers.serving.knative.dev", "no resource type 'podautoscalers.serving.knative.dev'"),
        ("!kubectl logs deployment/x -n {NAMESPACE} -c kserve-container -z", "kubectl logs: no flag -z"),
        ("!kubectl port-forward svcs/prometheus 9090", "kubectl port-forward: no resource type 'svcs'"),
        ("!kubectl wait --for=condition=Ready isvc/{NAME} --timeout", "kubectl wait: --timeout needs a value"),
        ("!kubectl events --for inferenceservic/{NAME}", "kubectl events: no resource type 'inferenceservic'"),
        ("out = !kubectl get pods -x", "kubectl get: no flag -x"),
        (
            "!kubectl get isvc {NAME} -n {NAMESPACE} -o jsonpath='{.status.url}'",
            "{.status.url} is not a Python expression, so IPython runs this line unexpanded and {NAME} is not replaced",
        ),
        (
            "!kubectl create configmap x --from-file=a.py -o yaml --dry-run=client | kubectl aply -f -",
            "kubectl: no command 'aply' (did you mean 'apply'?)",
        ),
    ],
)
def test_what_kubectl_would_refuse_is_reported(tmp_path, line, fragment):
    problems = problems_of(tmp_path, f"%%cluster\n{line}")
    assert len(problems) == 1 and fragment in problems[0] and "cell 2, line 2" in problems[0], problems


@pytest.mark.parametrize(
    "line",
    [
        "kubectl --context {CONTEXT} -n {NAMESPACE} apply -f {NAME}.yaml",
        "kubectl --context {CONTEXT} -n {NAMESPACE} wait --for=condition=Ready inferenceservice/{NAME} --timeout=300s",
        "kubectl --context {CONTEXT} -n {NAMESPACE} get pods -l serving.kserve.io/inferenceservice={NAME}",
        "kubectl --context {CONTEXT} -n {NAMESPACE} get podautoscalers -l serving.kserve.io/inferenceservice={NAME}",
        "kubectl get kpa,pods -A",
        "kubectl get podautoscalers.autoscaling.internal.knative.dev",
        "kubectl get deployments.v1.apps -n kserve",
        "kubectl get routes.serving.knative.dev {NAME}-predictor -o yaml",
        "kubectl get isvc {NAME} -o jsonpath='{{.status.components.predictor.traffic}}'",
        "kubectl get revisions -l serving.kserve.io/inferenceservice={NAME} -o custom-columns='NAME:.metadata.name'",
        "kubectl describe inferenceservice {NAME}",
        "kubectl get events --field-selector involvedObject.name={NAME} --sort-by=.lastTimestamp",
        'kubectl patch isvc {NAME} --type=json -p \'[{{"op": "remove", "path": "/spec/predictor/x"}}]\'',
        "kubectl annotate secret s3 serving.kserve.io/s3-usevirtualbucket=false --overwrite",
        "kubectl logs -l serving.kserve.io/inferenceservice={NAME} -c kserve-container --tail=5",
        "kubectl exec -n model-store deploy/seaweedfs -c seaweedfs -- sh -c 'echo s3.bucket.list | weed shell'",
        "kubectl get pmon,smon -n monitoring",
        "kubectl explain isvc.spec.predictor.canaryTrafficPercent",
        "kubectl get all -n {NAMESPACE}",
        "kubectl get -ojson pods",
        "kubectl top pods -n {NAMESPACE}",  # `top pod` answers to pods and po too
        "kubectl top po --containers",
        "kubectl create cm settings --from-literal=a=b",
        "kubectl get clusterservingruntime kserve-lgbserver -o jsonpath='{.spec.supportedModelFormats}{\"\\n\"}'",
    ],
)
def test_what_kubectl_accepts_passes(line):
    assert check_line(line) == []


def test_names_in_a_shell_line_are_checked_like_python(tmp_path):
    problems = problems_of(tmp_path, "%%cluster\n!kubectl -n {NAMESPAC} get isvc", "!echo {undefined_here}")
    assert problems == [
        "09-shell.ipynb cell 2, line 2: undefined name 'NAMESPAC'",
        "09-shell.ipynb cell 3, line 1: undefined name 'undefined_here'",
    ]


def test_a_local_shell_line_using_a_name_bound_only_in_cluster_cells_is_reported(tmp_path):
    problems = problems_of(tmp_path, "%%cluster\nHOST = 'x'", "!curl -H 'Host: {HOST}' http://127.0.0.1:1")
    assert problems == [
        "09-shell.ipynb cell 3, line 1: undefined name 'HOST' (it is bound only in %%cluster "
        "cells, which are skipped without a cluster)"
    ]


def test_bash_cells_are_checked_without_ipython_expansion(tmp_path):
    problems = problems_of(
        tmp_path, "%%bash\nkubectl get pods -o jsonpath='{.items[*].metadata.name}'\nkubectl get pods --wide"
    )
    assert problems == ["09-shell.ipynb cell 2, line 3: kubectl get: no flag --wide"]


def test_shell_lines_and_their_expressions():
    source = "%%cluster\n!kubectl -n {NAMESPACE} get isvc\nrows = !kubectl get pods -o name\nprint(rows)"
    assert [(line.line, line.text) for line in shell_lines(source)] == [
        (2, "kubectl -n {NAMESPACE} get isvc"),
        (3, "kubectl get pods -o name"),
    ]
    assert expressions("curl -H 'Host: {route.host}' {route.url('v1')} {{literal}}") == [
        "route.host",
        "route.url('v1')",
    ]
    python, _, _ = python_of("%%cluster\n!kubectl -n {NAMESPACE} get isvc {isvc['metadata']['name']}\nx = !ls {path}")
    assert python.split("\n")[1:] == ["(NAMESPACE, isvc['metadata']['name'],)", "x = (path,) and None"]


# ----------------------------------------------------------------------------- the reference


def test_help_texts_are_parsed_into_commands_and_flags():
    help_text = (
        "Display one or many resources.\n\nAvailable Commands:\n  history       View rollout history\n"
        "  status        Show the status of the rollout\n\nOptions:\n    -A, --all-namespaces=false:\n"
        "\tIf present, list across all namespaces.\n\n    --chunk-size=500:\n\tReturn large lists.\n\n"
        "    -o, --output='':\n\tOutput format.\n\nUsage:\n  kubectl get [flags] [options]\n"
    )
    assert ref.parse_subcommands(help_text) == ["history", "status"]
    assert ref.parse_options(ref.options_section(help_text)) == {
        "all-namespaces": {"short": "A", "value": False},
        "chunk-size": {"short": None, "value": True},
        "output": {"short": "o", "value": True},
    }
    top = (
        "kubectl controls it.\n\nBasic Commands (Beginner):\n  create   Create\n\nOther Commands:\n"
        "  version  Print\n\nUsage:\n  kubectl [flags] [options]\n"
    )
    assert ref.parse_subcommands(top, top_level=True) == ["create", "version"]


def test_collect_commands_walks_every_subcommand():
    texts = {
        ("options",): "    --context='':\n\tcontext\n",
        ("--help",): "Basic Commands:\n  rollout   Manage\n\nUsage:\n",
        ("rollout", "--help"): "Available Commands:\n  status   Show\n\nUsage:\n",
        ("rollout", "status", "--help"): "Aliases:\nstatus, st\n\nOptions:\n    -w, --watch=true:\n\twatch\n\nUsage:\n",
    }
    collected = ref.collect_commands(lambda args: texts[tuple(args)])
    assert collected == {
        "global_flags": {"context": {"short": None, "value": True}},
        "commands": {
            "rollout": {"aliases": [], "flags": {}, "subcommands": ["status"]},
            "rollout status": {
                "aliases": ["st"],
                "flags": {"watch": {"short": "w", "value": False}},
                "subcommands": [],
            },
        },
    }


def test_the_reference_records_where_it_came_from():
    data = reference().data
    assert data["kubectl"]["pinned"] == pin("kubectl"), "regenerate the reference when the kubectl pin moves"
    assert data["kubectl"]["version"].startswith("v1.")
    sources = data["resources"]["sources"]
    for expected in (
        f"kserve/kserve {pin('kserve')}",
        f"knative/serving knative-v{pin('knative', 'serving_version')}",
        f"kube-prometheus-stack-{pin('monitoring', 'kube_prometheus_stack_version')}",
    ):
        assert any(expected in source for source in sources), (expected, sources)
    assert all(entry["source"] in {s.split(" (kinds kept")[0] for s in sources} for entry in data["resources"]["types"])
    assert "/root/" not in ref.DATA_FILE.read_text() and "/work/" not in ref.DATA_FILE.read_text()


@pytest.mark.parametrize(
    "spelled, kind",
    [
        ("isvc", "InferenceService"),
        ("inferenceservices", "InferenceService"),
        ("kpa", "PodAutoscaler"),
        ("rt", "Route"),
        ("ksvc", "Service"),
        ("rev", "Revision"),
        ("pmon", "PodMonitor"),
        ("po", "Pod"),
        ("deploy", "Deployment"),
        ("ClusterServingRuntime", "ClusterServingRuntime"),
        ("ev", "Event"),
    ],
)
def test_resource_types_the_labs_use_are_known(spelled, kind):
    assert kind in {found.kind for found in reference().resource(spelled)}


def test_kserve_types_match_the_pinned_crd_when_it_is_cached():
    from kserve_workshop.schemas import cached_isvc_crd_is_valid, isvc_crd_path

    if not cached_isvc_crd_is_valid():
        pytest.skip("KServe's InferenceService CRD is not in the cache (`invoke schemas`)")
    expected = ref.resources_from_crds(yaml.safe_load_all(isvc_crd_path().read_text()), "")[0]
    (entry,) = [r for r in reference().data["resources"]["types"] if r["kind"] == "InferenceService"]
    assert {k: v for k, v in entry.items() if k != "source"} == {k: v for k, v in expected.items() if k != "source"}


def _kubectl_binaries() -> list[str]:
    """kubectl binaries on this machine: the pinned one in .bin/, the one on PATH, and versioned
    siblings of it (the Google Cloud SDK installs kubectl.1.NN beside its dispatcher)."""
    from kserve_workshop.paths import bin_dir

    found = [str(bin_dir() / "kubectl")] if (bin_dir() / "kubectl").exists() else []
    on_path = shutil.which("kubectl")
    if on_path:
        found.append(on_path)
        found += sorted(str(p) for p in Path(on_path).resolve().parent.glob("kubectl.1.*"))
    return found


@pytest.mark.slow  # about 100 `kubectl <command> --help` runs
def test_the_reference_is_what_kubectl_itself_says():
    recorded = reference().data
    versions = {}
    for binary in _kubectl_binaries():
        try:
            versions.setdefault(ref.kubectl_version(binary), binary)
        except (RuntimeError, OSError, ValueError, KeyError):
            continue
    if pin("kubectl") in versions and recorded["kubectl"]["version"] != pin("kubectl"):
        pytest.fail(
            f"the kubectl reference comes from {recorded['kubectl']['version']}, and the pinned "
            f"{pin('kubectl')} is at {versions[pin('kubectl')]}: regenerate it with "
            f"`scripts/kubectl_reference.py --kubectl {versions[pin('kubectl')]}` and commit"
        )
    binary = versions.get(recorded["kubectl"]["version"])
    if binary is None:
        pytest.skip(f"no kubectl {recorded['kubectl']['version']} here (found: {sorted(versions) or 'none'})")
    again = ref.collect_commands(ref.run_kubectl(binary))
    assert again["global_flags"] == recorded["global_flags"]
    assert json.dumps(again["commands"], sort_keys=True) == json.dumps(recorded["commands"], sort_keys=True)


def test_the_script_writes_the_same_file(tmp_path):
    """The committed file is the script's output format (regenerating changes nothing but the data)."""
    data = reference().data
    assert ref.DATA_FILE.read_text() == ref.dump_reference(data)
    assert (REPO_ROOT / "scripts" / "kubectl_reference.py").exists()
