"""Watch Knative scale an InferenceService: pods and the autoscaler's scale over time, cold starts.

In Knative mode each revision of an InferenceService has a PodAutoscaler
(``podautoscalers.autoscaling.internal.knative.dev``, ``kubectl get kpa``) whose status carries
``desiredScale`` (what the autoscaler wants) and ``actualScale`` (the pods it has). It carries the
revision's labels, so the InferenceService's pods and its PodAutoscalers are both found with
``serving.kserve.io/inferenceservice=<name>``.

``ScaleSampler`` reads both every second in a background thread while load runs; ``plot_scaling``
draws replicas over time next to the load. The parsing functions work on objects as the API
returns them (``kubectl get -o json`` shape) and are pure, so they are tested without a cluster.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .console import step
from .errors import WorkshopError
from .kube.conditions import has_true_condition
from .load import LoadResult
from .load.targets import LoadTarget, load_target  # noqa: F401 - load_target re-exported for the labs
from .namespace import workshop_namespace

ISVC_LABEL = "serving.kserve.io/inferenceservice"
PA_GROUP = "autoscaling.internal.knative.dev"
PA_VERSION = "v1alpha1"
PA_PLURAL = "podautoscalers"

Fetch = Callable[[], tuple[list[dict], list[dict]]]


# ------------------------------------------------------------------------------------ parsing


@dataclass(frozen=True)
class PodCounts:
    """Pods of an InferenceService by state: serving, on their way up, on their way out."""

    ready: int = 0
    starting: int = 0
    terminating: int = 0

    @property
    def total(self) -> int:
        return self.ready + self.starting + self.terminating


def count_pods(pods: Iterable[Mapping]) -> PodCounts:
    """Count pods as ``kubectl get pods`` shows them: a deletion timestamp means terminating, the
    Ready condition means serving, anything else still running (Pending, init containers,
    readiness probe not passed yet) is starting. Finished pods (Succeeded/Failed) are left out."""
    ready = starting = terminating = 0
    for pod in pods:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            terminating += 1
        elif (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        elif has_true_condition(pod, "Ready"):
            ready += 1
        else:
            starting += 1
    return PodCounts(ready, starting, terminating)


@dataclass(frozen=True)
class KpaScale:
    """One PodAutoscaler (one revision): the scale the autoscaler wants and the scale it has."""

    revision: str
    desired: int | None
    actual: int | None


def read_kpa(pa: Mapping) -> KpaScale:
    """``status.desiredScale`` / ``status.actualScale`` of a PodAutoscaler (None until reported;
    Knative omits them from the object while they are unset)."""
    status = pa.get("status") or {}

    def scale(key: str) -> int | None:
        value = status.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return KpaScale(
        revision=(pa.get("metadata") or {}).get("name", "?"), desired=scale("desiredScale"), actual=scale("actualScale")
    )


@dataclass(frozen=True)
class ScaleSample:
    """What the cluster showed at wall-clock time ``t`` (``time.time()``)."""

    t: float
    ready: int
    starting: int
    terminating: int
    #: Sums over the InferenceService's revisions; None when no PodAutoscaler reported one yet.
    desired: int | None
    actual: int | None

    @property
    def pods(self) -> int:
        """Pods serving or starting (the terminating ones are on their way out)."""
        return self.ready + self.starting


def make_sample(t: float, pods: Iterable[Mapping], pas: Iterable[Mapping]) -> ScaleSample:
    counts = count_pods(pods)
    scales = [read_kpa(pa) for pa in pas]

    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return ScaleSample(
        t,
        counts.ready,
        counts.starting,
        counts.terminating,
        total([s.desired for s in scales]),
        total([s.actual for s in scales]),
    )


# ------------------------------------------------------------------------------ cluster reads


class ClusterScaleReader:
    """Reads the InferenceService's pods and PodAutoscalers (one API client, made on first use)."""

    def __init__(self, name: str, namespace: str | None = None, *, context: str | None = None):
        namespace = workshop_namespace(namespace)
        self.name, self.namespace, self.context = name, namespace, context
        self.selector = f"{ISVC_LABEL}={name}"
        self._api = None

    def __call__(self) -> tuple[list[dict], list[dict]]:
        from kubernetes import client

        from .kube.client import api_client
        from .kube.errors import api_errors

        if self._api is None:
            self._api = api_client(self.context)
        with api_errors(
            f"reading pods/PodAutoscalers of {self.namespace}/{self.name}",
            not_found_hint="is Knative Serving installed? `kubectl get kpa -A`",
        ):
            pod_list = client.CoreV1Api(self._api).list_namespaced_pod(
                self.namespace, label_selector=self.selector, _request_timeout=10
            )
            pas = client.CustomObjectsApi(self._api).list_namespaced_custom_object(
                PA_GROUP, PA_VERSION, self.namespace, PA_PLURAL, label_selector=self.selector, _request_timeout=10
            )
        pods = self._api.sanitize_for_serialization(pod_list).get("items") or []
        return pods, pas.get("items") or []


