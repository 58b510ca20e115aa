"""Lab 3's cluster-side helpers, pure logic only: parsing pods and PodAutoscalers as the API returns
them (``kubectl get -o json`` shape, fields as in Knative's pa_types.go), sampling, summary, plot,
the ingress load target, and the lab's manifests against KServe's schema. No cluster is faked:
sampling loops get recorded objects through their ``fetch`` argument."""

from __future__ import annotations

import math
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from kserve_workshop import autoscaling  # noqa: E402
from kserve_workshop.autoscaling import (
    ColdStart,
    ScaleSample,
    ScaleSampler,
    count_pods,
    load_target,  # noqa: E402
    make_sample,
    plot_scaling,
    read_kpa,
    summarize_scaling,
    wait_for_pods,
)
from kserve_workshop.errors import WorkshopError  # noqa: E402
from kserve_workshop.load import LoadResult, replicas_for  # noqa: E402
from kserve_workshop.paths import MANIFESTS_DIR  # noqa: E402

NAME = "iris-autoscale"
LAB_DIR = MANIFESTS_DIR / "labs" / "03-autoscaling"


def pod(name, *, ready=True, phase="Running", deleting=False):
    metadata = {
        "name": name,
        "namespace": "default",
        "labels": {"serving.kserve.io/inferenceservice": NAME, "component": "predictor"},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-08-21T10:00:00Z"
    conditions = [
        {"type": "Initialized", "status": "True"},
        {"type": "Ready", "status": "True" if ready else "False"},
        {"type": "PodScheduled", "status": "True"},
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "status": {"phase": phase, "conditions": conditions},
    }


def pa(revision, desired=None, actual=None):
    status = {
        "serviceName": revision,
        "metricsServiceName": f"{revision}-private",
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    if desired is not None:
        status["desiredScale"] = desired
    if actual is not None:
        status["actualScale"] = actual
    return {
        "apiVersion": "autoscaling.internal.knative.dev/v1alpha1",
        "kind": "PodAutoscaler",
        "metadata": {
            "name": revision,
            "namespace": "default",
            "labels": {"serving.kserve.io/inferenceservice": NAME, "serving.knative.dev/revision": revision},
        },
        "spec": {
            "protocolType": "http1",
            "reachability": "Reachable",
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{revision}-deployment"},
        },
        "status": status,
    }


def test_pods_are_counted_by_state():
    pods = [
        pod("a"),
        pod("b"),
        pod("c", ready=False),
        pod("d", ready=False, phase="Pending"),
        pod("e", deleting=True),
        pod("f", phase="Succeeded", ready=False),
    ]
    counts = count_pods(pods)
    assert (counts.ready, counts.starting, counts.terminating) == (2, 2, 1)
    assert counts.total == 5


def test_a_pod_without_conditions_is_starting():
    assert count_pods([{"metadata": {"name": "x"}, "status": {"phase": "Pending"}}]).starting == 1


def test_kpa_scale_is_read_from_status():
    scale = read_kpa(pa("iris-autoscale-predictor-00001", desired=5, actual=3))
    assert (scale.revision, scale.desired, scale.actual) == ("iris-autoscale-predictor-00001", 5, 3)


def test_kpa_without_scale_yet_reads_as_none():
    # Knative omits desiredScale/actualScale until the autoscaler has decided (omitempty pointers).
    scale = read_kpa(pa("iris-autoscale-predictor-00001"))
    assert scale.desired is None and scale.actual is None
    assert read_kpa({"metadata": {"name": "x"}, "status": {"desiredScale": "3"}}).desired is None


def test_sample_adds_up_revisions_and_keeps_unknowns_unknown():
    sample = make_sample(
        100.0, [pod("a"), pod("b", ready=False)], [pa("r1", desired=3, actual=2), pa("r2", desired=1, actual=None)]
    )
    assert (sample.ready, sample.starting, sample.pods) == (1, 1, 2)
    assert (sample.desired, sample.actual) == (4, 2)
    empty = make_sample(100.0, [], [pa("r1")])
    assert empty.desired is None and empty.pods == 0


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_sampler_records_samples_and_survives_a_failed_read():
    replies = iter(
        [
            ([pod("a")], [pa("r1", 1, 1)]),
            RuntimeError("apiserver hiccup"),
            ([pod("a"), pod("b", ready=False)], [pa("r1", 2, 1)]),
        ]
    )

    def fetch():
        reply = next(replies, ([pod("a"), pod("b")], [pa("r1", 2, 2)]))
        if isinstance(reply, Exception):
            raise reply
        return reply

    sampler = ScaleSampler(NAME, fetch=fetch, interval=0.01)
    with sampler:
        wait_until(lambda: len(sampler.samples) >= 3)
    samples = sampler.samples
    assert [s.pods for s in samples[:3]] == [1, 2, 2]
    assert [s.desired for s in samples[:3]] == [1, 2, 2]
    assert sampler.errors == ["apiserver hiccup"]
    assert all(a.t <= b.t for a, b in zip(samples, samples[1:]))


def test_sampler_that_never_read_anything_says_why():
    def fetch():
        raise WorkshopError("cannot reach the cluster: connection refused")

    sampler = ScaleSampler(NAME, fetch=fetch, interval=0.01).start()
    wait_until(lambda: sampler.errors)
    with pytest.raises(WorkshopError, match="no sample could be read: cannot reach the cluster"):
        sampler.stop()
    with pytest.raises(WorkshopError, match="interval"):
        ScaleSampler(NAME, interval=0)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_pods_returns_once_everything_is_gone():
    replies = iter(
        [
            ([pod("a"), pod("b", deleting=True)], [pa("r1", 0, 1)]),
            ([pod("b", deleting=True)], [pa("r1", 0, 0)]),
            ([], [pa("r1", 0, 0)]),
        ]
    )
    clock = FakeClock()
    sample = wait_for_pods(NAME, count=0, fetch=lambda: next(replies), sleep=clock.sleep, clock=clock)
    assert sample.pods == 0 and sample.terminating == 0
    assert clock.now == 4.0  # two waits of 2 s


def test_wait_for_pods_times_out_with_what_it_saw():
    clock = FakeClock()
    with pytest.raises(WorkshopError, match="did not scale to zero within 10s: 1 ready, 0 starting") as info:
        wait_for_pods(
            NAME, count=0, timeout=10, fetch=lambda: ([pod("a")], [pa("r1", 1, 1)]), sleep=clock.sleep, clock=clock
        )
    assert "stable window" in info.value.hint


def samples_of(values, start=1000.0):
    """ScaleSamples one second apart from (ready, starting, desired, actual) tuples."""
    return [
        ScaleSample(start + i, ready, starting, 0, desired, actual)
        for i, (ready, starting, desired, actual) in enumerate(values)
    ]


def load_result(started_at, elapsed=4.0):
    starts = [i * 0.1 for i in range(int(elapsed * 10))]
    return LoadResult(
        url="http://127.0.0.1:8080/v1/models/iris-autoscale:predict",
        concurrency=4,
        rate=None,
        started_at=started_at,
        elapsed=elapsed,
        starts=starts,
        durations=[0.01] * len(starts),
        oks=[True] * len(starts),
    )


def test_summary_finds_peak_and_first_new_pod():
    samples = samples_of([(1, 0, 1, 1), (1, 0, 1, 1), (1, 0, 5, 1), (1, 3, 5, 4), (4, 0, 5, 4), (5, 0, 5, 5)])
    summary = summarize_scaling(samples, load_result(started_at=1001.5))
    assert summary["initial_ready"] == 1
    assert summary["max_ready"] == 5 and summary["max_desired"] == 5
    assert summary["first_new_pod_ready_after_s"] == 2.5  # ready went 1 -> 4 at t=1004
    assert summary["duration_s"] == 5.0
    with pytest.raises(WorkshopError):
        summarize_scaling([])


def test_summary_when_nothing_scaled():
    summary = summarize_scaling(samples_of([(1, 0, None, None)] * 3))
    assert summary["first_new_pod_ready_after_s"] is None and summary["max_desired"] is None


def test_plot_shows_replicas_above_the_load():
    samples = samples_of([(1, 0, 1, 1), (1, 0, 4, 1), (1, 3, 4, 4), (4, 0, 4, 4)])
    fig = plot_scaling(samples, load_result(started_at=1000.5, elapsed=3.0))
    top, bottom, _latency = fig.axes
    labels = [line.get_label() for line in top.get_lines()]
    assert labels == ["ready pods", "ready + starting pods", "KPA desired scale", "KPA actual scale"]
    assert list(top.get_lines()[0].get_ydata()) == [1, 1, 1, 4]
    assert list(top.get_lines()[2].get_ydata()) == [1, 4, 4, 4]
    assert list(top.get_lines()[0].get_xdata()) == [0, 1, 2, 3]  # seconds since the first sample
    assert list(bottom.get_lines()[0].get_ydata()) == [10.0, 10.0, 10.0]  # requests/s of the load
    plt.close(fig)


def test_plot_without_load_and_with_unknown_kpa_scale():
    fig = plot_scaling(samples_of([(0, 1, None, None), (1, 0, 1, 1)]))
    desired = fig.axes[0].get_lines()[2].get_ydata()
    assert math.isnan(desired[0]) and desired[1] == 1
    plt.close(fig)
    with pytest.raises(WorkshopError):
        plot_scaling([])


def test_load_target_routes_through_the_ingress_with_the_host_header():
    target = load_target("http://127.0.0.1:8080", "iris-autoscale.default.example.com", "iris-autoscale")
    assert target.url == "http://127.0.0.1:8080/v1/models/iris-autoscale:predict"
    assert target.headers == {"Host": "iris-autoscale.default.example.com"}
    gke = load_target("http://34.1.2.3/", "iris-autoscale.default.example.com", "iris-autoscale", protocol="v2")
    assert gke.url == "http://34.1.2.3/v2/models/iris-autoscale/infer"
    assert gke.allow_hosts == ("34.1.2.3",)  # the ingress's address, and only it
    with pytest.raises(WorkshopError):
        load_target("http://127.0.0.1:8080", "h", "m", protocol="v3")
    with pytest.raises(WorkshopError):
        load_target("not a url", "h", "m")


def test_cold_start_slowdown():
    assert ColdStart(first=12.0, warm_p50=0.02).slowdown == pytest.approx(600)
    assert ColdStart(first=1.0, warm_p50=0.0).slowdown == math.inf


def test_selector_is_the_inferenceservice_label():
    reader = autoscaling.ClusterScaleReader(NAME, "default")
    assert reader.selector == "serving.kserve.io/inferenceservice=iris-autoscale"


# ------------------------------------------------------------------------------ the lab's manifests


def lab_manifest(name):
    return yaml.safe_load((LAB_DIR / name).read_text())


@pytest.mark.parametrize("name", ["iris-autoscale.yaml", "iris-scale-to-zero.yaml"])
def test_lab_manifests_pass_kserves_schema(name):
    from kserve_workshop import schemas
    from kserve_workshop.validate import errors, validate_file, validate_object

    if schemas.isvc_schema() is None:
        pytest.skip("the InferenceService CRD is not cached (run `invoke schemas`)")
    assert errors(validate_file(LAB_DIR / name)) == []
    # ... and the validator would catch a typo in the autoscaling fields.
    broken = lab_manifest(name)
    broken["spec"]["predictor"]["scaleMetrics"] = broken["spec"]["predictor"].pop("scaleMetric")
    assert errors(validate_object(broken))
    broken = lab_manifest(name)
    broken["spec"]["predictor"]["scaleMetric"] = "qps"
    assert errors(validate_object(broken))


def test_autoscale_manifest_scales_on_concurrency_with_small_pods():
    predictor = lab_manifest("iris-autoscale.yaml")["spec"]["predictor"]
    assert predictor["scaleMetric"] == "concurrency"
    assert predictor["minReplicas"] >= 1 and predictor["maxReplicas"] > predictor["minReplicas"]
    assert predictor["model"]["resources"]["limits"]["cpu"] == "100m"
    # A handful of concurrent clients is enough to need more than one pod.
    assert replicas_for(3, predictor["scaleTarget"], max_replicas=predictor["maxReplicas"]) > 1


def test_scale_to_zero_manifest_allows_zero_and_a_short_window():
    manifest = lab_manifest("iris-scale-to-zero.yaml")
    assert manifest["spec"]["predictor"]["minReplicas"] == 0
    window = manifest["metadata"]["annotations"]["autoscaling.knative.dev/window"]
    assert window.endswith("s") and 6 <= int(window[:-1]) <= 3600  # Knative's allowed range
