"""Local servers against what learners do in Jupyter: Interrupt, kernel restarts and re-run cells.

* An interrupt of the kernel (Jupyter's button, ``invoke grade``'s cell timeout: SIGINT to the
  kernel's process group) leaves its servers running;
* the kernel's exit, or its kill by SIGKILL to its process group (how jupyter_client and nbval shut
  a kernel down), still stops them;
* a server cell run again leaves one server of that name, and Prometheus follows the model server.

The kernels are real ipykernels started with jupyter_client, the servers small stand-ins
(``python -m http.server``, a /metrics stub) built on the same ``ServerProcess`` as the model server.
"""

from __future__ import annotations

import sys
import textwrap
import time

import pytest
import requests

from kserve_workshop.processes import ServerProcess, wait_until_gone

HTTP_SERVER = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
READY = "http://127.0.0.1:{port}/"
#: How long a server may outlive its killed parent (SIGTERM from the kernel, then shutdown).
PARENT_DEATH_BOUND = 10.0


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def gone(pid: int, timeout: float = PARENT_DEATH_BOUND) -> bool:
    return not wait_until_gone([pid], timeout=timeout)


# ----- a real kernel -----------------------------------------------------------------------------


class Kernel:
    """An ipykernel started as Jupyter starts one (its own process group), and a client for it."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3", startup_timeout=60)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.process.pid

    def run(self, code: str, timeout: float = 60) -> tuple[dict, str]:
        """Execute ``code``; returns the reply's content and what it printed."""
        printed: list[str] = []

        def output(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])

        reply = self.client.execute_interactive(textwrap.dedent(code), timeout=timeout, output_hook=output)
        return reply["content"], "".join(printed)

    def close(self) -> None:
        self.client.stop_channels()
        if self.manager.is_alive():
            self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    started = Kernel()
    yield started
    started.close()


START_STAND_IN = f"""
    from kserve_workshop.processes import ServerProcess
    server = ServerProcess({HTTP_SERVER!r}, {READY!r}, name="stand-in").start()
    print(server.pid, server.url)
"""


@pytest.mark.bad_input(
    tool="local servers (model server, Prometheus, transformer, sink)",
    input="Interrupt the kernel (Jupyter's button, `invoke grade`'s time limit), then kill it",
    example="Kernel > Interrupt, then Kernel > Shut Down",
    behaviour="the servers keep running through the interrupt (they run in a session of their "
    "own); the kernel's SIGKILL still takes them down (before: the interrupt stopped "
    "them, Lab 5 scored 0/4)",
)
@pytest.mark.slow
def test_an_interrupted_kernel_keeps_its_servers_and_a_killed_one_does_not(kernel):
    reply, printed = kernel.run(START_STAND_IN)
    assert reply["status"] == "ok", reply
    pid, url = printed.split()
    pid = int(pid)

    # A cell that runs long, interrupted as Jupyter's button does: SIGINT to the kernel's group.
    msg_id = kernel.client.execute("import time; time.sleep(60)")
    time.sleep(1.0)
    kernel.manager.interrupt_kernel()
    reply = kernel.client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    time.sleep(0.5)
    assert answers(url), "the interrupt stopped the server"
    reply, printed = kernel.run("print(server.running)")
    assert printed.strip() == "True"

    # jupyter_client's immediate shutdown: SIGKILL to the kernel's process group.
    kernel.manager.shutdown_kernel(now=True)
    assert gone(pid), "the server outlived its killed kernel"


@pytest.mark.bad_input(
    tool="local servers (model server, Prometheus, transformer, sink)",
    input="the kernel exits or restarts",
    example="Kernel > Restart",
    behaviour="its servers stop",
)
@pytest.mark.slow
def test_a_kernel_that_exits_stops_its_servers(kernel):
    reply, printed = kernel.run(START_STAND_IN)
    pid = int(printed.split()[0])
    kernel.manager.shutdown_kernel(now=False)  # a clean shutdown: the kernel exits by itself
    assert gone(pid), "the server outlived its kernel"


# ----- a cell run again ----------------------------------------------------------------------------


@pytest.mark.bad_input(
    tool="local servers (model server, Prometheus, transformer, sink)",
    input="a server cell run again",
    example="server = LocalModelServer(MODEL_DIR, MODEL_NAME).start(), twice",
    behaviour="the previous server of that name stops at once: one server per name (before: up to "
    "4 model servers in Lab 4, 2 Prometheus in Lab 5)",
)
@pytest.mark.slow
def test_a_server_cell_run_again_leaves_one_server_of_that_name():
    first = ServerProcess(HTTP_SERVER, READY, name="lab-server", replaces=True).start()
    other = ServerProcess(HTTP_SERVER, READY, name="another-lab-server", replaces=True).start()
    keeper = ServerProcess(HTTP_SERVER, READY, name="lab-server").start()  # does not replace: kept
    try:
        first_pid = first.pid
        second = ServerProcess(HTTP_SERVER, READY, name="lab-server", replaces=True).start()
        try:
            assert not first.running and gone(first_pid, 5), "the previous server of that name still runs"
            assert second.running and other.running and keeper.running
            again = second.start()  # starting the running server again is a no-op
            assert again is second and second.running
        finally:
            second.stop()
    finally:
        for server in (first, other, keeper):
            server.stop()


