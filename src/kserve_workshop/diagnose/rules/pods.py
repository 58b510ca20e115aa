"""Rules about the predictor's pods: scheduling, images, crashes."""

from __future__ import annotations

import re

from ..findings import Evidence, Finding
from ..snapshot import (
    STORAGE_INITIALIZER,
    Snapshot,
    all_statuses,
    condition,
    condition_path,
    container_spec,
    is_false,
    name_of,
    ref,
)
from .helpers import (
    all_conditions,
    clip,
    condition_evidence,
    current_events,
    event_evidence,
    failing_termination,
    find_line,
    last_lines,
    log_evidence,
    pin_or_none,
    tail_evidence,
)


# Small, kind-friendly resources (what KServe's own e2e tests give a model; the default is 1 CPU / 2Gi).
SMALL_RESOURCES = "requests: {cpu: 50m, memory: 128Mi}, limits: {cpu: 100m, memory: 256Mi}"
EXEC_FORMAT_RE = re.compile(r"exec format error")


# The scheduler's "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory." names the
# resource (cpu, memory, nvidia.com/gpu); the sentence's own full stop is not part of it.
INSUFFICIENT_RE = re.compile(r"Insufficient ([\w/-]+(?:\.[\w/-]+)*)")


def pods_unschedulable(snap: Snapshot) -> list[Finding]:
    """Pods stay Pending because the scheduler finds no node (usually not enough CPU or memory)."""
    evidence: list[Evidence] = []
    messages: list[str] = []
    for pod in snap.pods:
        cond = next(
            (
                c
                for c in (pod.get("status") or {}).get("conditions") or []
                if c.get("type") == "PodScheduled" and c.get("status") == "False"
            ),
            None,
        )
        if cond:
            evidence.append(Evidence(ref(pod), condition_path("PodScheduled"), cond.get("reason", "")))
            evidence.append(
                Evidence(ref(pod), condition_path("PodScheduled", "message"), clip(cond.get("message", "")))
            )
            messages.append(cond.get("message", ""))
    for event in current_events(snap):
        if event.get("reason") == "FailedScheduling":
            evidence.append(event_evidence(event))
            messages.append(event.get("message", ""))
    for rev in snap.revisions:
        cond = condition(rev, "ResourcesAvailable")
        if is_false(cond) and cond.get("reason") == "Unschedulable":
            evidence.append(condition_evidence(rev, cond))
            messages.append(cond.get("message", ""))
    if not messages:
        return []
    short = sorted({m.lower() for m in INSUFFICIENT_RE.findall(" ".join(messages))})
    evidence = evidence[:5]
    if short:
        requests = []
        for pod in snap.pods[:1]:
            for container in (pod.get("spec") or {}).get("containers") or []:
                res = (container.get("resources") or {}).get("requests") or {}
                if res:
                    requests.append(f"{container.get('name')}: " + ", ".join(f"{k}={v}" for k, v in res.items()))
                    evidence.append(
                        Evidence(
                            ref(pod),
                            f"spec.containers[name={container.get('name')}].resources.requests",
                            ", ".join(f"{k}={v}" for k, v in res.items()),
                        )
                    )
        return [
            Finding(
                "pods-unschedulable",
                f"Pods are Pending: not enough {' and '.join(short)} on the nodes",
                "The scheduler found no node with enough free " + " and ".join(short) + " for the predictor "
                "pod's requests. KServe's default for a model is 1 CPU and 2Gi, and a canary doubles the pods; "
                "a kind node on a laptop runs out quickly."
                + (" Requests now: " + "; ".join(requests) if requests else ""),
                [
                    f"Give the model small resources in spec.predictor.model.resources ({SMALL_RESOURCES}).",
                    "Or free capacity: delete InferenceServices you no longer need, or add nodes.",
                    "See what is allocated: kubectl describe nodes | grep -A 8 'Allocated resources'",
                ],
                evidence,
                0.9,
            )
        ]
    return [
        Finding(
            "pods-unschedulable",
            "Pods are Pending: no node accepts them",
            "The scheduler found no node the predictor pod may run on: " + clip(messages[0], 200),
            [
                "Read the scheduler's reason above (taints, node selectors/affinity, volumes) and adjust the "
                "predictor's nodeSelector / tolerations or the nodes."
            ],
            evidence,
            0.8,
        )
    ]


PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
IMAGE_IN_MESSAGE_RE = re.compile(r'(?:image|fetch image) "([^"]+)"')


def image_tag_resolution(snap: Snapshot) -> list[Finding]:
    """Knative resolves image tags to digests before creating pods; offline or private registries fail."""
    hits = [
        (obj, cond)
        for obj, cond in all_conditions(snap)
        if "failed to resolve image to digest" in (cond.get("message") or "")
    ]
    events = [e for e in current_events(snap) if "failed to resolve image to digest" in (e.get("message") or "")]
    if not hits and not events:
        return []
    hits.sort(key=lambda hit: hit[0].get("kind") != "Revision")  # the revision's own condition first
    evidence = [
        ev for obj, cond in hits[:2] for ev in (condition_evidence(obj, cond), condition_evidence(obj, cond, "message"))
    ]
    evidence += [event_evidence(e) for e in events[-1:]]
    text = " ".join(c.get("message", "") for _, c in hits) + " ".join(e.get("message", "") for e in events)
    image = (IMAGE_IN_MESSAGE_RE.search(text) or [None, "the image"])[1]
    return [
        Finding(
            "image-tag-resolution",
            f"Knative cannot resolve the tag of {image} to a digest",
            "Before creating pods, Knative's controller asks the registry for the digest of every image tag. "
            "That request failed (no internet from the cluster, a local registry, or missing credentials), "
            "so the revision never gets pods.",
            [
                "Tell Knative to skip tag resolution for that registry: in the KnativeServing object set "
                "spec.config.deployment.registries-skipping-tag-resolving (the workshop sets "
                '"nvcr.io,index.docker.io" plus kind.local,ko.local,dev.local for preloaded images).',
                "Or let the cluster reach the registry, or refer to the image by digest (image@sha256:...).",
                "Knative retries the revision; if it stays failed, delete and apply the InferenceService again.",
            ],
            evidence,
            0.9,
        )
    ]


def image_pull_failed(snap: Snapshot) -> list[Finding]:
    """The kubelet cannot pull a container image (wrong name/tag, no access, not preloaded)."""
    evidence, images = [], []
    for pod in snap.pods:
        for path, status in all_statuses(pod):
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in PULL_REASONS:
                evidence.append(Evidence(ref(pod), f"{path}.state.waiting.reason", waiting["reason"]))
                if waiting.get("message"):
                    evidence.append(Evidence(ref(pod), f"{path}.state.waiting.message", clip(waiting["message"])))
                images.append(status.get("image") or "")
    for event in current_events(snap):
        if event.get("reason") == "Failed" and "Failed to pull image" in (event.get("message") or ""):
            evidence.append(event_evidence(event))
            match = IMAGE_IN_MESSAGE_RE.search(event.get("message", ""))
            images.append(match.group(1) if match else "")
    if not evidence:
        return []
    image = next((i for i in images if i), "the image")
    text = " ".join(e.value for e in evidence)
    not_found = re.search(r"(?i)not found|manifest unknown|does not exist", text)
    denied = re.search(r"(?i)unauthorized|denied|authentication required|forbidden", text)
    cause = (
        "The registry says this image or tag does not exist."
        if not_found
        else "The registry refused the pull: it needs credentials."
        if denied
        else "The node could not download the image (no network to the registry, or a wrong name)."
    )
    return [
        Finding(
            "image-pull-failed",
            f"The node cannot pull the image {image}",
            cause,
            [
                "Check the image name and tag (for KServe's runtimes, the ServingRuntime's image and the "
                "InferenceService's runtimeVersion).",
                "On kind, preload images instead of pulling: kind load docker-image IMAGE --name kserve-workshop "
                "(and use imagePullPolicy IfNotPresent).",
                "For a private registry, add imagePullSecrets to the predictor.",
            ],
            evidence[:5],
            0.9,
        )
    ]


