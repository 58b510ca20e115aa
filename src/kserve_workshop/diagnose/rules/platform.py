"""Rules about the platform around a model: ingress (net-istio), runtimes, admission webhooks."""

from __future__ import annotations

import difflib
import re

from ..findings import Evidence, Finding
from ..snapshot import (
    Snapshot,
    condition_path,
    is_true,
    model_spec,
    ref,
)
from .helpers import (
    FAILURE_PATH,
    all_conditions,
    clip,
    condition_evidence,
    current_events,
    event_evidence,
    last_failure,
    pin_or_none,
)


def ingress_not_configured(snap: Snapshot) -> list[Finding]:
    """Knative's Route says IngressNotConfigured: nothing (net-istio) reconciles its Ingress."""
    hits = [
        (obj, cond)
        for obj, cond in all_conditions(snap)
        if cond.get("reason") == "IngressNotConfigured" and not is_true(cond)
    ]
    if not hits:
        return []
    evidence = [condition_evidence(obj, cond) for obj, cond in hits[:4]]
    messages = {cond.get("message") for _, cond in hits if cond.get("message")}
    evidence += [
        Evidence(ref(hits[0][0]), condition_path(hits[0][1].get("type", "?"), "message"), clip(m))
        for m in sorted(messages)[:1]
    ]
    return [
        Finding(
            "ingress-not-configured",
            "Knative's networking layer (net-istio) or the Istio ingress gateway is missing",
            "Knative created the Route for the predictor, but no networking controller has reconciled its "
            'Ingress ("Ingress has not yet been reconciled"). Usually net-istio is not installed or not '
            "running, or the Istio gateway was installed under another name than istio-ingressgateway, "
            "which is what Knative's gateway selects.",
            [
                "Check Knative is Ready: kubectl get knativeserving knative-serving -n knative-serving",
                "Check net-istio runs: kubectl get pods -n knative-serving -l app=net-istio-controller",
                "Check the gateway exists under the expected name: kubectl get svc istio-ingressgateway -n istio-system",
                f"Look at the route: kubectl get ksvc,route -n {snap.namespace}",
                "Re-run the workshop's platform install (it is idempotent) to put the missing piece back.",
            ],
            evidence,
            0.9,
        )
    ]


RUNTIME_REASONS = {"NoSupportingRuntime", "RuntimeNotRecognized", "RuntimeDisabled"}
#: The ClusterServingRuntimes KServe v0.20 ships (kserve config/runtimes/, installed by the
#: kserve-runtime-configs chart with kserve.servingruntime.enabled=true).
KSERVE_RUNTIMES = frozenset(
    {
        "kserve-autogluonserver",
        "kserve-huggingfaceserver",
        "kserve-huggingfaceserver-multinode",
        "kserve-lgbserver",
        "kserve-mlserver",
        "kserve-openvino",
        "kserve-paddleserver",
        "kserve-pmmlserver",
        "kserve-predictiveserver",
        "kserve-sklearnserver",
        "kserve-tensorflow-serving",
        "kserve-torchserve",
        "kserve-tritonserver",
        "kserve-vllmserver",
        "kserve-xgbserver",
    }
)


def _runtime_configs_install() -> str:
    """The helm command that installs KServe's runtimes, with the pinned chart when it can be read."""
    chart_repo, version = pin_or_none("kserve", "chart_repo"), pin_or_none("kserve")
    if chart_repo and version:
        return (
            "helm upgrade --install kserve-runtime-configs "
            f"{chart_repo}/kserve-runtime-configs --version {version} -n kserve "
            "--set kserve.servingruntime.enabled=true --set kserve.llmisvcConfigs.enabled=false"
        )
    return "install KServe's runtime-configs chart with --set kserve.servingruntime.enabled=true"


