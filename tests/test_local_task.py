"""`invoke local` through the real CLI: predictions from KServe's server, a latency summary, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kserve_workshop.processes import wait_until_gone

REPO = Path(__file__).resolve().parents[1]
INVOKE = [str(Path(sys.executable).parent / "invoke")]


def invoke(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INVOKE, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        **kwargs,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "5"], "--port must be 0 (pick a free port) or between 1024 and 65535, got 5"),
        (["--port", "70000"], "--port must be"),
        (["--requests", "0"], "--requests must be between 1 and 100000, got 0"),
    ],
)
def test_bad_arguments_give_one_message_and_no_traceback(args, message):
    result = invoke("local", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Starting" not in result.stdout  # nothing was started


@pytest.mark.slow
def test_local_task_serves_predicts_times_and_stops_cleanly(tmp_path):
    # --keep-running, then Ctrl-C: covers the whole demo and the interactive stop in one server start.
    process = subprocess.Popen(
        [*INVOKE, "local", "--requests", "30", "--keep-running"],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1", "WORKSHOP_CACHE": str(tmp_path)},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 90
    try:
        for line in process.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        output = "".join(lines)
        assert "Press Ctrl-C" in output, output + process.stderr.read() if process.poll() is not None else output
        server_pid = int(re.search(r"pid (\d+)", output).group(1))
        url = re.search(r"(http://127\.0\.0\.1:\d+) \(ready in", output).group(1)
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output += rest

    assert process.returncode == 0, errors
    assert "held-out accuracy: 0.9" in output
    assert (tmp_path / "local" / "sklearn-iris" / "model.joblib").is_file()
    # V1 with the docs' input: KServe's documented answer [1, 1], with class names.
    v1 = output.split("V1  POST /v1/models/sklearn-iris:predict")[1].split("V2  POST")[0]
    assert re.search(r"\[6\.8, 2\.8, 4\.8, 1\.4\]\s+│\s+1 │ versicolor", v1)
    assert re.search(r"\[6\.0, 3\.4, 4\.5, 1\.6\]\s+│\s+1 │ versicolor", v1)
    v2 = output.split("V2  POST /v2/models/sklearn-iris/infer")[1]
    assert "FP32 [4, 4] -> INT64" in v2
    # The closing line sends learners to their student notebooks, and says where the solutions are.
    assert "labs/01-serve-a-model.ipynb (solutions in notebooks/)" in " ".join(output.split())
    for name in ("setosa", "versicolor", "virginica"):
        assert name in v2
    assert re.search(r"latency p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms", output)
    assert "curl -s -H 'Content-Type: application/json'" in output and url in output
    assert "✓ Stopping the model server" in output
    assert not wait_until_gone([server_pid], timeout=10), "the model server outlived the task"