class ScaleSampler:
    """Sample pods and the KPA's desired/actual scale every ``interval`` seconds in a background thread.

        with ScaleSampler("iris-autoscale") as sampler:
            result = run_load(...)
        plot_scaling(sampler.samples, result)

    A failed read is remembered (``errors``) and sampling goes on; ``stop()`` raises WorkshopError
    when no read succeeded at all. ``fetch`` replaces the cluster read (tests pass recorded objects).
    """

    def __init__(
        self,
        name: str,
        namespace: str | None = None,
        *,
        interval: float = 1.0,
        context: str | None = None,
        fetch: Fetch | None = None,
    ):
        namespace = workshop_namespace(namespace)
        if not interval > 0:
            raise WorkshopError(f"interval must be a positive number of seconds, got {interval!r}")
        self.interval = interval
        self._fetch = fetch or ClusterScaleReader(name, namespace, context=context)
        self._samples: list[ScaleSample] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def samples(self) -> list[ScaleSample]:
        return list(self._samples)

    def sample_once(self) -> ScaleSample | None:
        t = time.time()
        try:
            pods, pas = self._fetch()
        except Exception as exc:  # noqa: BLE001 - one failed read must not end the sampling
            self.errors.append(str(exc))
            return None
        sample = make_sample(t, pods, pas)
        self._samples.append(sample)
        return sample

    def _loop(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            self.sample_once()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def start(self) -> "ScaleSampler":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="scale-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> list[ScaleSample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if not self._samples and self.errors:
            raise WorkshopError(
                f"no sample could be read: {self.errors[-1]}",
                hint="check the cluster: `kubectl get pods,kpa -n <namespace>`",
            )
        return self.samples

    def keep_sampling(self, seconds: float) -> None:
        """Let the sampler run on for ``seconds`` (e.g. after the load, to see the scale-down start)."""
        with step(f"watching the scale for {seconds:g} s more"):
            self._stop.wait(seconds)

    def __enter__(self) -> "ScaleSampler":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def wait_for_pods(
    name: str,
    namespace: str | None = None,
    *,
    count: int = 0,
    timeout: float = 300,
    interval: float = 2.0,
    context: str | None = None,
    fetch: Fetch | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ScaleSample:
    """Wait (bounded) until exactly ``count`` pods are left, all ready — ``count=0``: scaled to zero,
    every pod gone, terminating ones included. Returns the last sample."""
    namespace = workshop_namespace(namespace)
    fetch = fetch or ClusterScaleReader(name, namespace, context=context)
    deadline = clock() + timeout
    what = "scale to zero" if count == 0 else f"have {count} ready pod(s)"
    last: ScaleSample | None = None
    with step(f"waiting for {namespace}/{name} to {what}, up to {timeout:.0f}s"):
        while True:
            pods, pas = fetch()
            last = make_sample(time.time(), pods, pas)
            if last.ready == count and last.starting == 0 and last.terminating == 0:
                return last
            if clock() >= deadline:
                break
            sleep(interval)
    raise WorkshopError(
        f"{namespace}/{name} did not {what} within {timeout:.0f}s: {last.ready} ready, {last.starting} starting, "
        f"{last.terminating} terminating; the autoscaler wants {last.desired if last.desired is not None else '?'}",
        hint="is load still arriving? Scale to zero needs no request for the stable window plus the "
        "grace period (60 s + 30 s by default); `kubectl get kpa,pods -n " + namespace + "`",
    )


# ----------------------------------------------------------------------------------- load, cold start


def ingress_load_target(
    name: str, namespace: str | None = None, *, context: str | None = None, protocol: str = "v1"
) -> LoadTarget:
    """Resolve (once) where load for InferenceService ``name`` goes: ingress URL + Host from status.url."""
    namespace = workshop_namespace(namespace)
    from .ingress import ingress_target

    return ingress_target(name, namespace, context=context).load_target(protocol)


@dataclass(frozen=True)
class ColdStart:
    """The first request after scale to zero, next to warm requests on the pod it woke up."""

    first: float
    warm_p50: float

    @property
    def slowdown(self) -> float:
        return self.first / self.warm_p50 if self.warm_p50 > 0 else math.inf


def measure_cold_start(target: LoadTarget, payload: Any, *, timeout: float = 300, warm_requests: int = 20) -> ColdStart:
    """Time one request sent while no pod runs, then ``warm_requests`` more, one at a time.

    The first request waits in Knative's activator while a pod is scheduled, pulls its model
    (the storage initializer) and passes its readiness probe: that wait is the cold start. Call
    it after ``wait_for_pods(name, count=0)``, or it measures a warm pod.
    """
    with step(f"one request to a model scaled to zero (waits for a pod, up to {timeout:.0f}s)"):
        first = target.run(payload, concurrency=1, max_requests=1, duration=None, timeout=timeout)
    if first.errors:
        raise WorkshopError(
            f"the first request after scale to zero failed: {first.error_kinds}",
            hint="a timeout means no pod became ready in time: `kubectl get pods,kpa`, "
            "and the pod's events (image pull, storage initializer)",
        )
    warm = target.run(payload, concurrency=1, max_requests=warm_requests, duration=None)
    return ColdStart(first=first.durations[0], warm_p50=warm.percentiles["p50"])


# ------------------------------------------------------------------------------ summary and plot


def summarize_scaling(samples: Sequence[ScaleSample], load: LoadResult | None = None) -> dict[str, Any]:
    """Peak pods and desired scale, and how long after the load began the first new pod was ready."""
    if not samples:
        raise WorkshopError("no samples to summarise", hint="sample with ScaleSampler while the load runs")
    start = load.started_at if load is not None else samples[0].t
    before = [s for s in samples if s.t <= start] or [samples[0]]
    initial = before[-1].ready
    grown = [s for s in samples if s.t >= start and s.ready > initial]
    desired = [s.desired for s in samples if s.desired is not None]
    return {
        "initial_ready": initial,
        "max_ready": max(s.ready for s in samples),
        "max_desired": max(desired) if desired else None,
        "first_new_pod_ready_after_s": round(grown[0].t - start, 1) if grown else None,
        "samples": len(samples),
        "duration_s": round(samples[-1].t - samples[0].t, 1),
    }


def plot_scaling(samples: Sequence[ScaleSample], load: LoadResult | None = None, *, title: str = "Replicas over time"):
    """Pods (ready and starting) and the KPA's desired/actual scale over time, above the load it served."""
    import matplotlib.pyplot as plt

    if not samples:
        raise WorkshopError("no samples to plot", hint="sample with ScaleSampler while the load runs")
    origin = min(samples[0].t, load.started_at if load is not None else samples[0].t)
    rows = 2 if load is not None else 1
    fig, axes = plt.subplots(rows, 1, figsize=(9, 3.2 * rows), sharex=True, layout="constrained", squeeze=False)
    top = axes[0][0]
    t = [s.t - origin for s in samples]
    top.step(t, [s.ready for s in samples], where="post", color="tab:green", label="ready pods")
    top.step(
        t, [s.pods for s in samples], where="post", color="tab:olive", linestyle="-.", label="ready + starting pods"
    )
    for key, style, colour in (("desired", "--", "tab:red"), ("actual", ":", "tab:blue")):
        values = [getattr(s, key) if getattr(s, key) is not None else math.nan for s in samples]
        top.step(t, values, where="post", linestyle=style, color=colour, label=f"KPA {key} scale")
    top.set_ylabel("replicas")
    top.set_ylim(bottom=0)
    top.yaxis.get_major_locator().set_params(integer=True)
    top.set_title(title)
    if load is not None:
        begin, end = load.started_at - origin, load.started_at - origin + load.elapsed
        top.axvspan(begin, end, color="grey", alpha=0.12, label="load running")
        bottom = axes[1][0]
        rates = load.per_second(1.0)
        centres = [begin + t + width / 2 for t, width in zip(rates["t"], rates["width"])]
        bottom.plot(centres, rates["throughput"], color="tab:green", marker=".", label="throughput (req/s)")
        bottom.set_ylabel("requests / s")
        bottom.set_ylim(bottom=0)
        latency = bottom.twinx()
        latency.plot(
            centres, [v * 1000 for v in rates["p50"]], color="tab:purple", marker=".", label="p50 latency (ms)"
        )
        latency.set_ylabel("p50 latency (ms)")
        latency.set_ylim(bottom=0)
        handles = bottom.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
        bottom.legend(handles=handles, loc="upper right", fontsize=8)
        bottom.set_xlabel("seconds")
    else:
        top.set_xlabel("seconds")
    top.legend(loc="upper right", fontsize=8)
    return fig
