"""The smoke test of a freshly installed platform: serve the docs' iris model, call it through the
ingress like a learner would, check the answer, remove it.

1. apply an InferenceService (KServe's public sklearn iris model, small resources) and wait for
   Ready (on timeout: ``diagnose.explain_not_ready`` says why);
2. POST the docs' two iris rows to ``/v1/models/<name>:predict`` on the ingress gateway with the
   Host header taken from ``status.url``; expect the docs' answer ``[1, 1]``;
3. delete the InferenceService, whether the check passed or not.

The name is not ``sklearn-iris`` so that a learner's own sklearn-iris is never replaced or deleted.
"""

from __future__ import annotations

import time
from typing import Callable
from urllib.parse import urlparse

from .console import step, warn
from .errors import WorkshopError
from .kube import kubectl_cmd
from .plan import Plan, Runner, Step
from .platform.base import output_of, write_rendered

SMOKE_NAME = "smoke-sklearn-iris"
SMOKE_NAMESPACE = "default"
#: KServe's public example model (iris, one model.joblib).
SMOKE_STORAGE_URI = "gs://kfserving-examples/models/sklearn/1.0/model"
#: KServe's docs: the iris rows [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] give {"predictions": [1, 1]}.
EXPECTED_PREDICTIONS = [1, 1]
READY_TIMEOUT = "300s"


def smoke_isvc(name: str = SMOKE_NAME, namespace: str = SMOKE_NAMESPACE) -> dict:
    """The InferenceService of the smoke test (laptop-sized resources, KServe's sklearn server)."""
    from .isvc.manifest import build_isvc

    manifest = build_isvc(name, SMOKE_STORAGE_URI, namespace=namespace)
    manifest["metadata"].setdefault("labels", {})["app.kubernetes.io/part-of"] = "kserve-workshop"
    return manifest


def _explainer() -> Callable[..., str] | None:
    """``diagnose.explain_not_ready`` (imported late: the diagnose package may be absent)."""
    try:
        from .diagnose import explain_not_ready
    except ImportError:
        return None
    return explain_not_ready


def _explain(context: str, name: str, namespace: str) -> Callable[[Runner], str]:
    """Why the InferenceService is not Ready: diagnose.explain_not_ready, else describe + events."""

    def explain(runner: Runner) -> str:
        explain_not_ready = _explainer()
        if explain_not_ready is not None:
            try:
                return explain_not_ready(name, namespace, context=context)
            except Exception:  # noqa: BLE001 - fall back to the raw facts below
                pass
        return "\n\n".join(
            [
                output_of(runner, kubectl_cmd(context, "describe", "inferenceservice", name, "--namespace", namespace)),
                output_of(
                    runner,
                    kubectl_cmd(context, "get", "events", "--namespace", namespace, "--sort-by=.lastTimestamp"),
                    tail=20,
                ),
            ]
        )

    return explain


def deploy_plan(
    context: str, name: str = SMOKE_NAME, namespace: str = SMOKE_NAMESPACE, timeout: str = READY_TIMEOUT
) -> Plan:
    manifest = smoke_isvc(name, namespace)
    path = write_rendered(context, f"smoke-{name}.yaml", [manifest])
    return Plan(
        f"smoke test: deploy {namespace}/{name}",
        [
            Step(
                title=f"InferenceService {namespace}/{name} ({SMOKE_STORAGE_URI})",
                command=kubectl_cmd(context, "apply", "--filename", str(path)),
                waits=[
                    kubectl_cmd(
                        context,
                        "wait",
                        "--for=condition=Ready",
                        f"inferenceservice/{name}",
                        "--namespace",
                        namespace,
                        f"--timeout={timeout}",
                    )
                ],
                diagnose=_explain(context, name, namespace),
            )
        ],
    )


def cleanup_plan(context: str, name: str = SMOKE_NAME, namespace: str = SMOKE_NAMESPACE) -> Plan:
    return Plan(
        f"smoke test: delete {namespace}/{name}",
        [
            Step(
                title=f"delete InferenceService {namespace}/{name}",
                command=kubectl_cmd(
                    context,
                    "delete",
                    "inferenceservice",
                    name,
                    "--namespace",
                    namespace,
                    "--ignore-not-found",
                    "--wait=true",
                    "--timeout=120s",
                ),
            )
        ],
    )


