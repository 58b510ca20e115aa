"""`invoke local`: the local tier end to end, no cluster and no Docker needed.

Trains the iris classifier, serves it with KServe's own model server on 127.0.0.1, sends V1 and V2
requests (the docs' iris input among them), prints the predictions with class names and the
latency of a burst of sequential requests, then stops the server.
"""

from __future__ import annotations

import time

from rich.table import Table

from ..dataplane import infer_v2, predict_v1, v2_outputs
from ..console import console, info, step
from ..errors import WorkshopError
from ..processes import LocalModelServer, port_is_free
from ..paths import cache_dir
from ..training import DOCS_IRIS_INPUT, IRIS_CLASSES, class_names, evaluate, iris_split, save_model, train_iris
from ..versions import pin
from .common import workshop_task

MODEL_NAME = "sklearn-iris"
#: A flower of each kind, so the printed predictions show all three classes.
SAMPLE_INPUT = [[5.1, 3.5, 1.4, 0.2], [6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6], [7.7, 3.0, 6.1, 2.3]]
MAX_REQUESTS = 100_000


def _check_arguments(port: int, requests: int) -> None:
    if not isinstance(port, int) or not (port == 0 or 1024 <= port <= 65535):
        raise WorkshopError(f"--port must be 0 (pick a free port) or between 1024 and 65535, got {port!r}")
    if not isinstance(requests, int) or not 1 <= requests <= MAX_REQUESTS:
        raise WorkshopError(f"--requests must be between 1 and {MAX_REQUESTS}, got {requests!r}")
    if port and not port_is_free(port):  # before training: the server would refuse it anyway (ServerProcess)
        raise WorkshopError(
            f"--port {port}: the port is already in use on 127.0.0.1 (another server holds it, "
            "perhaps another `invoke local`)",
            hint="choose another port, or leave --port out",
        )


def _predictions_table(title: str, instances: list, predictions: list) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("instance: sepal length, sepal width, petal length, petal width (cm)")
    table.add_column("prediction", justify="right")
    table.add_column("class")
    for row, value, name in zip(instances, predictions, class_names(predictions)):
        table.add_row(str(row), str(value), name)
    return table


@workshop_task(
    help={
        "port": "Port for the model server on 127.0.0.1 (default: a free one).",
        "requests": "How many sequential requests to time (default 200).",
        "keep_running": "Keep the server running after the demo until Ctrl-C, to try it with curl.",
    }
)
def local(c, port=0, requests=200, keep_running=False):
    """Train iris, serve it with KServe's model server on 127.0.0.1, call V1 and V2, time a burst, stop."""
    from ..load.latency import latency_summary, time_sequential_requests  # imports the load generator's aiohttp

    _check_arguments(port, requests)
    model_dir = cache_dir() / "local" / MODEL_NAME

    with step(f"Training the iris classifier (scikit-learn {pin('python', 'scikit_learn')})"):
        split = iris_split()
        model = train_iris(split)
    info(f"  held-out accuracy: {evaluate(model, split):.3f} on {len(split.y_test)} flowers")
    with step("Saving model.joblib"):
        path = save_model(model, model_dir)
    info(f"  {path}")

    server = LocalModelServer(model_dir, MODEL_NAME, port=port or None)
    with step("Starting KServe's model server on 127.0.0.1"):
        server.start()
    try:
        info(f"  {server.url} (ready in {server.startup_seconds:.1f} s, pid {server.pid}, log {server.log_path})")

        predictions = predict_v1(server.url, MODEL_NAME, DOCS_IRIS_INPUT)
        console.print(
            _predictions_table(
                f"V1  POST /v1/models/{MODEL_NAME}:predict  (the docs' iris input)", DOCS_IRIS_INPUT, predictions
            )
        )
        response = infer_v2(server.url, MODEL_NAME, SAMPLE_INPUT)
        outputs = v2_outputs(response)
        datatype = response["outputs"][0].get("datatype")
        console.print(
            _predictions_table(
                f"V2  POST /v2/models/{MODEL_NAME}/infer  (FP32 [4, 4] -> {datatype})", SAMPLE_INPUT, outputs
            )
        )

        with step(f"Timing {requests} sequential V1 requests on one connection"):
            summary = latency_summary(time_sequential_requests(server.url, MODEL_NAME, DOCS_IRIS_INPUT, count=requests))
        info(
            f"  latency p50 {summary['p50_ms']:.2f} ms, p90 {summary['p90_ms']:.2f} ms, "
            f"p99 {summary['p99_ms']:.2f} ms, max {summary['max_ms']:.2f} ms; "
            f"{summary['requests_per_s']:.0f} requests/s one at a time"
        )

        if keep_running:
            _serve_until_interrupted(server)
    finally:
        with step("Stopping the model server"):
            server.stop()
    info(
        f"Done. Classes are {', '.join(f'{i}={name}' for i, name in enumerate(IRIS_CLASSES))}. "
        "Next: Lab 1, labs/01-serve-a-model.ipynb (solutions in notebooks/), or a cluster with `invoke up`."
    )


def _serve_until_interrupted(server: LocalModelServer) -> None:
    try:  # Ctrl-C is the normal way out here, wherever it lands
        info(
            f"\nThe server keeps running at {server.url}. Try:\n"
            f"  curl -s -H 'Content-Type: application/json' -d '{{\"instances\": {DOCS_IRIS_INPUT}}}' "
            f"{server.v1_url}\n"
            f"  curl -s {server.metrics_url} | grep request_predict_seconds\n"
            "Press Ctrl-C to stop it."
        )
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        info("")
    if not server.running:
        raise WorkshopError(
            f"the model server exited on its own (code {server.returncode})", hint=f"its log: {server.log_path}"
        )


@workshop_task(
    name="local-runtimes",
    help={
        "duration": "Seconds of load per runtime (default 2).",
        "concurrency": "Requests in flight during the load (default 4).",
    },
)
def local_runtimes(c, duration=2.0, concurrency=4):
    """Lab 8 locally: sklearn, LightGBM and XGBoost served like KServe's runtimes, one V2 request, compared."""
    from ..boosting.demo import run_local_runtimes

    run_local_runtimes(duration, concurrency)