def no_supporting_runtime(snap: Snapshot) -> list[Finding]:
    """KServe found no ServingRuntime for the model (or the named one does not exist / is disabled)."""
    info = last_failure(snap.isvc)
    reason, message = info.get("reason", ""), info.get("message", "")
    events = [
        e
        for e in current_events(snap)
        if "no runtime found" in (e.get("message") or "").lower()
        or "servingruntimes" in (e.get("message") or "").lower()
    ]
    if reason not in RUNTIME_REASONS and not events:
        return []
    model = model_spec(snap.isvc)
    fmt = (model.get("modelFormat") or {}).get("name", "?")
    runtime = model.get("runtime")
    evidence: list[Evidence] = []
    if reason:
        evidence.append(Evidence(ref(snap.isvc), f"{FAILURE_PATH}.reason", reason))
    if message:
        evidence.append(Evidence(ref(snap.isvc), f"{FAILURE_PATH}.message", clip(message)))
    evidence.append(Evidence(ref(snap.isvc), "spec.predictor.model.modelFormat.name", fmt))
    if runtime:
        evidence.append(Evidence(ref(snap.isvc), "spec.predictor.model.runtime", runtime))
    evidence += [event_evidence(e) for e in events[-1:]]

    check = "kubectl get clusterservingruntimes; kubectl get servingruntimes -n " + snap.namespace
    install = _runtime_configs_install()
    if reason == "RuntimeNotRecognized" and runtime in KSERVE_RUNTIMES:
        title = f"KServe's runtime {runtime!r} is not installed"
        cause = (
            f"spec.predictor.model.runtime names {runtime!r}, one of the ClusterServingRuntimes KServe "
            "ships, but the cluster has no runtime of that name. KServe installs its runtimes with the "
            "kserve-runtime-configs chart only when kserve.servingruntime.enabled=true (the chart's "
            "default installs none), so the chart was most likely installed without it."
        )
        fix = [
            f"See which runtimes exist: {check}",
            f"Install KServe's runtimes: {install}",
            "(or `invoke platform.install --component kserve`, which sets it). KServe then picks the runtime "
            "up by itself; if the InferenceService stays stuck, apply it again.",
        ]
    elif reason == "RuntimeNotRecognized":
        close = difflib.get_close_matches(str(runtime), sorted(KSERVE_RUNTIMES), n=1)
        title = f"No serving runtime named {runtime!r} exists"
        cause = (
            f"spec.predictor.model.runtime names {runtime!r}, but there is no ServingRuntime in "
            f"{snap.namespace} nor ClusterServingRuntime with that name."
        )
        fix = [
            f"List the runtimes that exist: {check}",
            (f"Did you mean {close[0]!r}? " if close else "")
            + "Fix the runtime name (the workshop uses kserve-sklearnserver), or remove `runtime:` "
            "to let KServe pick one from modelFormat.",
        ]
    elif reason == "RuntimeDisabled":
        title = f"The serving runtime {runtime!r} is disabled"
        cause = "The runtime named in the spec has `disabled: true`."
        fix = [f"Enable the runtime or pick another one: {check}"]
    elif "protocol version" in message:
        protocol = model.get("protocolVersion", "?")
        title = f"The runtime does not support protocolVersion {protocol}"
        cause = f"The runtime {runtime!r} does not list protocol {protocol} in its protocolVersions."
        fix = [
            "Use a protocol the runtime supports (kserve-sklearnserver serves v1 and v2), "
            "or name a runtime that supports it."
        ]
    else:
        title = f"No serving runtime supports modelFormat {fmt!r}"
        cause = (
            f"KServe looked for a ServingRuntime or ClusterServingRuntime that supports model format "
            f"{fmt!r}" + (f" and names {runtime!r}" if runtime else "") + " and found none. Either "
            "KServe's runtimes are not installed (the runtime-configs chart installs none unless "
            "kserve.servingruntime.enabled=true) or the format name is misspelt."
        )
        fix = [
            f"See which runtimes exist: {check}",
            f"If the list is empty, install KServe's runtimes: {install}",
            "Check spec.predictor.model.modelFormat.name is a supported format "
            "(sklearn, xgboost, lightgbm, tensorflow, pytorch, onnx, ...) and any version matches.",
        ]
    return [Finding("no-supporting-runtime", title, cause, fix, evidence, 0.95 if reason else 0.8)]