METRICS_STUB = textwrap.dedent("""
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"stub_up 1\\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Metrics).serve_forever()
""")


@pytest.mark.bad_input(
    tool="local servers (model server, Prometheus, transformer, sink)",
    input="Lab 5's server cell run again (the model server moves to a new port)",
    example="re-run `server = LocalModelServer(...).start()` after `LocalPrometheus([server])`",
    behaviour="Prometheus is re-pointed at the new server (configuration reloaded) before the "
    "cell returns (before: it scraped a dead target and any PromQL passed)",
)
@pytest.mark.slow
def test_prometheus_follows_a_model_server_that_was_started_again(tmp_path):
    from kserve_workshop.metrics import LocalPrometheus

    stub = tmp_path / "metrics_stub.py"
    stub.write_text(METRICS_STUB)

    def metrics_server() -> ServerProcess:
        return ServerProcess(
            [sys.executable, str(stub), "{port}"],
            "http://127.0.0.1:{port}/metrics",
            name="model-server-followed",
            replaces=True,
        )

    server = metrics_server().start()
    prom = LocalPrometheus([server], scrape_interval="1s", target_timeout=20, name="prometheus-follows").start()
    try:
        assert prom.targets == [f"127.0.0.1:{server.port}"]
        replacement = metrics_server().start()  # the server cell, run again: a new server on a new port
        try:
            assert not server.running
            assert prom.targets == [f"127.0.0.1:{replacement.port}"]
            active = [(t["labels"]["instance"], t["health"]) for t in prom.client.targets()]
            assert active == [(f"127.0.0.1:{replacement.port}", "up")], active
        finally:
            replacement.stop()
    finally:
        prom.stop()
        server.stop()


# ----- logs ------------------------------------------------------------------------------------------


@pytest.mark.bad_input(
    tool="local servers (model server, Prometheus, transformer, sink)",
    input="two servers of one name on one port (e.g. two `invoke local --port 8080`)",
    example="invoke local --port 8080, twice",
    behaviour="each start writes a new log file: another server's log is never emptied",
)
def test_every_start_gets_its_own_log_and_never_empties_another(tmp_path, monkeypatch):
    from kserve_workshop.processes.logs import new_log

    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    first, handle = new_log("model-server-sklearn-iris", 8080)
    handle.write(b"the other server's log\n")
    handle.close()
    second, handle = new_log("model-server-sklearn-iris", 8080)
    handle.close()
    assert second != first
    assert first.read_text() == "the other server's log\n"


CAPPED = textwrap.dedent("""
    import sys
    from kserve_workshop.runtime.server import cap_output
    cap_output(sys.argv[1], 20_000)
    for index in range(3000):
        print(f"line {index:05d} " + "x" * 40, flush=index % 100 == 0)
    print("last words", file=sys.stderr)
""")


@pytest.mark.bad_input(
    tool="model server (V1 REST)",
    input="a flood of requests that get logged",
    example="a load run of bad bodies",
    behaviour="the log is rotated at 5 MB, one previous part kept (before: 7 MB of log in 2 s, unbounded)",
)
def test_a_server_log_is_rotated_at_its_size_cap(tmp_path):
    import subprocess

    from kserve_workshop.runtime.server import previous_log

    log = tmp_path / "server.log"
    done = subprocess.run([sys.executable, "-c", CAPPED, str(log)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == "", "output must go to the log file only"
    assert log.stat().st_size <= 20_000 and previous_log(log).stat().st_size <= 20_000
    text = log.read_text()
    assert text.rstrip().endswith("last words"), "what is written at exit reaches the file"
    assert "line 02999" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["server.log", "server.previous.log"]


@pytest.mark.bad_input(
    tool="model server (V1 REST)",
    input="a client that hangs up before sending its whole body",
    example="Content-Length: 1000, then close after 10 bytes",
    behaviour="one warning line (before: two tracebacks, from kserve and from uvicorn)",
)
def test_a_client_that_hangs_up_is_logged_in_one_line():
    import logging

    from starlette.requests import ClientDisconnect

    from kserve_workshop.runtime.server import OneLineClientErrors

    one_line = OneLineClientErrors((ValueError,), disconnects=(ClientDisconnect,))

    def record(logger: str) -> logging.LogRecord:
        try:
            raise ClientDisconnect()
        except ClientDisconnect:
            return logging.LogRecord(logger, logging.ERROR, __file__, 1, "Exception:", None, sys.exc_info())

    from_kserve, from_uvicorn = record("kserve"), record("uvicorn.error")
    assert one_line.filter(from_kserve) and from_kserve.exc_info is None
    assert from_kserve.getMessage() == "a client disconnected before sending its whole request (ClientDisconnect)"
    assert from_kserve.levelname == "WARNING"
    assert not one_line.filter(from_uvicorn), "uvicorn's second report of the same hang-up must be dropped"


def test_the_model_server_is_started_with_a_capped_log(tmp_path):
    from kserve_workshop import training
    from kserve_workshop.processes import LocalModelServer

    training.save_model(training.train_iris(), tmp_path)
    server = LocalModelServer(tmp_path, "capped")
    server.log_path = tmp_path / "x.log"
    argv = server.argv(1234)
    assert argv[argv.index("--log_file") + 1] == str(tmp_path / "x.log")
    assert int(argv[argv.index("--log_max_bytes") + 1]) == server.log_max_bytes
