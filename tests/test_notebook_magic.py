"""The %%cluster cell magic: visibly skipped without a cluster, an error when one is required.

No API server is faked: "a cluster is there" is injected as a status, and the real probe is only
pointed at a missing kubeconfig or a closed loopback port.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kserve_workshop.labkit import cluster_magic as notebook
from kserve_workshop.labkit.cluster_magic import ClusterRequired, ClusterStatus, assume_cluster_status

NO_CLUSTER = ClusterStatus(False, "no usable kubeconfig (test)")
A_CLUSTER = ClusterStatus(True, "reachable", "kind-kserve-workshop")


@pytest.fixture(scope="module")
def shell():
    path = os.environ.get("PATH", "")
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "kserve_workshop.notebook")
    yield ipython
    InteractiveShell.clear_instance()  # later tests must not find an IPython shell in this process
    os.environ["PATH"] = path  # loading the extension put .bin/ first


def test_loading_the_extension_puts_the_pinned_tools_first_on_path(shell, monkeypatch, tmp_path):
    """`!kubectl` in a cell runs .bin/kubectl (`invoke tools`) before any other kubectl on PATH."""
    pinned, other = tmp_path / "bin", tmp_path / "elsewhere"
    for folder, version in ((pinned, "pinned"), (other, "other")):
        folder.mkdir()
        (folder / "kubectl").write_text(f"#!/bin/sh\necho {version}\n")
        (folder / "kubectl").chmod(0o755)
    monkeypatch.setenv("WORKSHOP_BIN", str(pinned))
    monkeypatch.setenv("PATH", f"{other}{os.pathsep}{os.environ['PATH']}")
    assert notebook.use_pinned_tools() == str(pinned)
    assert os.environ["PATH"].split(os.pathsep)[:2] == [str(pinned), str(other)]
    assert shell.getoutput("kubectl") == ["pinned"]
    (pinned / "kubectl").unlink()  # not installed: the next kubectl on PATH answers
    assert shell.getoutput("kubectl") == ["other"]
    assert not (tmp_path / "never").exists()
    monkeypatch.setenv("WORKSHOP_BIN", str(tmp_path / "never"))
    notebook.use_pinned_tools()
    assert not (tmp_path / "never").exists(), "loading the extension creates no directory"


@pytest.fixture(autouse=True)
def _clean(shell, monkeypatch):
    monkeypatch.delenv(notebook.REQUIRE_ENV, raising=False)
    shell.user_ns.pop("in_cluster", None)
    notebook.cluster_status.cache_clear()
    yield
    notebook.cluster_status.cache_clear()


def test_without_a_cluster_the_cell_is_skipped_visibly(shell, capsys):
    with assume_cluster_status(NO_CLUSTER):
        result = shell.run_cell("%%cluster\nin_cluster = 1")
    assert result.success
    assert "in_cluster" not in shell.user_ns
    out = capsys.readouterr().out
    assert out.count("Skipped: this cell needs a Kubernetes cluster") == 1, "one notice, not two"
    assert "no Kubernetes cluster is configured on this machine" in out and "invoke up" in out
    assert "(test)" not in out, "the technical reason stays out of the notice"


def test_the_notice_is_one_output_in_plain_words_with_the_reason_in_its_metadata(shell):
    from IPython.utils.capture import capture_output

    with assume_cluster_status(NO_CLUSTER), capture_output() as captured:
        shell.run_cell("%%cluster\nin_cluster = 1")
    (output,) = captured.outputs
    assert output.metadata == {"workshop": "cluster-skipped", "reason": "no usable kubeconfig (test)"}
    text, markup = output.data["text/plain"], output.data["text/html"]
    for shown in (text, markup):
        assert "`" not in shown and "⏭" not in shown and "kubeconfig" not in shown
    assert "<code>invoke up</code>" in markup and 'class="workshop-box workshop-notice' in markup
    assert "color:" not in markup.replace("border-left", ""), "no text colour of its own: it inherits the theme's"
    assert notebook.is_skip_output({"output_type": "display_data", "metadata": output.metadata, "data": output.data})


@pytest.mark.parametrize(
    "status, words",
    [
        (NO_CLUSTER, "no Kubernetes cluster is configured on this machine"),
        (
            ClusterStatus(False, "context 'kind-x' does not answer with KServe's API (HTTP 404)", "kind-x"),
            "the cluster of kube context 'kind-x' did not answer, or has no KServe",
        ),
        (
            ClusterStatus(False, "WORKSHOP_KUBE_CONTEXT='mine' is not a context of your kubeconfig"),
            "WORKSHOP_KUBE_CONTEXT names a kube context that is not in your kubeconfig",
        ),
    ],
)
def test_the_reason_in_plain_words(status, words):
    assert words in notebook.skip_message(status)
    assert "HTTP 404" not in notebook.skip_message(status)


@pytest.mark.parametrize(
    "output, skipped",
    [
        ({"output_type": "display_data", "metadata": {"workshop": "cluster-skipped"}, "data": {}}, True),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": ["\u23ed  Cluster cell skipped: no usable kubeconfig\n"],
            },
            True,
        ),
        ({"output_type": "stream", "name": "stdout", "text": "inferenceservice.serving.kserve.io/x created\n"}, False),
        ({"output_type": "display_data", "metadata": {}, "data": {"text/plain": "Skipped nothing"}}, False),
    ],
)
def test_skip_notices_are_recognised_in_old_and_new_wording(output, skipped):
    assert notebook.is_skip_output(output) is skipped


def test_with_require_cluster_a_missing_cluster_is_an_error(shell, monkeypatch):
    monkeypatch.setenv(notebook.REQUIRE_ENV, "1")
    with assume_cluster_status(NO_CLUSTER):
        result = shell.run_cell("%%cluster\nin_cluster = 1")
    assert not result.success
    assert isinstance(result.error_in_exec, ClusterRequired)
    assert "no usable kubeconfig (test)" in str(result.error_in_exec)
    assert "in_cluster" not in shell.user_ns


@pytest.mark.parametrize("value, required", [("1", True), ("true", True), ("yes", True), ("0", False), ("", False)])
def test_require_cluster_values(monkeypatch, value, required):
    monkeypatch.setenv(notebook.REQUIRE_ENV, value)
    assert notebook.cluster_required() is required


def test_with_a_cluster_the_cell_runs_in_the_notebook_namespace(shell, capsys):
    shell.user_ns["before"] = 20
    with assume_cluster_status(A_CLUSTER):
        result = shell.run_cell("%%cluster\nin_cluster = before + 1")
    assert result.success
    assert shell.user_ns["in_cluster"] == 21
    assert "skipped" not in capsys.readouterr().out


def test_with_a_cluster_an_error_in_the_cell_fails_the_cell(shell):
    with assume_cluster_status(A_CLUSTER):
        result = shell.run_cell("%%cluster\nafter = 1 / 0")
    assert not result.success
    assert isinstance(result.error_in_exec, ZeroDivisionError)


def test_an_expected_error_in_a_cell_is_its_message_and_hint_not_a_traceback(shell, capsys):
    result = shell.run_cell(
        "from kserve_workshop.errors import WorkshopError\n"
        "def deep():\n    raise WorkshopError('the model folder holds no model.joblib', hint='run the training cell')\n"
        "deep()"
    )
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert not result.success, "the cell still fails (nbval and Run All stop there)"
    assert type(result.error_in_exec).__name__ == "WorkshopError"
    assert "WorkshopError: the model folder holds no model.joblib" in text
    assert "hint: run the training cell" in text
    assert "Traceback" not in text and "deep()" not in text, text


def test_other_errors_keep_their_traceback(shell, capsys):
    result = shell.run_cell("def deep():\n    return 1 / 0\ndeep()")
    text = "".join(capsys.readouterr())
    assert not result.success and "ZeroDivisionError" in text and "Traceback" in text and "deep" in text


def test_the_injected_status_is_restored(shell):
    with assume_cluster_status(A_CLUSTER):
        with assume_cluster_status(NO_CLUSTER):
            assert notebook.current_status() is NO_CLUSTER
        assert notebook.current_status() is A_CLUSTER


def test_the_real_probe_without_a_kubeconfig_reports_why(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("WORKSHOP_KUBE_CONTEXT", raising=False)
    status = notebook.current_status()
    assert not status.available
    assert status.reason.startswith("no workshop cluster in your kubeconfig")


def _kubeconfig(tmp_path, contexts: list[str], current: str) -> Path:
    """A kubeconfig whose contexts all point at a loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entries = "\n".join(f"- name: {name}\n  context: {{cluster: gone, user: nobody}}" for name in contexts)
    path = tmp_path / "config"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: gone
  cluster: {{server: "http://127.0.0.1:{port}"}}
