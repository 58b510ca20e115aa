"""Waiting for an InferenceService to be Ready, bounded, and saying why when it is not."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from ..console import step
from ..errors import WorkshopError
from ..namespace import workshop_namespace
from .api import ApiUnavailable, get_isvc
from .rollout import rolled_out, rollout_state
from .status import describe_conditions


def wait_ready(
    name: str,
    namespace: str | None = None,
    *,
    expected_generation: int | None = None,
    timeout: float = 300,
    context: str | None = None,
    api=None,
    get: Callable[[str, str], Mapping] | None = None,
    explain: Callable[[str, str], str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_interval: float = 10.0,
    settle: float = 15.0,
) -> dict:
    """Poll until Ready (for the change that produced ``expected_generation``, when given), with
    backoff and a bound.

    Ready means Ready=True and every component's latest created revision ready; for a change,
    also that KServe has acted on it (``rollout.rolled_out``): ``status.observedGeneration``
    reached ``expected_generation`` (it is the predictor's Knative Service's, not the
    InferenceService's own), or the rollout state (revisions, traffic, observedGeneration) moved
    since the first poll. With a transformer, whose Knative Service a predictor-only change leaves
    alone, a change that moves nothing visible is accepted once the state stood still ``settle`` s.

    Polls start 1 s apart and back off to ``max_interval``. API hiccups (5xx, connection resets) are
    retried; a missing object or a denied request fails at once. On timeout the ``WorkshopError``
    carries ``diagnose.explain_not_ready`` (conditions, events, pod states), or the raw conditions
    when that is unavailable. ``get``/``explain``/``sleep``/``clock`` are injectable for tests.
    """
    namespace = workshop_namespace(namespace)
    from tenacity import RetryError, Retrying, retry_if_result, wait_exponential

    fetch = get or (lambda n, ns: get_isvc(n, ns, context=context, api=api))
    seen: dict[str, Any] = {}

    def attempt() -> Mapping | None:
        try:
            isvc = fetch(name, namespace)
        except ApiUnavailable as exc:
            seen["error"] = exc
            return None
        seen["isvc"] = isvc
        state = rollout_state(isvc)
        if seen.setdefault("first_state", state) != state:
            seen["moved"] = True
        done = rolled_out(isvc, expected_generation, moved=seen.get("moved", False), settled=clock() - start >= settle)
        return isvc if done else None

    start = clock()
    backoff = wait_exponential(multiplier=1, min=1, max=max_interval)
    retrying = Retrying(
        stop=lambda _state: clock() - start >= timeout,
        # never sleep past the deadline: the last poll happens at the bound
        wait=lambda state: min(backoff(state), max(0.0, timeout - (clock() - start))),
        retry=retry_if_result(lambda result: result is None),
        sleep=sleep,
    )
    target = f" (generation {expected_generation})" if expected_generation is not None else ""
    try:
        with step(f"waiting for InferenceService {namespace}/{name} to be Ready{target}, up to {timeout:.0f}s"):
            return dict(retrying(attempt))
    except RetryError:
        pass
    raise WorkshopError(
        _not_ready_message(name, namespace, timeout, expected_generation, seen, explain, context),
        hint=f"kubectl describe isvc {name} -n {namespace}; fix the cause, then wait again",
    )


def _not_ready_message(name, namespace, timeout, expected_generation, seen, explain, context) -> str:
    lines = [f"InferenceService {namespace}/{name} is not Ready after {timeout:.0f}s."]
    isvc = seen.get("isvc")
    if isvc is not None and expected_generation is not None:
        observed = (isvc.get("status") or {}).get("observedGeneration")
        lines.append(f"Waiting for generation {expected_generation}; the controller has observed {observed}.")
    if isvc is None and "error" in seen:
        lines.append(f"The API server never answered: {seen['error'].message}")
    lines.append("")
    lines.append(_explanation(name, namespace, isvc, explain, context))
    return "\n".join(lines)


def _explanation(name, namespace, isvc, explain, context) -> str:
    try:
        if explain is None:
            from ..diagnose import explain_not_ready
            from ..kube import lab_context

            # The cluster the wait looked at, not whatever context is current.
            return explain_not_ready(name, namespace, context=lab_context(context))
        return explain(name, namespace)
    except Exception:  # noqa: BLE001 - the explanation is best effort; the raw conditions are the fallback
        conditions = describe_conditions(isvc) if isvc is not None else "  (no object was read)"
        return "Status conditions:\n" + conditions
