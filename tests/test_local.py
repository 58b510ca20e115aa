"""Local servers: generic ServerProcess behaviour and KServe's model server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
import requests

from kserve_workshop import training
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import (
    LocalModelServer,
    ServerProcess,
    free_port,
    running_servers,
    stop_all,
    wait_until_gone,
)

HTTP_SERVER = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
READY = "http://127.0.0.1:{port}/"
#: How long a server may outlive a killed parent (poll interval 0.5 s + shutdown).
PARENT_DEATH_BOUND = 10.0


def gone(pid: int, timeout: float = 10.0) -> bool:
    return not wait_until_gone([pid], timeout=timeout)


def listeners(pid: int) -> list:
    process = psutil.Process(pid)
    connections = getattr(process, "net_connections", process.connections)  # psutil < 6 has connections()
    return [conn for conn in connections(kind="inet") if conn.status == psutil.CONN_LISTEN]


# -- ServerProcess, with a tiny stand-in server (python -m http.server) -------------------------------


@pytest.mark.slow
def test_start_serves_on_loopback_and_stop_is_idempotent():
    server = ServerProcess(HTTP_SERVER, READY, name="http")
    server.start()
    try:
        assert server.running and server.url == f"http://127.0.0.1:{server.port}"
        assert requests.get(server.url, timeout=5).status_code == 200
        assert server.startup_seconds is not None and server.startup_seconds > 0
        assert server in running_servers()
        pid = server.pid
    finally:
        server.stop()
    assert gone(pid)
    assert not server.running and server not in running_servers()
    assert server.stop() == server.returncode  # a second stop does nothing
    assert "stopped" in repr(server)


@pytest.mark.slow
def test_context_manager_stops_the_server_even_on_error():
    with pytest.raises(RuntimeError, match="boom"):
        with ServerProcess(HTTP_SERVER, READY, name="http") as server:
            pid = server.pid
            raise RuntimeError("boom")
    assert gone(pid)


@pytest.mark.slow
def test_a_server_that_exits_early_reports_its_log():
    argv = [sys.executable, "-c", "print('cannot open model'); raise SystemExit(3)"]
    server = ServerProcess(argv, READY, name="crasher")
    with pytest.raises(WorkshopError, match="crasher exited with code 3 before it was ready") as info:
        server.start()
    assert "cannot open model" in info.value.message
    assert server.log_path.exists()


@pytest.mark.slow
def test_readiness_wait_is_bounded_and_kills_the_process():
    argv = [sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(60)"]
    server = ServerProcess(argv, READY, name="slow", startup_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(WorkshopError, match="slow was not ready within 1 s") as info:
        server.start()
    assert time.monotonic() - started < 8
    assert "warming up" in info.value.message and "startup_timeout" in info.value.hint
    assert gone(server.pid)


@pytest.mark.slow
def test_stop_escalates_to_sigkill_when_sigterm_is_ignored():
    code = (
        "import signal, http.server, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, bind='127.0.0.1', "
        "port=int(sys.argv[1]))"
    )
    server = ServerProcess([sys.executable, "-c", code, "{port}"], READY, name="stubborn", stop_timeout=0.5)
    server.start()
    assert server.stop() == -signal.SIGKILL
    assert gone(server.pid)


def test_missing_program_and_bad_arguments_are_clear_errors():
    with pytest.raises(WorkshopError, match="cannot start ghost: .*no-such-binary-here not found"):
        ServerProcess(["no-such-binary-here", "{port}"], READY, name="ghost").start()
    for bad_port in (70000, 0, "8080", 80.5):
        with pytest.raises(WorkshopError, match="port must be between"):
            ServerProcess(HTTP_SERVER, READY, port=bad_port)
    with pytest.raises(WorkshopError, match="positive"):
        ServerProcess(HTTP_SERVER, READY, startup_timeout=0)
    with pytest.raises(WorkshopError, match="has not been started"):
        _ = ServerProcess(HTTP_SERVER, READY).url


@pytest.mark.slow
def test_a_fixed_port_and_callable_argv():
    port = free_port()
    with ServerProcess(lambda p: [*HTTP_SERVER[:-1], str(p)], [READY], port=port, name="fixed") as server:
        assert server.port == port
        assert server.argv(port)[-1] == str(port)


@pytest.mark.slow
def test_a_server_that_died_can_be_started_again():
    server = ServerProcess(HTTP_SERVER, READY, name="phoenix").start()
    first = server.pid
    os.kill(first, signal.SIGKILL)
    assert gone(first)
    assert not server.running
    server.start()
    try:
        assert server.running and server.pid != first
        assert requests.get(server.url, timeout=5).status_code == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_stop_all_stops_every_server():
    servers = [ServerProcess(HTTP_SERVER, READY, name=f"many-{i}").start() for i in range(2)]
    stop_all()
    assert not any(server.running for server in servers)


@pytest.mark.slow
def test_garbage_collected_server_is_stopped():
    import gc

    server = ServerProcess(HTTP_SERVER, READY, name="forgotten").start()
    pid = server.pid
    del server
    gc.collect()
    assert gone(pid)


PARENT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {src!r})
    import kserve_workshop.processes as local
    import kserve_workshop.processes.lifecycle as lifecycle
    if {only_watcher}:
        lifecycle.die_with_parent = lambda: None  # leave only the server's own getppid() watch
    {make}
    server.start()
    print(server.pid, flush=True)
    time.sleep(120)
""")


