"""The bad inputs a person would type into the command-line tools: one clear message, a non-zero exit,
no traceback, nothing reached beyond this machine.

The tools run in this process (``support.cli``) with an empty cache, no kubeconfig and no colour.
Each ``bad_input`` marker is a row of the bad-input table in docs/bad-inputs.md, which is generated
from these markers (``python tests/support/bad_input_table.py``); the test under it proves the row.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from support.cli import Outcome, invoke_cli, load_cli

bad_input = pytest.mark.bad_input


@pytest.fixture(autouse=True)
def _no_cluster_no_colour(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("NO_COLOR", "1")


def refused(outcome: Outcome, *fragments: str, code: int = 1) -> None:
    """One clear refusal: the exit code, every fragment verbatim on stderr, no traceback."""
    assert outcome.traceback == "", outcome.traceback
    assert "Traceback" not in outcome.text, outcome.text
    assert outcome.code == code, (outcome.code, outcome.text)
    for fragment in fragments:
        assert fragment in outcome.err, f"{fragment!r} not in:\n{outcome.err}"


# ----- messages that carry what the user typed ------------------------------------------------------

BRACKETS = "[/oops] [word]"


@bad_input(
    tool="every task",
    input="text with brackets (`[/x]`, `[word]`) in a flag, path or value",
    example="invoke image.push --registry 'not a registry'",
    behaviour="the message shows the text verbatim (`HOST[:PORT][/PATH]`); before, rich read it as "
    "markup and crashed on `[/...]` or dropped `[word]`",
)
@pytest.mark.parametrize(
    "args, shown",
    [
        (["image.push", "--registry", "not a registry"], "expected HOST[:PORT][/PATH] in lower case"),
        (["image.push", "--registry", BRACKETS], BRACKETS),
        (["platform.install", "--component", BRACKETS, "--dry-run"], BRACKETS),
        (["platform.uninstall", "--dry-run", "--context", BRACKETS], BRACKETS),
        (["validate", f"no/such/{BRACKETS}.yaml"], f"no/such/{BRACKETS}.yaml"),
        (["diagnose", BRACKETS, "--from-dir", f"no/{BRACKETS}"], BRACKETS),
        (["kind.create", "--name", BRACKETS, "--dry-run"], BRACKETS),
        (["gke.create", "--project", BRACKETS, "--dry-run"], BRACKETS),
        (["local", "--requests", "0"], "--requests must be between 1 and"),
        (["grade", "--labs-dir", f"no/{BRACKETS}"], f"no/{BRACKETS}"),
        (["class.report", "--scorecards", f"no/{BRACKETS}"], BRACKETS),
        (["smoke", "--dry-run", "--base-url", f"http://x/{BRACKETS}"], BRACKETS),
    ],
)
def test_text_with_brackets_is_printed_verbatim_on_every_error_path(args, shown):
    outcome = invoke_cli(*args)
    refused(outcome, shown)


def test_a_validation_finding_quoting_a_value_with_brackets(tmp_path):
    manifest = tmp_path / "brackets.yaml"
    manifest.write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: ["[/oops]", "[word]"]}\n')
    refused(invoke_cli("validate", str(manifest)), "found array ['[/oops]', '[word]']")


def test_warnings_and_plans_keep_brackets_too(tmp_path, capsys):
    from kserve_workshop.console import warn
    from kserve_workshop.plan import Plan, Runner, Step

    warn(f"about {BRACKETS}")
    Runner(None, dry_run=True).execute(Plan("p", [Step(title=f"copy {BRACKETS}", command=["cp", BRACKETS, "x"])]))
    captured = capsys.readouterr()
    assert f"warning: about {BRACKETS}" in captured.err
    assert f"# copy {BRACKETS}" in captured.out and f"cp '{BRACKETS}' x" in captured.out


def test_the_load_generator_prints_brackets_verbatim(tmp_path):
    refused(load_cli("http://127.0.0.1:9/x", "--payload", str(tmp_path / f"{BRACKETS}.json")), f"{BRACKETS}.json")
    refused(load_cli("http://example.com/x", "--iris"), "allow_hosts=[host] in Python")
    # The URL itself is echoed on the progress line before the run.
    refused(load_cli(f"http://127.0.0.1:9/{BRACKETS}", "--iris", "-n", "1"), f"load on http://127.0.0.1:9/{BRACKETS}:")


# ----- invoke validate --------------------------------------------------------------------------------


@bad_input(
    tool="invoke validate",
    input="an empty file, one with only comments or only `---`",
    example="invoke validate empty.yaml",
    behaviour='error naming the file: no Kubernetes object in it (before: "1 file(s) valid")',
)
@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n---\n"])
def test_validate_refuses_files_without_objects(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    refused(invoke_cli("validate", str(path)), "no Kubernetes object in this file", "1 error(s) in 1 file(s)")


@bad_input(
    tool="invoke validate",
    input="a folder without YAML files, or no path at all",
    example="invoke validate notes/ ; invoke validate ''",
    behaviour="error: nothing to validate",
)
def test_validate_refuses_an_empty_folder_and_an_empty_path(tmp_path):
    refused(invoke_cli("validate", str(tmp_path)), f"no YAML files (*.yaml, *.yml) in {tmp_path}")
    refused(invoke_cli("validate", ""), "nothing to validate: no file or directory was given")


@bad_input(
    tool="invoke validate",
    input="a folder holding a broken symlink named *.yaml (or a symlink loop)",
    example="ln -s gone.yaml manifests/isvc.yaml",
    behaviour="an error naming the link: it cannot be read (before: skipped in silence, the rest called valid)",
)
def test_validate_reports_broken_symlinks_in_a_folder(tmp_path):
    (tmp_path / "good.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (tmp_path / "isvc.yaml").symlink_to(tmp_path / "gone.yaml")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    outcome = invoke_cli("validate", str(tmp_path))
    refused(outcome, "isvc.yaml: (file): cannot read", "loop.yaml: (file): cannot read")


@bad_input(
    tool="invoke validate",
    input="a kind or version typo in KServe's API group",
    example="kind: InferenceServce / apiVersion: serving.kserve.io/v1beta2",
    behaviour="error with a suggestion (`did you mean 'InferenceService'?`, the versions it serves)",
)
def test_validate_refuses_kserve_typos(tmp_path):
    kind = tmp_path / "kind.yaml"
    kind.write_text("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceServce\nmetadata: {name: iris}\n")
    refused(
        invoke_cli("validate", str(kind)),
        "serving.kserve.io has no kind 'InferenceServce' (did you mean 'InferenceService'?)",
    )
    version = tmp_path / "version.yaml"
    version.write_text("apiVersion: serving.kserve.io/v1beta2\nkind: InferenceService\nmetadata: {name: iris}\n")
    refused(invoke_cli("validate", str(version)), "serving.kserve.io has no version 'v1beta2'")
    lower = tmp_path / "lower.yaml"
    lower.write_text("apiVersion: serving.kserve.io/v1beta1\nkind: inferenceservice\nmetadata: {name: iris}\n")
    refused(
        invoke_cli("validate", str(lower)),
        "'inferenceservice' is not a kind name (CamelCase) (did you mean 'InferenceService'?)",
    )


@bad_input(
    tool="invoke validate",
    input="a key written twice in one mapping",
    example="two `predictor:` keys under `spec:`",
    behaviour="error naming the key and both lines, as kubectl refuses it (before: the second "
    "silently replaced the first)",
)
def test_validate_refuses_duplicate_keys(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: '1'\n  a: '2'\n")
    refused(invoke_cli("validate", str(path)), "line 6: mapping key 'a' is already defined at line 5")


@bad_input(
    tool="invoke validate",
    input="an object name against Kubernetes' DNS rules",
    example="metadata.name: Sklearn_Iris!!",
    behaviour="error saying which characters a name may hold (and KServe's 47-character limit)",
)
def test_validate_refuses_bad_names(tmp_path):
    path = tmp_path / "name.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Sklearn_Iris!!}\n")
    refused(invoke_cli("validate", str(path)), "'Sklearn_Iris!!' is not a valid ConfigMap name")


@bad_input(
    tool="invoke validate",
    input='a "billion laughs" (419 bytes of nested YAML aliases)',
    example="invoke validate laughs.yaml",
    behaviour="refused at once: the aliases expand to more than 1,000,000 values (before: 82-146 s)",
)
def test_validate_refuses_a_billion_laughs_quickly(tmp_path):
    import time

    from test_validate import BILLION_LAUGHS

    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    refused(invoke_cli("validate", str(path)), "expand to more than 1,000,000 values")
    assert time.monotonic() - started < 5


@bad_input(
    tool="invoke validate",
    input="YAML nested thousands of levels deep",
    example="a: [[[[ ... ]]]] (50,000 brackets)",
    behaviour="refused: nested too deeply (before: a RecursionError traceback)",
)
@pytest.mark.parametrize("text", ["a: " + "[" * 50_000 + "]" * 50_000, "a: " + "{b: " * 5_000 + "1" + "}" * 5_000])
def test_validate_refuses_yaml_nested_too_deeply(tmp_path, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    refused(invoke_cli("validate", str(path)), "nested too deeply")


# ----- cluster and cloud tasks ------------------------------------------------------------------------


@bad_input(
    tool="invoke gke.create, invoke setup-gke",
    input="both --zone and --region",
    example="invoke gke.create --project p --zone europe-west1-b --region europe-west1",
    behaviour="refused: a zonal or a regional cluster (3x the nodes and the cost) must be chosen "
    "(before: silently regional)",
)
@pytest.mark.parametrize("task", ["gke.create", "setup-gke"])
def test_gke_refuses_a_zone_and_a_region_together(task):
    refused(
        invoke_cli(
            task, "--project", "my-project-1", "--zone", "europe-west1-b", "--region", "europe-west1", "--dry-run"
        ),
        "give a zone or a region, not both (zone 'europe-west1-b', region 'europe-west1')",
    )


def test_gke_without_zone_or_region_stays_zonal_in_the_default_zone():
    outcome = invoke_cli("gke.create", "--project", "my-project-1", "--dry-run")
    assert outcome.code == 0, outcome.text
    assert "--location us-central1-a --release-channel" in outcome.out
    regional = invoke_cli("gke.create", "--project", "my-project-1", "--region", "europe-west1", "--dry-run")
    assert regional.code == 0 and "--location europe-west1 --release-channel" in regional.out


@bad_input(
    tool="invoke smoke",
    input="--base-url that is not an ingress address",
    example="invoke smoke --dry-run --base-url notaurl",
    behaviour="refused, with the address's expected shape (before: accepted)",
)
@pytest.mark.parametrize(
    "url",
    ["notaurl", "ftp://1.2.3.4", "http://1.2.3.4/v1/models", "http://1.2.3.4:99999", "http://[::1", "http://[x]:80"],
)
def test_smoke_refuses_a_base_url_that_is_not_an_address(url):
    refused(invoke_cli("smoke", "--dry-run", "--base-url", url), f"not an ingress address: {url!r}")


class SilentServer:
    """A TCP port that accepts connections and never answers: an API server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def write_kubeconfig(path: Path, server: str, context: str = "kind-kserve-workshop") -> None:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "{server}", insecure-skip-tls-verify: true}}