def smoke_plan(context: str, name: str = SMOKE_NAME, namespace: str = SMOKE_NAMESPACE) -> Plan:
    """Everything the smoke test does, for ``--dry-run`` (the prediction is a step of its own)."""
    plan = deploy_plan(context, name, namespace)
    plan.add(
        Step(
            title=f"POST the docs' iris rows to /v1/models/{name}:predict through the ingress "
            f"(Host header from status.url); expect {EXPECTED_PREDICTIONS}"
        )
    )
    return plan.extend(cleanup_plan(context, name, namespace))


def check_predictions(found, expected=EXPECTED_PREDICTIONS) -> None:
    """WorkshopError unless the model answered ``expected``."""
    if found != expected:
        raise WorkshopError(
            f"smoke test: the model answered {found!r}, expected {expected!r}",
            hint="the platform serves, but not the expected model; `invoke status` "
            "and the InferenceService's logs tell more",
        )


def status_url(runner: Runner, context: str, name: str, namespace: str) -> str:
    result = runner.run(
        kubectl_cmd(
            context, "get", "inferenceservice", name, "--namespace", namespace, "--output", "jsonpath={.status.url}"
        )
    )
    url = (result.stdout or "").strip()
    if not urlparse(url).netloc:
        raise WorkshopError(
            f"InferenceService {namespace}/{name} reports no status.url ({url!r})",
            hint="it should have one once Ready: check `kubectl get isvc -A`",
        )
    return url


def predict(base_url: str, host: str, name: str, *, attempts: int = 10, delay: float = 3.0) -> list:
    """V1 prediction for the docs' iris rows through the ingress, retried while routes settle.

    Right after Ready the gateway can still answer 404/503 for a few seconds; every attempt's
    error is kept and the last one is reported.
    """
    from .ingress import IngressTarget
    from .training import DOCS_IRIS_INPUT

    target = IngressTarget(base_url=base_url, host=host, model_name=name)
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            return target.predict(DOCS_IRIS_INPUT)
        except WorkshopError as exc:
            last = exc
        if attempt < attempts:
            time.sleep(delay)
    raise WorkshopError(
        f"smoke test: no prediction from {base_url} (Host: {host}) after {attempts} tries: "
        f"{getattr(last, 'message', last)}",
        hint="404: the Host header or the route; 503: the model is not serving; "
        "connection refused: the ingress (see `invoke status`)",
    )


def run_smoke(
    runner: Runner,
    context: str,
    *,
    name: str = SMOKE_NAME,
    namespace: str = SMOKE_NAMESPACE,
    base_url: str | None = None,
    attempts: int = 10,
    delay: float = 3.0,
) -> list:
    """Deploy, predict through the ingress, check, delete. Returns the predictions.

    ``base_url``: the ingress (default: ``ingress.ingress_endpoint(context)``: http://127.0.0.1:8080
    on kind, the LoadBalancer IP on GKE). With ``runner.dry_run`` only the plan is printed.
    """
    if runner.dry_run:
        runner.execute(smoke_plan(context, name, namespace))
        return []
    try:
        runner.execute(deploy_plan(context, name, namespace))
        url = status_url(runner, context, name, namespace)
        if base_url is None:
            from .ingress import ingress_endpoint

            base_url = ingress_endpoint(context)
        with step(f"predict through {base_url} with Host {urlparse(url).netloc}"):
            found = predict(base_url, urlparse(url).netloc, name, attempts=attempts, delay=delay)
        check_predictions(found)
    except BaseException:
        # Clean up, but let the failure that happened first be the one reported.
        try:
            runner.execute(cleanup_plan(context, name, namespace))
        except Exception as cleanup_error:  # noqa: BLE001
            warn(f"could not delete {namespace}/{name}: {cleanup_error}")
        raise
    runner.execute(cleanup_plan(context, name, namespace))
    return found
