"""Test helper: a real local monitoring stack (model server + Prometheus + the lab's traffic).

Used by the monitoring test modules through a module-scoped fixture each; everything started here
is stopped when the ``with`` block ends.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kserve_workshop.dataplane import predict_v1
from kserve_workshop.processes import LocalModelServer, free_port
from kserve_workshop.metrics import LocalPrometheus
from kserve_workshop.metrics.traffic import TrafficResult, lab_streams, run_traffic
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris

MODEL_NAME = "sklearn-iris"


@dataclass
class Stack:
    server: LocalModelServer
    prom: LocalPrometheus
    traffic: TrafficResult
    #: Requests the server answered before the traffic run (the warm-up call).
    warmup_requests: int = 1


def wait_for_count(prom: LocalPrometheus, at_least: float, timeout: float = 10.0) -> float:
    """Wait until Prometheus has scraped a predict count of ``at_least``; returns the last value seen."""
    deadline = time.monotonic() + timeout
    seen = -1.0
    while time.monotonic() < deadline:
        frame = prom.query(f'sum(request_predict_seconds_count{{model_name="{MODEL_NAME}"}})')
        seen = float(frame["value"].iloc[0]) if not frame.empty else -1.0
        if seen >= at_least:
            break
        time.sleep(0.25)
    return seen


@contextmanager
def monitoring_stack(workdir: Path, *, duration: float = 4.0, settle: float = 1.1) -> Iterator[Stack]:
    """Model server + Prometheus + the lab's two-phase traffic (none when ``duration`` is 0);
    ``settle`` s of idle scrapes after it."""
    model_dir = workdir / "model"
    save_model(train_iris(), model_dir)
    port = free_port()
    # Prometheus takes ~5 s to apply its targets: start it first and the model server meanwhile.
    with LocalPrometheus([port]).start(wait_for_targets=False) as prom:
        with LocalModelServer(model_dir, MODEL_NAME, port=port) as server:
            predict_v1(server.url, MODEL_NAME, DOCS_IRIS_INPUT)
            prom.wait_for_targets()
            if duration:
                traffic = run_traffic(server.v1_url, lab_streams(phase_seconds=duration / 2), duration=duration)
            else:
                traffic = TrafficResult(started_at=time.time(), ended_at=time.time())
            wait_for_count(prom, 1 + traffic.requests)
            # At least one more scrape, so the last sample is certainly after the traffic; graded checks
            # need a few idle seconds too (rate windows emptying out tell windows apart).
            time.sleep(max(1.1, settle - (time.time() - traffic.ended_at)))
            yield Stack(server, prom, traffic)
