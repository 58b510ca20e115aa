"""The statistics of Lab 4: how many requests verify a traffic split, which revision answered each
request, whether the observed split agrees with the configured one, and plots of it.

How many requests? Each request goes to the canary with probability p, independently, so the
number of canary answers in n requests is binomial(n, p) and the observed share has standard error
sqrt(p (1 - p) / n). For large n it is close to normal, so the observed share lies within
z * sqrt(p (1 - p) / n) of p with the chosen confidence, z being the two-sided normal quantile
(1.96 for 95 %). Asking that margin to be at most the tolerance E gives

    n >= z**2 * p * (1 - p) / E**2        (20 % within 5 points at 95 %: 246 requests)

Which revision answered? A response does not say which revision produced it, but two model
versions that predict differently on some input can be told apart by their answer to it. We find
such "probe" inputs offline (or through KServe's tagged routes ``prev-``/``latest-``, which reach
one revision each) and record each version's answer: its signature. Each response to the probe is
then attributed to the version whose signature it matches.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from .errors import WorkshopError

UNATTRIBUTED = "unattributed"
FAILED = "failed"


# --------------------------------------------------------------------------------------------
# How many requests
# --------------------------------------------------------------------------------------------


def z_score(confidence: float) -> float:
    """The two-sided standard normal quantile for ``confidence`` (0.95 -> 1.96)."""
    from scipy.stats import norm

    _check_fraction("confidence", confidence)
    return float(norm.ppf(1 - (1 - confidence) / 2))


def requests_needed(share: float, tolerance: float, confidence: float = 0.95) -> int:
    """Requests needed so the observed share is within ``tolerance`` of ``share`` at ``confidence``.

    ``ceil(z**2 * share * (1 - share) / tolerance**2)``; shares and tolerance are fractions (0.2, 0.05).
    """
    _check_fraction("share", share)
    _check_fraction("tolerance", tolerance)
    z = z_score(confidence)
    return math.ceil(z**2 * share * (1 - share) / tolerance**2)


def margin_of_error(share: float, n: int, confidence: float = 0.95) -> float:
    """Half-width of the normal-approximation interval for a share observed in ``n`` requests."""
    _check_fraction("share", share, closed=True)
    if not isinstance(n, int) or n < 1:
        raise WorkshopError(f"n must be a positive number of requests, not {n!r}")
    return z_score(confidence) * math.sqrt(share * (1 - share) / n)


def _check_fraction(label: str, value: Any, *, closed: bool = False) -> None:
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (0 <= value <= 1 if closed else 0 < value < 1)
    )
    if not ok:
        raise WorkshopError(
            f"{label} must be a fraction {'in [0, 1]' if closed else 'strictly between 0 and 1'}, not {value!r}",
            hint="write 20 % as 0.2",
        )


# --------------------------------------------------------------------------------------------
# Probes and attribution
# --------------------------------------------------------------------------------------------


def candidate_inputs(n_random: int = 200, seed: int = 0) -> list[list[float]]:
    """Inputs to search for a probe: the 150 iris rows plus random points in the iris value ranges.

    Two versions that agree on all real flowers may still differ between them; the random points
    cover those regions.
    """
    import numpy as np
    from sklearn.datasets import load_iris

    features = load_iris().data
    rng = np.random.default_rng(seed)
    low, high = features.min(axis=0), features.max(axis=0)
    extra = np.round(rng.uniform(low, high, size=(n_random, features.shape[1])), 1)
    return [[float(v) for v in row] for row in np.vstack([features, extra])]


def _key(output: Any) -> Hashable:
    """A hashable, rounding-tolerant form of one answer (a class index or a probability vector)."""
    if isinstance(output, (list, tuple)):
        return tuple(_key(item) for item in output)
    if isinstance(output, float):
        return round(output, 6)
    if hasattr(output, "tolist"):
        return _key(output.tolist())
    return output


def find_probes(
    outputs_by_version: Mapping[str, Sequence[Any]], candidates: Sequence[Any], limit: int = 3
) -> list[Any]:
    """Up to ``limit`` candidate inputs on which every pair of versions answers differently.

    ``outputs_by_version`` maps a version name to its answers for ``candidates`` (same order). Raises
    a ``WorkshopError`` when no candidate separates the versions: their answers could not be told apart.
    """
    names = list(outputs_by_version)
    if len(names) < 2:
        raise WorkshopError("find_probes needs the answers of at least two versions")
    for name in names:
        if len(outputs_by_version[name]) != len(candidates):
            raise WorkshopError(
                f"version {name!r} has {len(outputs_by_version[name])} answers for {len(candidates)} candidate inputs"
            )
    probes = []
    for index, candidate in enumerate(candidates):
        answers = [_key(outputs_by_version[name][index]) for name in names]
        if len(set(answers)) == len(answers):
            probes.append(candidate)
            if len(probes) == limit:
                break
    if not probes:
        raise WorkshopError(
            f"versions {', '.join(names)} answer alike on all {len(candidates)} candidate inputs, "
            "so a response cannot tell which of them produced it",
            hint="serve versions that really differ (compare their predictions offline first)",
        )
    return probes


@dataclass
class Attributor:
    """Attributes an answer to the probe to the version whose signature (expected answer) it equals."""

    signatures: dict[str, Any]
    _lookup: dict[Hashable, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.signatures) < 2:
            raise WorkshopError("attribution needs the signatures of at least two versions")
        self._lookup = {}
        for name, signature in self.signatures.items():
            key = _key(signature)
            if key in self._lookup:
                raise WorkshopError(
                    f"versions {self._lookup[key]!r} and {name!r} answer the probe identically, "
                    "so it cannot tell them apart",
                    hint="pick a probe from find_probes()",
                )
            self._lookup[key] = name

    def attribute(self, answer: Any) -> str:
        """The version that gives ``answer``, or ``UNATTRIBUTED`` when no signature matches."""
        return self._lookup.get(_key(answer), UNATTRIBUTED)


def signatures(
    predict_by_version: Mapping[str, Callable[[list], Sequence[Any]]],
    candidates: Sequence[Any] | None = None,
    *,
    limit: int = 3,
) -> tuple[list, Attributor]:
    """Find probe inputs and build the ``Attributor``, given one predict function per version.

    Each function takes a list of inputs and returns one answer per input: a local model's
    ``lambda rows: model.predict(rows).tolist()``, or a call through a tagged route that reaches
    exactly one revision. Every function sees the same candidates, in one batch.
    """
    candidates = list(candidates) if candidates is not None else candidate_inputs()
    outputs = {name: list(predict(candidates)) for name, predict in predict_by_version.items()}
    probe = find_probes(outputs, candidates, limit=limit)
    expected = {name: list(predict(probe)) for name, predict in predict_by_version.items()}
    return probe, Attributor(expected)


def collect_attributions(
    send: Callable[[list], Any], probe: list, attributor: Attributor, n: int, *, progress: bool = True
) -> list[str]:
    """Send the probe ``n`` times; the version that answered each request (``FAILED`` on an error).

    Requests are sent one after another: the split is decided per request by the router, so their
    order and pace do not change it.
    """
    if not isinstance(n, int) or n < 1:
        raise WorkshopError(f"n must be a positive number of requests, not {n!r}")
    labels: list[str] = []
    failures: list[str] = []

    def run() -> None:
        for _ in range(n):
            try:
                labels.append(attributor.attribute(send(probe)))
            except WorkshopError as exc:
                labels.append(FAILED)
                failures.append(exc.message)

    if progress:
        from .console import step

        with step(f"sending {n} requests and attributing each answer"):
            run()
    else:
        run()
    if failures and len(failures) == n:
        raise WorkshopError(f"all {n} requests failed; the first error: {failures[0]}")
    return labels


class ClientSideSplit:
    """A LOCAL, CLIENT-SIDE illustration of a weighted split: *this object* picks a server per call.

    It exists to exercise attribution, the test and the plots without a cluster. It is not how
    KServe splits traffic: there Istio's router decides per request, and the client cannot choose.
    """

    def __init__(self, senders: Mapping[str, Callable[[list], Any]], weights: Mapping[str, float], seed: int = 0):
        if set(senders) != set(weights) or not senders:
            raise WorkshopError("senders and weights must name the same versions")
        if any(w < 0 for w in weights.values()) or not math.isclose(sum(weights.values()), 1.0):
            raise WorkshopError(f"weights must be non-negative and sum to 1, not {dict(weights)}")
        self.names = list(senders)
        self.senders = dict(senders)
        self.weights = [weights[name] for name in self.names]
        self._random = random.Random(seed)
        self.chosen: list[str] = []

    def __call__(self, rows: list) -> Any:
        name = self._random.choices(self.names, weights=self.weights)[0]
        self.chosen.append(name)
        return self.senders[name](rows)


# --------------------------------------------------------------------------------------------
# Testing the observed split
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitTest:
    """The observed split against the configured one (shares are fractions)."""

    counts: dict[str, int]
    expected: dict[str, float]
    canary: str
    n: int
    observed_share: float
    interval: tuple[float, float]
    binomial_p_value: float
    chi2_p_value: float
    alpha: float
    tolerance: float | None
    excluded: dict[str, int]

    @property
    def consistent(self) -> bool:
        """True when the data do not reject the configured split at level ``alpha``."""
        return self.binomial_p_value >= self.alpha

    @property
    def within_tolerance(self) -> bool | None:
        if self.tolerance is None:
            return None
        return abs(self.observed_share - self.expected[self.canary]) <= self.tolerance

    def summary(self) -> str:
        expected = self.expected[self.canary]
        low, high = self.interval
        lines = [
            f"{self.counts.get(self.canary, 0)} of {self.n} attributed answers came from {self.canary}: "
            f"{self.observed_share:.1%} (configured {expected:.0%}; "
            f"{1 - self.alpha:.0%} interval {low:.1%} to {high:.1%})",
            f"binomial test p = {self.binomial_p_value:.3f}, chi-square p = {self.chi2_p_value:.3f}: "
            + (
                "consistent with the configured split"
                if self.consistent
                else f"the configured split is rejected at the {self.alpha:.0%} level"
            ),
        ]
        if self.tolerance is not None:
            lines.append(
                f"within ±{self.tolerance * 100:g} percentage points of the configured share: {self.within_tolerance}"
            )
        if self.excluded:
            lines.append("not counted: " + ", ".join(f"{k}={v}" for k, v in sorted(self.excluded.items())))
        return "\n".join(lines)


def evaluate_split(
    labels: Iterable[str],
    expected: Mapping[str, float],
    canary: str,
    *,
    alpha: float = 0.05,
    tolerance: float | None = None,
) -> SplitTest:
    """Test the observed split against ``expected`` (version -> share, summing to 1).

    Two tests of the same question: an exact binomial test of the canary's count, and a chi-square
    goodness-of-fit test over all versions. ``interval`` is the Wilson interval at ``1 - alpha``.
    Answers that are ``UNATTRIBUTED`` or ``FAILED`` are reported in ``excluded``, not counted.
    """
    from scipy.stats import binomtest, chisquare

    expected = dict(expected)
    if canary not in expected:
        raise WorkshopError(f"the canary {canary!r} is not one of the expected versions {sorted(expected)}")
    if any(not 0 <= share <= 1 for share in expected.values()) or not math.isclose(sum(expected.values()), 1.0):
        raise WorkshopError(
            f"expected shares must be fractions summing to 1, not {expected}",
            hint="20 % canary: {'canary': 0.2, 'stable': 0.8}",
        )
    _check_fraction("alpha", alpha)
    tally = Counter(labels)
    excluded = {label: count for label, count in tally.items() if label not in expected}
    counts = {name: tally.get(name, 0) for name in expected}
    n = sum(counts.values())
    if n == 0:
        raise WorkshopError(
            "no answer could be attributed to any expected version",
            hint=f"not counted: {excluded}" if excluded else None,
        )
    share = expected[canary]
    k = counts[canary]
    if share in (0, 1):
        # A 0 % or 100 % route admits no other outcome: any stray answer rejects it outright.
        p_value = 1.0 if k == round(share * n) else 0.0
        ci = _wilson(k, n, 1 - alpha)
    else:
        result = binomtest(k, n, share)
        p_value = float(result.pvalue)
        interval = result.proportion_ci(confidence_level=1 - alpha, method="wilson")
        ci = (float(interval.low), float(interval.high))
    live = [name for name in expected if expected[name] > 0]
    if len(live) >= 2 and all(counts[name] == 0 for name in expected if expected[name] == 0):
        chi2 = float(chisquare([counts[name] for name in live], [expected[name] * n for name in live]).pvalue)
    else:
        chi2 = p_value
    return SplitTest(
        counts=counts,
        expected=expected,
        canary=canary,
        n=n,
        observed_share=k / n,
        interval=ci,
        binomial_p_value=p_value,
        chi2_p_value=chi2,
        alpha=alpha,
        tolerance=tolerance,
        excluded=excluded,
    )


def _wilson(k: int, n: int, confidence: float) -> tuple[float, float]:
    z = z_score(confidence)
    centre = (k + z**2 / 2) / (n + z**2)
    half = z * math.sqrt(k * (n - k) / n + z**2 / 4) / (n + z**2)
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------

#: Legends readable when a page shows the figure in a ~700 px column (10 pt at 100 dpi is ~14 px).
LEGEND_FONT_SIZE = 10
#: Two panels one above the other, at a width a page's column shows at about its own size.
STACKED_FIGSIZE = (7, 7)


def plot_split(result: SplitTest, *, title: str | None = None, ax=None):
    """Bars of the observed share per version next to the configured one (canary with its interval)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    names = list(result.expected)
    positions = range(len(names))
    observed = [result.counts[name] / result.n for name in names]
    ax.bar(
        [p - 0.2 for p in positions],
        [result.expected[name] for name in names],
        width=0.4,
        color="#bbbbbb",
        label="configured",
    )
    ax.bar([p + 0.2 for p in positions], observed, width=0.4, color="#1f77b4", label="observed")
    index = names.index(result.canary)
    low, high = result.interval
    share = observed[index]
    ax.errorbar(
        [index + 0.2],
        [share],
        yerr=[[share - low], [high - share]],
        color="black",
        capsize=6,
        label=f"{1 - result.alpha:.0%} interval",
    )
    ax.set_xticks(list(positions), [f"{name}\n{result.counts[name]} answers" for name in names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of requests")
    ax.set_title(title or f"Traffic split over {result.n} requests (p = {result.binomial_p_value:.2f})")
    ax.legend(loc="upper right", fontsize=LEGEND_FONT_SIZE)
    ax.figure.tight_layout()
    return ax.figure


def plot_running_share(
    labels: Sequence[str],
    canary: str,
    expected_share: float,
    *,
    tolerance: float | None = None,
    confidence: float = 0.95,
    ax=None,
):
    """The canary's share as requests accumulate, with the configured share and its expected spread."""
    import matplotlib.pyplot as plt
    import numpy as np

    counted = [label for label in labels if label not in (UNATTRIBUTED, FAILED)]
    if not counted:
        raise WorkshopError("no attributed answers to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    hits = np.cumsum([label == canary for label in counted])
    n = np.arange(1, len(counted) + 1)
    spread = z_score(confidence) * np.sqrt(expected_share * (1 - expected_share) / n)
    ax.fill_between(
        n,
        expected_share - spread,
        expected_share + spread,
        color="#dddddd",
        label=f"{confidence:.0%} band around the configured share",
    )
    ax.axhline(expected_share, color="#555555", linestyle="--", linewidth=1, label=f"configured {expected_share:.0%}")
    if tolerance is not None:
        ax.axhline(
            expected_share - tolerance,
            color="#d62728",
            linestyle=":",
            linewidth=1,
            label=f"±{tolerance * 100:g} points tolerance",
        )
        ax.axhline(expected_share + tolerance, color="#d62728", linestyle=":", linewidth=1)
    ax.plot(n, hits / n, color="#1f77b4", label=f"observed share of {canary}")
    ax.set_xlabel("requests sent")
    ax.set_ylabel("share")
    # The first few requests swing between 0 and 1; the interesting part is near the configured share.
    ax.set_ylim(max(0.0, expected_share - 0.3), min(1.0, expected_share + 0.3))
    ax.legend(loc="upper right", fontsize=LEGEND_FONT_SIZE)
    ax.figure.tight_layout()
    return ax.figure


def plot_split_and_share(
    result: SplitTest,
    labels: Sequence[str],
    *,
    tolerance: float | None = None,
    split_title: str | None = None,
    share_title: str | None = None,
):
    """The split's bars above the running share, in one figure narrow enough for a page's column.

    Stacked, not side by side: two panels next to each other at this size shrink their legends to
    a few pixels when a page (or a laptop's notebook column) scales the figure down.
    """
    import matplotlib.pyplot as plt

    figure, (split_ax, share_ax) = plt.subplots(2, 1, figsize=STACKED_FIGSIZE)
    plot_split(result, title=split_title, ax=split_ax)
    plot_running_share(labels, result.canary, result.expected[result.canary], tolerance=tolerance, ax=share_ax)
    if share_title:
        share_ax.set_title(share_title)
    figure.tight_layout()
    return figure
