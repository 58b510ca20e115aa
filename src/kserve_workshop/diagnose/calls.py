"""Why did a call to a model fail? Diagnose one HTTP call from its status, body and Host header.

This is about calls, not state: the InferenceService can be Ready and calls still fail because
the Host header is not the one in ``status.url`` (Istio answers 404 with an empty body), the path
names another model ("Model with name X does not exist"), or the body is not JSON.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .findings import CALL_EXPLAINED, CALL_UNKNOWN, Diagnosis, Evidence, Finding, rank

MODEL_NOT_FOUND_RE = re.compile(r"Model with name (\S+?) does not exist")
# KServe's sklearn runtime wraps every error of predict() in InferenceError, answered with HTTP 500
# (kserve python/sklearnserver/sklearnserver/model.py, kserve/errors.py inference_error_handler), so a
# payload it cannot predict on is a 500 whose body is scikit-learn's or numpy's message.
FEATURE_COUNT_RE = re.compile(r"X has (\d+) features?, but (\w+) is expecting (\d+) features? as input")
PAYLOAD_ERROR_RE = re.compile(
    r"X has \d+ features?, but \w+ is expecting|cannot reshape array|"
    r"could not convert string to float|Input (?:X )?contains (?:NaN|infinity)|"
    r"setting an array element with a sequence|Expected 2D array"
)
MODEL_NOT_READY_RE = re.compile(r"Model with name (\S+?) is not ready")
PATH_MODEL_RE = re.compile(r"^/v1/models/([^/:]+)(?::(predict|explain))?$|^/v2/models/([^/]+)/(?:infer|ready)$")
PORT_FORWARD = "kubectl port-forward -n istio-system svc/istio-ingressgateway 8080:80"


def expected_host(status_url: str | None) -> str | None:
    """The Host header a call must carry: the host of the InferenceService's status.url."""
    if not status_url:
        return None
    return urlsplit(status_url if "//" in status_url else f"//{status_url}").hostname or None


def _hostname(host: str | None) -> str | None:
    return urlsplit(f"//{host}").hostname if host else None


def _model_in_path(path: str | None) -> str | None:
    match = PATH_MODEL_RE.match(path or "")
    return (match.group(1) or match.group(3)) if match else None