def start_parent(make: str, *, only_watcher: bool = False) -> tuple[subprocess.Popen, int]:
    src = os.path.join(os.path.dirname(__file__), "..", "src")
    script = PARENT.format(src=src, make=make, only_watcher=only_watcher)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    line = parent.stdout.readline()
    assert line.strip().isdigit(), f"parent did not start a server (got {line!r})"
    return parent, int(line)


@pytest.mark.slow
def test_server_dies_with_its_killed_parent_via_pdeathsig():
    parent, child = start_parent(f"server = local.ServerProcess({HTTP_SERVER!r}, {READY!r})")
    assert psutil.pid_exists(child)
    parent.kill()  # SIGKILL: no atexit, no finalizer runs in the parent
    parent.wait()
    assert gone(child, PARENT_DEATH_BOUND), "the server outlived its killed parent"


# -- KServe's model server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("local-model")
    training.save_model(training.train_iris(), directory)
    return directory


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"model_server"}


@pytest.fixture(scope="module")
def model_server(model_dir):
    with LocalModelServer(model_dir, "sklearn-iris") as server:
        yield server


def test_model_server_answers_v1_v2_and_metrics(model_server):
    v1 = requests.post(model_server.v1_url, json={"instances": training.DOCS_IRIS_INPUT}, timeout=10)
    assert v1.json() == {"predictions": [1, 1]}
    body = {
        "inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": sum(training.DOCS_IRIS_INPUT, [])}]
    }
    v2 = requests.post(model_server.v2_url, json=body, timeout=10).json()
    assert v2["outputs"][0]["data"] == [1, 1]
    metrics = requests.get(model_server.metrics_url, timeout=10).text
    assert 'request_predict_seconds_count{model_name="sklearn-iris"}' in metrics
    assert requests.get(f"{model_server.url}/v2/health/ready", timeout=5).status_code == 200


