"""Request batching (Lab 7): what KServe's batcher does, measured on the model server, and its price.

- ``measure``: one request carrying N rows against N requests of one row, on a real model server;
- ``estimate``: what a batcher with ``maxBatchSize``/``maxLatency`` gives at an arrival rate, from
  such a measurement (batch size, waiting, service time, utilisation, worst-case latency);
- ``plots``: both curves, and the estimate over batch sizes.
"""

from .estimate import (
    AGENT_MAX_BATCH_SIZE,
    AGENT_MAX_LATENCY_MS,
    LAB_SCENARIO,
    UTILISATION_LIMIT,
    BatcherEstimate,
    CostModel,
    Scenario,
    estimate_batcher,
    fit_cost,
)
from .measure import DEFAULT_SIZES, BatchingCurve, BatchPoint, measure_batching

_PLOTS = ("plot_batching", "plot_estimates")

__all__ = [
    "AGENT_MAX_BATCH_SIZE",
    "AGENT_MAX_LATENCY_MS",
    "BatchPoint",
    "BatcherEstimate",
    "BatchingCurve",
    "CostModel",
    "DEFAULT_SIZES",
    "LAB_SCENARIO",
    "Scenario",
    "UTILISATION_LIMIT",
    "estimate_batcher",
    "fit_cost",
    "measure_batching",
    *_PLOTS,
]


def __getattr__(name: str):
    if name in _PLOTS:
        from . import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