def diagnose_call(
    status_code: int | None,
    body: str = "",
    *,
    host: str | None = None,
    status_url: str | None = None,
    path: str | None = None,
    model_name: str | None = None,
    server: str | None = None,
    content_type: str | None = None,
    error: str | None = None,
) -> Diagnosis:
    """Explain a failed call: ``status_code`` None means no HTTP answer at all (``error`` says why).

    ``host`` is the Host header sent, ``status_url`` the InferenceService's status.url,
    ``model_name`` the InferenceService's name (the model name the server uses).
    """
    body = body or ""
    wanted = expected_host(status_url)
    response = Evidence("HTTP response", "status", str(status_code) if status_code is not None else "none")
    sent_host = Evidence("request", "Host header", host or "(not set)")
    url_evidence = Evidence("InferenceService", "status.url", status_url or "(not set)")
    body_evidence = Evidence("HTTP response", "body", body.strip()[:200] or "(empty)")
    findings: list[Finding] = []

    if status_code is None:
        findings.append(
            Finding(
                "call-no-answer",
                "Nothing answered at the ingress address",
                f"The call got no HTTP answer ({error or 'connection failed'}): nothing listens there. On kind "
                "the ingress is http://127.0.0.1:8080 through the cluster's port mapping or a port-forward.",
                [
                    f"Start a port-forward to the gateway Service (not a pod): {PORT_FORWARD}",
                    "Or check the kind cluster runs and maps port 8080 (docker ps).",
                ],
                [response, Evidence("client", "error", error or "connection failed")],
                0.8,
            )
        )
    elif status_code == 404:
        missing = MODEL_NOT_FOUND_RE.search(body)
        in_path = _model_in_path(path)
        if missing:
            asked = missing.group(1)
            if model_name and asked != model_name:
                findings.append(
                    Finding(
                        "call-wrong-model-name",
                        f"The URL asks for model {asked!r}, the model is called {model_name!r}",
                        "The request reached the model server, which serves the model under the "
                        "InferenceService's name; the path names another one.",
                        [f"Call /v1/models/{model_name}:predict (V1) or /v2/models/{model_name}/infer (V2)."],
                        [
                            response,
                            body_evidence,
                            Evidence("request", "path", path or "?"),
                            Evidence("InferenceService", "metadata.name", model_name),
                        ],
                        0.9,
                    )
                )
            else:
                findings.append(
                    Finding(
                        "call-model-not-loaded",
                        f"The model server has no model {asked!r} loaded",
                        "The request reached the right model server, but it runs without the model: the model "
                        "directory had no loadable model file when it started.",
                        [f"Run `invoke diagnose {model_name or asked}` to see why the model was not loaded."],
                        [response, body_evidence],
                        0.8,
                    )
                )
        elif not host:
            findings.append(
                Finding(
                    "call-no-host",
                    "The call has no Host header for the gateway to route on",
                    "The Istio gateway routes by Host header; without the InferenceService's host it has no "
                    "route and answers 404.",
                    [f"Send the header Host: {wanted or '<host of status.url>'}"],
                    [response, sent_host, url_evidence],
                    0.9,
                )
            )
        elif wanted and _hostname(host) != wanted:
            findings.append(
                Finding(
                    "call-wrong-host",
                    f"Wrong Host header: sent {host!r}, the InferenceService answers to {wanted!r}",
                    "The Istio gateway routes by Host header and knows no route for the host sent, so it answers "
                    "404 itself (empty body, server: istio-envoy) before any model server sees the call.",
                    [
                        f"Take the host from status.url: Host: {wanted}",
                        "In Python: kserve_workshop.ingress.ingress_endpoint() and predict_via_ingress() do this for you.",
                    ],
                    [response, sent_host, url_evidence, body_evidence]
                    + ([Evidence("HTTP response", "server header", server)] if server else []),
                    0.95,
                )
            )
        elif not wanted:
            findings.append(
                Finding(
                    "call-no-status-url",
                    "The InferenceService has no URL yet",
                    "status.url is empty, so there is no host to route to: the InferenceService is not Ready.",
                    [f"Run `invoke diagnose {model_name or 'NAME'}` to see why it is not Ready."],
                    [response, url_evidence],
                    0.6,
                )
            )
        elif path and not in_path:
            findings.append(
                Finding(
                    "call-wrong-path",
                    f"The path {path!r} is not a model server route",
                    "The Host is right, but KServe's model server only serves /v1/models/<name>:predict, "
                    "/v2/models/<name>/infer and the health routes.",
                    [f"Call /v1/models/{model_name or '<name>'}:predict or /v2/models/{model_name or '<name>'}/infer."],
                    [response, Evidence("request", "path", path)],
                    0.7,
                )
            )
        else:
            findings.append(
                Finding(
                    "call-gateway-no-route",
                    "The gateway has no route although the Host is right",
                    "The Host matches status.url, so the call probably did not reach the Istio gateway: a "
                    "port-forward to a pod (instead of the gateway Service) or to another Service answers 404.",
                    [f"Port-forward the gateway Service: {PORT_FORWARD}"],
                    [response, sent_host, url_evidence],
                    0.5,
                )
            )
    elif status_code == 503:
        if MODEL_NOT_READY_RE.search(body):
            findings.append(
                Finding(
                    "call-model-not-ready",
                    "The model is still loading",
                    "The model server answers but has not finished loading the model.",
                    ["Wait until the InferenceService is Ready (kserve_workshop.isvc.wait_ready)."],
                    [response, body_evidence],
                    0.7,
                )
            )
        else:
            findings.append(
                Finding(
                    "call-no-ready-pod",
                    "No ready predictor pod behind the route",
                    'The gateway found the route but no pod to send the call to ("no healthy upstream"): the '
                    "predictor is not Ready, crashing, or scaling up from zero and failing.",
                    [f"Run `invoke diagnose {model_name or 'NAME'}`."],
                    [response, body_evidence],
                    0.7 if "no healthy upstream" in body else 0.5,
                )
            )
    elif status_code == 500 and FEATURE_COUNT_RE.search(body):
        sent, estimator, wanted = FEATURE_COUNT_RE.search(body).groups()
        findings.append(
            Finding(
                "call-bad-payload",
                f"The rows have {sent} features, the model expects {wanted}",
                f"The model ({estimator}) was trained on {wanted} features and each row sent has {sent}. KServe's "
                "sklearn runtime turns every error of predict into HTTP 500, so this mistake in the request "
                "looks like a server error.",
                [
                    f"Send rows of {wanted} numbers, in the order the model was trained on: "
                    '{"instances": [[6.8, 2.8, 4.8, 1.4]]} for iris (V1).'
                ],
                [response, body_evidence],
                0.9,
            )
        )
    elif status_code == 500 and "Expected 2D array" in body and (not content_type or "json" not in content_type):
        findings.append(
            Finding(
                "call-not-json",
                "The body was not sent as JSON",
                "Sent as a form (curl -d without a Content-Type, which means application/x-www-form-urlencoded), "
                "the V1 body reaches the model as something that is not a 2D array.",
                ["Send Content-Type: application/json (curl -H 'Content-Type: application/json' -d @input.json)."],
                [response, body_evidence, Evidence("request", "Content-Type", content_type or "(not set)")],
                0.85,
            )
        )
    elif status_code in (400, 422) or (status_code == 500 and PAYLOAD_ERROR_RE.search(body)):
        findings.append(
            Finding(
                "call-bad-payload",
                "The model server rejected the payload",
                "The body does not have the shape or values the model expects"
                + (
                    " (KServe's sklearn runtime answers such a request with HTTP 500, not 400)."
                    if status_code == 500
                    else "."
                ),
                [
                    'V1: {"instances": [[6.8, 2.8, 4.8, 1.4]]}; V2: {"inputs": [{"name": "input-0", '
                    '"shape": [1, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4]}]}'
                ],
                [response, body_evidence],
                0.6,
            )
        )

    subject = f"Call{f' to {path}' if path else ''} with Host {host or '(none)'}"
    if not findings:
        return Diagnosis(
            subject,
            CALL_UNKNOWN,
            f"No known cause matches HTTP {status_code}: read the body below.",
            [],
            pod_states=[f"body: {body.strip()[:500] or '(empty)'}"],
        )
    ranked = rank(findings)
    return Diagnosis(subject, CALL_EXPLAINED, f"The call failed. Most likely: {ranked[0].title}.", ranked)
