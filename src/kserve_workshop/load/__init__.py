"""Load generation: drive a model server (closed or open loop), measure it, plot it.

``run_load`` (generator), ``LoadResult`` (results), capacity sweeps and the ``scaleTarget`` they
suggest (capacity), and plots (imported on first use, so the CLI does not load matplotlib).
"""

from .capacity import (
    CapacityPoint,
    CapacitySweep,
    ScaleTargetAdvice,
    find_knee,
    measure_capacity,
    percentile_budget,
    recommend_scale_target,
    replicas_for,
)
from .generator import run_load, run_load_async
from .results import PERCENTILES, LoadResult
from .targets import check_target, is_loopback

_PLOTS = ("plot_capacity", "plot_latency", "plot_timeline")

__all__ = [
    "CapacityPoint",
    "CapacitySweep",
    "LoadResult",
    "PERCENTILES",
    "ScaleTargetAdvice",
    "check_target",
    "find_knee",
    "is_loopback",
    "measure_capacity",
    "percentile_budget",
    "recommend_scale_target",
    "replicas_for",
    "run_load",
    "run_load_async",
    *_PLOTS,
]


def __getattr__(name: str):
    if name in _PLOTS:
        from . import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