def container_crashing(snap: Snapshot) -> list[Finding]:
    """A container is OOMKilled or in CrashLoopBackOff; show why and the last log lines."""
    for pod in snap.pods:
        for path, status in all_statuses(pod):
            container = status.get("name", "?")
            if container == STORAGE_INITIALIZER:
                continue  # storage_initializer_failed explains it with the download's error
            failed = failing_termination(pod, container)
            if not failed:
                continue
            field, term = failed
            state = status.get("state") or {}
            oom = "OOMKilled" in {
                (status.get("lastState") or {}).get("terminated", {}).get("reason"),
                (state.get("terminated") or {}).get("reason"),
            }
            evidence = [Evidence(ref(pod), f"{field}.reason", term.get("reason", "?"))]
            if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff" and "waiting" not in field:
                evidence.append(Evidence(ref(pod), f"{path}.state.waiting.reason", "CrashLoopBackOff"))
            evidence.append(Evidence(ref(pod), f"{path}.restartCount", str(status.get("restartCount", 0))))
            log = snap.log(name_of(pod), container)
            tail = last_lines(log[1]) if log else []
            if oom:
                limit = (((container_spec(pod, container) or {}).get("resources") or {}).get("limits") or {}).get(
                    "memory"
                )
                if limit:
                    evidence.append(
                        Evidence(ref(pod), f"spec.containers[name={container}].resources.limits.memory", limit)
                    )
                return [
                    Finding(
                        "container-oom-killed",
                        f"{container} is killed for using more memory than its limit"
                        + (f" ({limit})" if limit else ""),
                        f"The kernel killed {container} (OOMKilled, exit code 137) because it used more memory "
                        "than resources.limits.memory allows; Kubernetes restarts it and it gets killed again.",
                        [
                            "Raise spec.predictor.model.resources.limits.memory (and the request with it), "
                            "e.g. double it, or serve a smaller model.",
                            "Check the node has that much memory free (kubectl describe nodes).",
                        ],
                        evidence,
                        0.9,
                    )
                ]
            if log:
                evidence += tail_evidence(log[0], log[1], 3)
            return [
                Finding(
                    "container-crashing",
                    f"{container} keeps crashing (exit code {term.get('exitCode', '?')})",
                    f"{container} exits and Kubernetes restarts it (CrashLoopBackOff). "
                    + (
                        "Its last log lines: " + " | ".join(clip(line, 160) for line in tail[-4:])
                        if tail
                        else "No log was available."
                    ),
                    [
                        f"Read the crashed run's log: kubectl logs {name_of(pod)} -n {snap.namespace} -c {container} --previous",
                        "The error at the end of that log names the problem (model file, arguments, imports).",
                    ],
                    evidence,
                    0.6,
                )
            ]
    return []


def wrong_architecture(snap: Snapshot) -> list[Finding]:
    """An image built for another CPU architecture fails with 'exec format error' (arm64 laptops)."""
    for pod in snap.pods:
        for _, status in all_statuses(pod):
            log = snap.log(name_of(pod), status.get("name", ""))
            hit = find_line(log[1], EXEC_FORMAT_RE) if log else None
            if hit:
                return [
                    Finding(
                        "wrong-architecture",
                        f"The image of {status.get('name')} is built for another CPU architecture",
                        "The container's binary cannot run on this node's CPU (typically an amd64-only image on "
                        "an arm64 / Apple Silicon machine). KServe's own images are multi-arch from v0.16; "
                        "MLServer (chosen by protocolVersion v2 without a runtime) has no arm64 image.",
                        [
                            "Use KServe's multi-arch images (the workshop pins "
                            + (pin_or_none("kserve") or "a release that has them")
                            + ").",
                            "For V2 set runtime: kserve-sklearnserver instead of relying on MLServer.",
                        ],
                        [
                            log_evidence(log[0], hit[0], hit[1]),
                            Evidence(
                                ref(pod),
                                f"status.containerStatuses[name={status.get('name')}].image",
                                status.get("image", "?"),
                            ),
                        ],
                        0.9,
                    )
                ]
    return []
