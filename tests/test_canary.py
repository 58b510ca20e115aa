"""Lab 4's statistics: sample size, probes and attribution, the split test, the plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kserve_workshop import canary  # noqa: E402
from kserve_workshop.errors import WorkshopError  # noqa: E402


# ------------------------------------------------------------------------------ sample size


@pytest.mark.parametrize(
    "share, tolerance, confidence, expected",
    [
        # ceil(z^2 p (1 - p) / E^2), worked by hand with z = 1.95996 (95 %) and 2.57583 (99 %)
        (0.2, 0.05, 0.95, 246),  # 3.8415 * 0.16 / 0.0025 = 245.85
        (0.2, 0.03, 0.95, 683),  # 3.8415 * 0.16 / 0.0009 = 682.9
        (0.5, 0.05, 0.95, 385),  # 3.8415 * 0.25 / 0.0025 = 384.1
        (0.1, 0.02, 0.95, 865),  # 3.8415 * 0.09 / 0.0004 = 864.3
        (0.2, 0.05, 0.99, 425),  # 6.6349 * 0.16 / 0.0025 = 424.6
    ],
)
def test_requests_needed(share, tolerance, confidence, expected):
    assert canary.requests_needed(share, tolerance, confidence) == expected


def test_z_score_for_common_confidences():
    assert canary.z_score(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert canary.z_score(0.90) == pytest.approx(1.644854, abs=1e-6)


def test_the_sample_size_delivers_its_promise_in_simulation():
    """With n = requests_needed(0.2, 0.05), about 95 % of simulated canaries land within ±5 points."""
    n = canary.requests_needed(0.2, 0.05, 0.95)
    shares = np.random.default_rng(7).binomial(n, 0.2, size=20000) / n
    coverage = float(np.mean(np.abs(shares - 0.2) <= 0.05))
    assert 0.935 <= coverage <= 0.965
    # ...and a quarter of the requests would clearly not be enough
    shares = np.random.default_rng(7).binomial(n // 4, 0.2, size=20000) / (n // 4)
    assert float(np.mean(np.abs(shares - 0.2) <= 0.05)) < 0.8


def test_margin_of_error_is_the_inverse_of_the_sample_size():
    assert canary.margin_of_error(0.2, 246) == pytest.approx(0.04999, abs=1e-4)
    with pytest.raises(WorkshopError, match="positive number of requests"):
        canary.margin_of_error(0.2, 0)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((20, 0.05), "share must be a fraction"),
        ((0.2, 5), "tolerance must be a fraction"),
        ((0.2, 0.0), "tolerance must be a fraction"),
        ((0.2, 0.05, 1.0), "confidence must be a fraction"),
        ((0.2, 0.05, True), "confidence must be a fraction"),
    ],
)
def test_requests_needed_rejects_percentages_and_impossible_values(arguments, message):
    with pytest.raises(WorkshopError, match=message) as info:
        canary.requests_needed(*arguments)
    assert "0.2" in info.value.hint


# ------------------------------------------------------------------ probes and attribution


def test_find_probes_returns_inputs_where_all_versions_differ():
    candidates = [[1], [2], [3], [4]]
    outputs = {"v1": [0, 1, 2, 2], "v2": [0, 2, 2, 1]}
    assert canary.find_probes(outputs, candidates) == [[2], [4]]
    assert canary.find_probes(outputs, candidates, limit=1) == [[2]]


def test_find_probes_needs_every_pair_to_differ_with_three_versions():
    outputs = {"a": [0, 0, 1], "b": [1, 0, 2], "c": [1, 1, 0]}
    assert canary.find_probes(outputs, ["x", "y", "z"]) == ["z"]


def test_find_probes_refuses_indistinguishable_versions():
    with pytest.raises(WorkshopError, match="answer alike on all 3 candidate inputs"):
        canary.find_probes({"v1": [0, 1, 2], "v2": [0, 1, 2]}, [[1], [2], [3]])


def test_find_probes_rejects_misaligned_answers():
    with pytest.raises(WorkshopError, match="has 2 answers for 3 candidate inputs"):
        canary.find_probes({"v1": [0, 1, 2], "v2": [0, 1]}, [[1], [2], [3]])
    with pytest.raises(WorkshopError, match="at least two versions"):
        canary.find_probes({"v1": [0]}, [[1]])


def test_probabilities_that_differ_only_by_float_noise_count_as_equal():
    outputs = {"v1": [[0.1, 0.9], [0.5, 0.5]], "v2": [[0.1 + 1e-12, 0.9], [0.4, 0.6]]}
    assert canary.find_probes(outputs, ["a", "b"]) == ["b"]


def test_attributor_maps_answers_to_versions():
    attributor = canary.Attributor({"v1": [1, 2], "v2": [2, 2]})
    assert attributor.attribute([1, 2]) == "v1"
    assert attributor.attribute((2, 2)) == "v2"
    assert attributor.attribute(np.array([2, 2])) == "v2"
    assert attributor.attribute([0, 0]) == canary.UNATTRIBUTED


def test_attributor_refuses_identical_signatures():
    with pytest.raises(WorkshopError, match="answer the probe identically"):
        canary.Attributor({"v1": [1], "v2": [1]})


@pytest.fixture(scope="module")
def two_models():
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    return SVC(gamma="scale").fit(X, y), DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)


def test_signatures_find_a_probe_that_tells_two_real_models_apart(two_models):
    v1, v2 = two_models
    probe, attributor = canary.signatures(
        {"v1": lambda rows: v1.predict(rows).tolist(), "v2": lambda rows: v2.predict(rows).tolist()}
    )
    assert 1 <= len(probe) <= 3
    assert all(a != b for a, b in zip(v1.predict(probe), v2.predict(probe)))
    assert attributor.attribute(v1.predict(probe).tolist()) == "v1"
    assert attributor.attribute(v2.predict(probe).tolist()) == "v2"


def test_candidate_inputs_cover_iris_and_are_reproducible():
    candidates = canary.candidate_inputs(n_random=50, seed=3)
    assert len(candidates) == 200 and all(len(row) == 4 for row in candidates)
    assert candidates == canary.candidate_inputs(n_random=50, seed=3)
    assert candidates[0] == [5.1, 3.5, 1.4, 0.2]  # the first iris flower


def test_client_side_split_attribution_recovers_who_answered(two_models):
    v1, v2 = two_models
    senders = {"v1": lambda rows: v1.predict(rows).tolist(), "v2": lambda rows: v2.predict(rows).tolist()}
    probe, attributor = canary.signatures(senders)
    split = canary.ClientSideSplit(senders, {"v1": 0.8, "v2": 0.2}, seed=11)
    labels = canary.collect_attributions(split, probe, attributor, 300, progress=False)
    assert labels == split.chosen  # every answer attributed to the server that really answered
    assert 0.12 < labels.count("v2") / 300 < 0.28


def test_collect_attributions_counts_failures_and_gives_up_when_all_fail():
    attributor = canary.Attributor({"a": [0], "b": [1]})
    answers = iter([[0], WorkshopError("HTTP 503"), [1], [7]])

    def send(rows):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert canary.collect_attributions(send, [[1]], attributor, 4, progress=False) == [
        "a",
        canary.FAILED,
        "b",
        canary.UNATTRIBUTED,
    ]

    def always_fails(rows):
        raise WorkshopError("cannot reach http://127.0.0.1:8080")

    with pytest.raises(WorkshopError, match="all 3 requests failed; the first error: cannot reach"):
        canary.collect_attributions(always_fails, [[1]], attributor, 3, progress=False)
    with pytest.raises(WorkshopError, match="positive number"):
        canary.collect_attributions(send, [[1]], attributor, 0, progress=False)


def test_client_side_split_rejects_bad_weights():
    with pytest.raises(WorkshopError, match="sum to 1"):
        canary.ClientSideSplit({"a": print, "b": print}, {"a": 0.8, "b": 0.3})
    with pytest.raises(WorkshopError, match="same versions"):
        canary.ClientSideSplit({"a": print}, {"b": 1.0})


# ----------------------------------------------------------------------------- split test


def labels(canary_count: int, stable_count: int, **others: int) -> list[str]:
    out = ["canary"] * canary_count + ["stable"] * stable_count
    for label, count in others.items():
        out += [label] * count
    return out


EXPECTED = {"stable": 0.8, "canary": 0.2}


def test_an_exact_match_is_consistent_with_the_wilson_interval():
    result = canary.evaluate_split(labels(50, 200), EXPECTED, "canary", tolerance=0.05)
    assert result.counts == {"stable": 200, "canary": 50} and result.n == 250
    assert result.observed_share == 0.2
    assert result.binomial_p_value == pytest.approx(1.0)
    assert result.chi2_p_value == pytest.approx(1.0)
    # Wilson 95 % interval for 50/250, by hand: centre 0.20454, half-width 0.04942
    assert result.interval == pytest.approx((0.1551, 0.2540), abs=5e-4)
    assert result.consistent and result.within_tolerance


def test_a_split_far_from_the_configuration_is_rejected():
    result = canary.evaluate_split(labels(80, 170), EXPECTED, "canary", tolerance=0.05)
    assert result.observed_share == pytest.approx(0.32)
    assert result.binomial_p_value < 1e-4 and result.chi2_p_value < 1e-4
    assert not result.consistent and result.within_tolerance is False
    assert "rejected at the 5% level" in result.summary()


def test_chi_square_agrees_with_the_normal_approximation_for_two_versions():
    # 40 of 250 at p = 0.2: z = (40 - 50) / sqrt(250 * 0.16) = -1.5811, two-sided p = 0.1138
    result = canary.evaluate_split(labels(40, 210), EXPECTED, "canary")
    assert result.chi2_p_value == pytest.approx(0.1138, abs=1e-3)
    assert result.consistent


def test_unattributed_and_failed_answers_are_reported_not_counted():
    result = canary.evaluate_split(labels(50, 200, unattributed=3, failed=2), EXPECTED, "canary")
    assert result.n == 250
    assert result.excluded == {"unattributed": 3, "failed": 2}
    assert "not counted: failed=2, unattributed=3" in result.summary()


def test_a_rollback_at_zero_percent_tolerates_no_canary_answer():
    rolled_back = {"stable": 1.0, "canary": 0.0}
    assert canary.evaluate_split(labels(0, 100), rolled_back, "canary").consistent
    assert not canary.evaluate_split(labels(1, 99), rolled_back, "canary").consistent


@pytest.mark.parametrize(
    "expected, canary_name, message",
    [
        ({"stable": 80, "canary": 20}, "canary", "fractions summing to 1"),
        ({"stable": 0.7, "canary": 0.2}, "canary", "fractions summing to 1"),
        (EXPECTED, "v2", "is not one of the expected versions"),
    ],
)
def test_evaluate_split_rejects_a_bad_configuration(expected, canary_name, message):
    with pytest.raises(WorkshopError, match=message):
        canary.evaluate_split(labels(5, 20), expected, canary_name)


def test_evaluate_split_with_nothing_attributed_says_so():
    with pytest.raises(WorkshopError, match="no answer could be attributed"):
        canary.evaluate_split(["unattributed"] * 4, EXPECTED, "canary")


# ----------------------------------------------------------------------------------- plots


def test_plot_split_draws_configured_and_observed_bars():
    result = canary.evaluate_split(labels(50, 200), EXPECTED, "canary")
    figure = canary.plot_split(result, title="split")
    ax = figure.axes[0]
    heights = sorted(round(patch.get_height(), 3) for patch in ax.patches)
    assert heights == [0.2, 0.2, 0.8, 0.8]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["stable\n200 answers", "canary\n50 answers"]
    assert ax.get_title() == "split"


def test_plot_running_share_draws_the_cumulative_share():
    sequence = ["stable", "canary", "stable", "stable", "canary", "failed"]
    figure = canary.plot_running_share(sequence, "canary", 0.2, tolerance=0.05)
    line = [drawn for drawn in figure.axes[0].get_lines() if drawn.get_label().startswith("observed")][0]
    assert list(np.round(line.get_ydata(), 3)) == [0.0, 0.5, 0.333, 0.25, 0.4]
    with pytest.raises(WorkshopError, match="no attributed answers"):
        canary.plot_running_share(["failed"], "canary", 0.2)


def test_the_split_and_the_running_share_stack_in_one_figure_a_page_shows_legibly():
    """Lab 4's two panels: one above the other, at most 7.5 inches wide, legends of 10 pt or more
    (side by side at 12 inches, a page's ~700 px column drew their legends at about 5 px)."""
    sequence = labels(50, 200)
    result = canary.evaluate_split(sequence, EXPECTED, "canary")
    figure = canary.plot_split_and_share(result, sequence, tolerance=0.05, share_title="running share")
    split_ax, share_ax = figure.axes
    assert split_ax.get_position().y0 > share_ax.get_position().y1, "the split above the running share"
    assert figure.get_figwidth() <= 7.5
    for ax in (split_ax, share_ax):
        assert min(text.get_fontsize() for text in ax.get_legend().get_texts()) >= 10
    assert share_ax.get_title() == "running share"
    line = [drawn for drawn in share_ax.get_lines() if drawn.get_label() == "observed share of canary"][0]
    assert round(line.get_ydata()[-1], 3) == 0.2