def invalid_predictor_spec(snap: Snapshot) -> list[Finding]:
    info = last_failure(snap.isvc)
    if info.get("reason") not in {"InvalidPredictorSpec", "InvalidWorkerSpecNotSet", "InvalidGPUAllocation"}:
        return []
    return [
        Finding(
            "invalid-predictor-spec",
            "KServe rejected the predictor spec",
            f"KServe could not build the predictor from the spec: {info.get('message') or info.get('reason')}.",
            [
                "Fix the predictor part of the InferenceService as the message says, then apply it again.",
                f"kubectl get inferenceservice {snap.name} -n {snap.namespace} -o yaml",
            ],
            [
                Evidence(ref(snap.isvc), f"{FAILURE_PATH}.reason", info.get("reason", "")),
                Evidence(ref(snap.isvc), f"{FAILURE_PATH}.message", clip(info.get("message", ""))),
            ],
            0.85,
        )
    ]


WEBHOOK_RE = re.compile(r'failed calling webhook "([^"]+)"')


def _webhook_finding(texts: list[tuple[Evidence, str]]) -> list[Finding]:
    hits = [(ev, text, m) for ev, text in texts if (m := WEBHOOK_RE.search(text))]
    if not hits:
        return []
    evidence, text, match = hits[-1]
    webhook = match.group(1)
    if "knative" in webhook:
        owner, deployment, namespace, port = "Knative Serving", "webhook", "knative-serving", "8443"
    else:
        owner, deployment, namespace, port = "KServe", "kserve-controller-manager", "kserve", "9443"
    lowered = text.lower()
    if "x509" in lowered or "certificate" in lowered:
        why = (
            "the API server does not trust the webhook's certificate: cert-manager has not issued it "
            "(yet), or its CA bundle was not injected."
        )
        steps = [f"Check the certificate: kubectl get certificate -n {namespace}; kubectl get pods -n cert-manager"]
    elif re.search(r"deadline exceeded|i/o timeout|client\.timeout|timed out", lowered):  # not "?timeout=10s"
        why = (
            "the API server cannot reach the webhook in time. On a GKE private cluster the control "
            f"plane needs a firewall rule to the nodes on port {port}."
        )
        steps = [
            f"On GKE private clusters, allow the control plane to reach the nodes on TCP {port} "
            "(KServe 9443, Knative 8443)."
        ]
    else:
        why = (
            "the webhook's pod is not running or not ready yet (right after an install this is "
            "normal for a minute), so the API server finds nobody listening."
        )
        steps = []
    return [
        Finding(
            "webhook-not-ready",
            f"{owner}'s admission webhook is not answering",
            f"The API server must call {owner}'s webhook {webhook!r} before it admits this object, and the "
            f"call failed: {why}",
            [
                f"Wait for it: kubectl rollout status deployment/{deployment} -n {namespace} --timeout=180s",
                *steps,
                "Then retry what failed (the workshop's install steps are idempotent; a ReplicaSet retries "
                "creating pods by itself).",
            ],
            [evidence],
            0.9,
        )
    ]


def webhook_not_ready(snap: Snapshot) -> list[Finding]:
    """Pod or object creation failed because an admission webhook did not answer."""
    texts = [(event_evidence(e), e.get("message", "")) for e in current_events(snap)]
    texts += [(condition_evidence(o, c, "message"), c.get("message", "")) for o, c in all_conditions(snap)]
    info = last_failure(snap.isvc)
    if info.get("message"):
        texts.append((Evidence(ref(snap.isvc), f"{FAILURE_PATH}.message", clip(info["message"])), info["message"]))
    return _webhook_finding(texts)


def findings_from_error_text(text: str, source: str = "error") -> list[Finding]:
    """Findings for an error message outside any snapshot (e.g. ``kubectl apply`` refused by a webhook)."""
    return _webhook_finding([(Evidence(source, "message", clip(text)), text)])