def test_model_server_rejects_bad_payloads_with_400(model_server):
    answer = requests.post(model_server.v1_url, json={"instances": [[1, 2, 3]]}, timeout=10)
    assert answer.status_code == 400
    assert "expected 4 features per instance, got 3" in answer.json()["error"]
    # Bodies of the wrong shape are the learner's mistake too: 400 saying what is wrong, not a 500.
    for body, says in (
        ({"rows": [[1, 2, 3, 4]]}, "no 'instances' key"),
        (
            {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]},
            "looks like a V2 body",
        ),
    ):
        answer = requests.post(model_server.v1_url, json=body, timeout=10)
        assert answer.status_code == 400 and says in answer.json()["error"], answer.text
    form = requests.post(
        model_server.v1_url,
        data='{"instances": [[1, 2, 3, 4]]}',
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 400 and "not read as JSON" in form.json()["error"]
    assert "Traceback" not in model_server.log_path.read_text()


def test_a_client_hanging_up_mid_body_is_one_log_line(model_server):
    import socket

    with socket.create_connection(("127.0.0.1", model_server.port)) as sock:
        sock.sendall(
            b"POST /v1/models/sklearn-iris:predict HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances"'
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while "disconnected" not in model_server.log_tail(5) and time.monotonic() < deadline:
        time.sleep(0.1)
    log = model_server.log_path.read_text()
    assert log.count("a client disconnected before sending its whole request") == 1
    assert "Traceback" not in log


def test_model_server_listens_only_on_loopback_and_runs_no_grpc(model_server):
    found = {(conn.laddr.ip, conn.laddr.port) for conn in listeners(model_server.pid)}
    # Only REST on loopback: no 0.0.0.0 / :: listener, and no gRPC port (kserve's default 8081).
    assert found == {("127.0.0.1", model_server.port)}, f"listens on {found}"


def test_model_server_logs_stay_quiet(model_server):
    for _ in range(20):
        requests.post(model_server.v1_url, json={"instances": training.DOCS_IRIS_INPUT}, timeout=10)
    requests.post(model_server.v1_url, json={"instances": [["x"]]}, timeout=10)
    log = model_server.log_path.read_text()
    # One start-up line, no access log or latency lines per request, no tracebacks for bad payloads.
    assert "serving model 'sklearn-iris'" in log
    assert "POST" not in log and "Traceback" not in log
    assert len(log.splitlines()) < 5, log


@pytest.mark.slow
def test_model_server_dies_with_its_killed_parent_via_its_own_watch(model_dir):
    parent, child = start_parent(f"server = local.LocalModelServer({str(model_dir)!r}, 'orphan')", only_watcher=True)
    parent.kill()
    parent.wait()
    assert gone(child, PARENT_DEATH_BOUND), "the model server outlived its killed parent"


@pytest.mark.slow
def test_bad_model_directories_fail_before_or_at_start(tmp_path):
    with pytest.raises(WorkshopError, match="no model file in"):
        LocalModelServer(tmp_path)
    (tmp_path / "model.joblib").write_bytes(b"garbage")
    server = LocalModelServer(tmp_path, "broken")
    with pytest.raises(WorkshopError, match="exited with code 2 before it was ready") as info:
        server.start()
    assert "could not load" in info.value.message
    with pytest.raises(WorkshopError, match="invalid model name"):
        LocalModelServer(tmp_path, "a/b")


def test_predict_proba_and_quiet_flags_reach_the_subprocess(model_dir):
    server = LocalModelServer(model_dir, "proba", predict_proba=True)
    argv = server.argv(1234)
    assert argv[1:3] == ["-m", "kserve_workshop.runtime.sklearn_server"]
    assert argv[argv.index("--http_port") + 1] == "1234"
    assert argv[argv.index("--configure_logging") + 1] == "false"
    assert argv[argv.index("--parent_pid") + 1] == str(os.getpid())
    assert server._env["PREDICT_PROBA"] == "true"
    assert "--configure_logging" not in LocalModelServer(model_dir, verbose=True).argv(1234)


def test_model_server_stops_cleanly_on_sigterm(model_server):
    # Last test using the shared server: it stops it (the fixture's own stop is then a no-op).
    pid = model_server.pid
    assert model_server.stop() == 0  # exited by itself on SIGTERM, no SIGKILL needed
    assert gone(pid)


def test_a_taken_fixed_port_is_refused_before_anything_starts():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServerProcess(HTTP_SERVER, READY, port=port, name="clash")
        with pytest.raises(WorkshopError, match=f"port {port} on 127.0.0.1 is already in use") as info:
            server.start()
    assert "choose another port" in info.value.hint
    assert server.pid is None and server.log_path is None, "nothing may start (or open a log) on a taken port"


def test_old_logs_are_pruned(tmp_path):
    from kserve_workshop.processes import prune_logs

    for index in range(5):
        log = tmp_path / f"server-{index}.log"
        log.write_text("x")
        os.utime(log, (1000 + index, 1000 + index))
    (tmp_path / "keep.txt").write_text("not a log")
    prune_logs(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "server-3.log", "server-4.log"]