users:
- name: u
  user: {{token: t}}
contexts:
- name: {context}
  context: {{cluster: c, user: u}}
current-context: {context}
""")


@bad_input(
    tool="invoke smoke",
    input="a cluster that does not answer (hung or stopped API server)",
    example="invoke smoke (kind's container stopped)",
    behaviour="one error within 5 s: the cluster does not answer (before: walls of kubectl errors, "
    "181 s when the API hangs)",
)
def test_smoke_on_a_cluster_that_does_not_answer_is_one_bounded_error(tmp_path, monkeypatch):
    import time

    from kserve_workshop.kube import client
    from kserve_workshop.tasks import platform

    monkeypatch.setattr(client, "REACHABLE_TIMEOUT", 1.0)
    monkeypatch.setattr(platform, "require_tools", lambda *names: None)  # kubectl is not needed to see it
    hung = SilentServer()
    try:
        write_kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{hung.port}")
        monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
        started = time.monotonic()
        outcome = invoke_cli("smoke")
        assert time.monotonic() - started < 10
    finally:
        hung.close()
    refused(outcome, "the cluster of kube context 'kind-kserve-workshop'", "does not answer within 1 s")
    assert outcome.err.count("error:") == 1


@bad_input(
    tool="invoke platform.upload-model",
    input="no cluster at all, with --dry-run",
    example="invoke platform.upload-model --file model.joblib --name iris --dry-run",
    behaviour="prints the plan with a placeholder pod and says there is no cluster (before: blamed the model store)",
)
def test_upload_model_dry_run_without_a_cluster(tmp_path):
    model = tmp_path / "model.joblib"
    model.write_bytes(b"x")
    outcome = invoke_cli("platform.upload-model", "--file", str(model), "--name", "iris", "--dry-run")
    assert outcome.code == 0 and outcome.traceback == ""
    assert "no cluster here" in outcome.err and "model store is not running" not in outcome.text
    assert "<model-store-pod>" in outcome.out


@bad_input(
    tool="invoke image.build",
    input="no Docker installed",
    example="invoke image.build",
    behaviour="error: missing docker, with Docker's install page (before: suggested `invoke tools`, "
    "which does not install Docker)",
)
def test_image_build_without_docker_points_at_dockers_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.setenv("WORKSHOP_BIN", str(tmp_path / "bin"))
    refused(
        invoke_cli("image.build"),
        "missing tool(s): docker",
        "https://docs.docker.com/get-docker/",
        "`invoke tools` does not install it",
    )


@bad_input(
    tool="invoke grade, labs.generate, docs.build",
    input="an output folder that is a file or cannot be created",
    example="invoke grade --out notes.txt",
    behaviour="error naming the flag and the path (before: a FileExistsError traceback)",
)
@pytest.mark.parametrize(
    "args, flag",
    [
        (["grade", "--out", "{file}"], "--out"),
        (["labs.generate", "--labs-dir", "{file}"], "--labs-dir"),
        (["docs.build", "--site-dir", "{file}/site"], "--site-dir"),
    ],
)
def test_output_folders_that_cannot_be_folders(tmp_path, args, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    args = [arg.format(file=a_file) for arg in args]
    refused(invoke_cli(*args), f"{flag} {args[-1]}")


@bad_input(
    tool="invoke grade",
    input="--labs-dir with no lab notebook in it, and a new --out",
    example="invoke grade --labs-dir notes/ --out my-grade",
    behaviour="refused before anything is made: the --out folder is not created (before: left behind, empty)",
)
def test_grade_without_notebooks_leaves_no_output_folder(tmp_path):
    (tmp_path / "notes").mkdir()
    out = tmp_path / "my-grade"
    refused(invoke_cli("grade", "--labs-dir", str(tmp_path / "notes"), "--out", str(out)), "no lab notebooks")
    assert not out.exists()


@bad_input(
    tool="invoke doctor",
    input="--config that is binary, a YAML list, or maps `hostPort: 99999`",
    example="invoke doctor --config list.yaml",
    behaviour="the host-ports check fails saying why; the other checks still run (before: a traceback)",
)
@pytest.mark.parametrize(
    "content, says",
    [
        (b"\x00\x01\xff\xfe", "cannot read the kind config"),
        (b"- a\n- b\n", "is a YAML list, not a kind Cluster"),
        (
            b"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n"
            b"  - {containerPort: 31080, hostPort: 99999}\n",
            "hostPort 99999 is not a port (1 to 65535)",
        ),
    ],
)
def test_doctor_reports_a_broken_kind_config_as_a_failed_check(tmp_path, content, says):
    from kserve_workshop import cluster

    config = tmp_path / "kind.yaml"
    config.write_bytes(content)
    with pytest.raises(Exception) as info:
        cluster.kind_port_mappings(config)
    assert type(info.value).__name__ == "WorkshopError" and says in info.value.message
    outcome = invoke_cli("doctor", "--config", str(config))
    assert outcome.traceback == "" and outcome.code == 1
    assert f"host ports: {info.value.message}" in outcome.out


@bad_input(
    tool="invoke platform.install/uninstall",
    input="--component with no name in it",
    example="invoke platform.uninstall --component ',,'",
    behaviour='one full sentence and the valid names (before: "no component named")',
)
def test_an_empty_component_list_is_a_sentence():
    refused(
        invoke_cli("platform.uninstall", "--component", ",,", "--dry-run"),
        "the component list ',,' names no component",
        "cert-manager, istio",
    )


# ----- the local tier ----------------------------------------------------------------------------------


@bad_input(
    tool="invoke local",
    input="--port that another server (another `invoke local`) holds",
    example="invoke local --port 8080",
    behaviour="refused before anything starts; the other server and its log are untouched (before: "
    "reported success against the other server and emptied its log)",
)
def test_local_refuses_a_port_in_use_before_training():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused(invoke_cli("local", "--port", str(port)), f"--port {port}: the port is already in use")


@bad_input(
    tool="every task, the notebooks",
    input="WORKSHOP_CACHE pointing at a file or an unusable place",
    example="WORKSHOP_CACHE=/etc/passwd invoke local",
    behaviour="one error naming the variable (before: a traceback)",
)
@pytest.mark.parametrize(
    "where, says", [("{file}", "is a file, not a directory"), ("{file}/cache", "cannot be used as a directory")]
)
def test_an_unusable_cache_is_one_error(tmp_path, monkeypatch, where, says):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    monkeypatch.setenv("WORKSHOP_CACHE", where.format(file=a_file))
    refused(invoke_cli("local"), f"WORKSHOP_CACHE={where.format(file=a_file)}", says)


# ----- kserve-workshop-load ------------------------------------------------------------------------------


@bad_input(
    tool="kserve-workshop-load",
    input="a rate or timeout that is not finite",
    example="kserve-workshop-load URL -r inf ; --timeout inf",
    behaviour="refused naming the flag (before: `-r inf` never stopped, `--timeout inf` a traceback)",
)
@pytest.mark.parametrize(
    "flags, says",
    [
        (["-r", "inf"], "rate must be a positive, finite number"),
        (["--timeout", "inf"], "timeout must be a positive, finite number"),
        (["-d", "nan"], "duration must be a positive, finite number"),
    ],
)
def test_load_refuses_non_finite_numbers(flags, says):
    refused(load_cli("http://127.0.0.1:9/x", "--iris", *flags), says)


@bad_input(
    tool="kserve-workshop-load",
    input="--method that is not an HTTP method",
    example="kserve-workshop-load URL --method 'GE T'",
    behaviour="refused naming the method (before: a traceback from aiohttp)",
)
@pytest.mark.parametrize("method", ["GE T", "POST\r\nX: y", "GET/"])
def test_load_refuses_a_method_that_is_not_a_token(method):
    refused(load_cli("http://127.0.0.1:9/x", "--iris", "-n", "1", "--method", method), "not an HTTP method")


@bad_input(
    tool="invoke labs.catchup, labs.reset",
    input="no lab number, or not a number",
    example="invoke labs.catchup --local-only ; invoke labs.reset --lab x",
    behaviour="one error naming the flag, with the lab numbers there are (before: `--to must be a lab number, got ''`)",
)
@pytest.mark.parametrize(
    "args, says",
    [
        (["labs.catchup", "--local-only"], "--to N is needed"),
        (["labs.catchup", "--to", "abc", "--local-only"], "--to must be a lab number, got 'abc'"),
        (["labs.reset", "--local-only"], "--lab N is needed"),
    ],
)
def test_labs_catchup_and_reset_without_a_lab_number(args, says):
    refused(invoke_cli(*args), says, "labs: 1, 2, 3")


@bad_input(
    tool="kserve-workshop-load",
    input="a count or concurrency below 1",
    example="kserve-workshop-load URL --iris -n 0",
    behaviour="refused naming the flag typed, `-n/--requests` (before: the Python name `max_requests`)",
)
@pytest.mark.parametrize(
    "flags, says",
    [
        (["-n", "0"], "-n/--requests must be a whole number of at least 1, got 0"),
        (["-c", "0"], "-c/--concurrency must be a whole number from 1 to"),
    ],
)
def test_load_names_the_flag_typed(flags, says):
    refused(load_cli("http://127.0.0.1:9/x", "--iris", *flags), says)
