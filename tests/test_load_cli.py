"""``kserve-workshop-load``: JSON summary on stdout, one clear message and a non-zero exit on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kserve_workshop.load.cli import main
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.training import save_model, train_iris


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"server"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("iris-model")
    save_model(train_iris(kind="tree"), model_dir)
    with LocalModelServer(model_dir) as running:
        yield running


def test_iris_run_prints_the_summary_as_json(server, capsys):
    assert main([server.v1_url, "--iris", "-c", "2", "-n", "25"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["requests"] == 25 and summary["errors"] == 0
    assert summary["concurrency"] == 2
    assert set(summary["latency_ms"]) == {"p50", "p90", "p95", "p99", "mean", "max"}


def test_payload_file_is_sent_with_extra_headers(server, tmp_path, capsys):
    payload = tmp_path / "input.json"
    payload.write_text('{"instances": [[6.8, 2.8, 4.8, 1.4]]}')
    code = main([server.v1_url, "--payload", str(payload), "-n", "10", "--header", "X-Workshop: lab3"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["succeeded"] == 10


def test_console_script_runs_as_a_command(server):
    script = Path(sys.executable).with_name("kserve-workshop-load")
    command = [str(script)] if script.exists() else [shutil.which("kserve-workshop-load")]
    done = subprocess.run(
        [*command, server.v1_url, "--iris", "--rate", "50", "--duration", "0.4"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rate"] == 50 and summary["requests"] == 20
    assert "Traceback" not in done.stderr


def test_all_requests_failing_exits_non_zero(server, capsys):
    code = main([f"{server.url}/v1/models/nope:predict", "--iris", "-n", "4"])
    captured = capsys.readouterr()
    assert code == 1
    assert json.loads(captured.out)["error_kinds"] == {"http_404": 4}
    assert "no request succeeded" in captured.err


@pytest.mark.parametrize(
    "args, message",
    [
        (["http://203.0.113.5/v1/models/x:predict", "--iris"], "refusing to send load to 203.0.113.5"),
        (["http://127.0.0.1:1/x", "--iris", "--header", "NoColonHere"], "bad --header"),
        (["http://127.0.0.1:1/x", "--iris", "-c", "0"], "concurrency must be"),
        (["http://127.0.0.1:1/x", "--payload", "/nonexistent/input.json"], "cannot read the payload file"),
    ],
)
def test_bad_input_is_one_message_and_exit_1(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_payload_that_is_not_json_is_refused(tmp_path, capsys):
    payload = tmp_path / "input.json"
    payload.write_text("instances=[[1,2,3,4]]")
    assert main(["http://127.0.0.1:1/x", "--payload", str(payload)]) == 1
    assert "is not valid JSON" in capsys.readouterr().err


def test_payload_and_iris_are_exclusive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["http://127.0.0.1:1/x", "--iris", "--payload", "x.json"])
    assert info.value.code == 2