contexts:
{entries}
current-context: {current}
users:
- name: nobody
  user: {{token: not-a-secret}}
""")
    return path


def test_the_real_probe_against_a_closed_port_reports_the_context(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, ["kind-kserve-workshop"], "kind-kserve-workshop")))
    monkeypatch.delenv("WORKSHOP_KUBE_CONTEXT", raising=False)
    status = notebook.cluster_status()
    assert not status.available
    assert status.context == "kind-kserve-workshop"
    assert "'kind-kserve-workshop' does not answer with KServe's API" in status.reason


def test_the_probe_looks_at_the_cluster_the_cells_act_on(monkeypatch, tmp_path):
    """Not the current context when that is another cluster: the workshop's, like upload_model and serving."""
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, ["prod", "kind-kserve-workshop"], "prod")))
    monkeypatch.delenv("WORKSHOP_KUBE_CONTEXT", raising=False)
    assert notebook.cluster_status().context == "kind-kserve-workshop"
    notebook.cluster_status.cache_clear()
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, ["prod"], "prod")))
    status = notebook.cluster_status()
    assert not status.available and "WORKSHOP_KUBE_CONTEXT" in status.reason
    notebook.cluster_status.cache_clear()
    monkeypatch.setenv("WORKSHOP_KUBE_CONTEXT", "prod")
    assert notebook.cluster_status().context == "prod"
