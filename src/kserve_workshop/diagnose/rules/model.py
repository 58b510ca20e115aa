"""Rules about the model itself: downloading it (storage initializer) and loading it (sklearn runtime)."""

from __future__ import annotations

import re

from ..findings import Evidence, Finding
from ..snapshot import (
    MODEL_CONTAINER,
    STORAGE_INITIALIZER,
    Snapshot,
    container_spec,
    name_of,
    ref,
    storage_uri,
)
from .helpers import (
    ABSENT,
    FAILURE_PATH,
    clip,
    failing_termination,
    find_line,
    isvc_ready,
    last_failure,
    last_lines,
    log_evidence,
    model_server_logs,
    pin_or_none,
    tail_evidence,
)


# (pattern, title, cause, fix) for the storage initializer's error text, most specific first.
STORAGE_FAILURES: list[tuple[str, str, str, list[str]]] = [
    (
        r"No model found in",
        "The storageUri points to a location with no files",
        "The storage initializer reached the storage but found nothing under the path in storageUri, "
        "so there is no model to copy into /mnt/models.",
        [
            "List what is really there (gsutil ls / aws s3 ls / az storage blob list) and fix the path in "
            "spec.predictor.model.storageUri: it must be the directory (or file) holding the model file."
        ],
    ),
    (
        r"(?i)authentication failed|access denied|accessdenied|forbidden|\b403\b|credential|"
        r"InvalidAccessKeyId|SignatureDoesNotMatch",
        "The storage initializer was denied access to the model storage",
        "The storage answered, but refused the storage initializer: the pod has no credentials for it, "
        "or the credentials it has do not allow reading that bucket.",
        [
            "Make the bucket readable for the pod: attach a service account with storage credentials "
            "(spec.predictor.serviceAccountName) or use a public location.",
            "For S3-compatible storage without credentials, KServe supports anonymous access (awsAnonymousCredential).",
        ],
    ),
    (
        r"(?i)resource '[^']*' not found|resource not found|NoSuchBucket|does not exist|\b404\b",
        "The bucket or storage location in storageUri does not exist",
        "The storage initializer was told that the bucket (or container, repository) named in "
        "storageUri does not exist.",
        ["Check the bucket name and the scheme in spec.predictor.model.storageUri (gs://, s3://, ...)."],
    ),
    (
        r"Cannot recognize storage type",
        "storageUri uses a scheme the storage initializer does not know",
        "The storage initializer only understands gs://, s3://, file://, http(s)://, hf://, pvc:// and "
        "a few more; the URI given matches none of them.",
        ["Fix the scheme of spec.predictor.model.storageUri."],
    ),
    (
        r"(?i)failed to connect|timed out|timeout|name or service not known|temporary failure in name resolution",
        "The storage initializer cannot reach the model storage",
        "Downloading the model failed on the network: the cluster cannot reach the storage endpoint "
        "(no egress, DNS, proxy or a wrong endpoint URL).",
        ["Check the cluster can reach the storage endpoint (egress, proxy settings, S3 endpoint URL)."],
    ),
]


def storage_initializer_failed(snap: Snapshot) -> list[Finding]:
    """The storage-initializer init container exited with an error (it downloads the model)."""
    for pod in snap.pods:
        failed = failing_termination(pod, STORAGE_INITIALIZER)
        if not failed:
            continue
        path, terminated = failed
        evidence = [Evidence(ref(pod), f"{path}.reason", terminated.get("reason", "?"))]
        if "exitCode" in terminated:
            evidence.append(Evidence(ref(pod), f"{path}.exitCode", str(terminated["exitCode"])))
        log = snap.log(name_of(pod), STORAGE_INITIALIZER)
        texts = [(None, terminated.get("message") or ""), (log[0] if log else None, log[1] if log else "")]
        uri = storage_uri(snap.isvc) or "?"
        info = last_failure(snap.isvc)
        if info.get("reason") == "ModelLoadFailed":
            evidence.append(Evidence(ref(snap.isvc), f"{FAILURE_PATH}.reason", "ModelLoadFailed"))
        for pattern, title, cause, fix in STORAGE_FAILURES:
            for key, text in texts:
                hit = find_line(text, pattern)
                if hit:
                    lineno, line, _ = hit
                    evidence.append(
                        log_evidence(key, lineno, line) if key else Evidence(ref(pod), f"{path}.message", clip(line))
                    )
                    evidence.append(Evidence(ref(snap.isvc), "spec.predictor.model.storageUri", uri))
                    return [
                        Finding(
                            "storage-initializer-failed",
                            title,
                            cause,
                            fix + [f"Then recreate the pods: kubectl delete pod {name_of(pod)} -n {snap.namespace}"],
                            evidence,
                            0.9,
                        )
                    ]
        tail = last_lines(log[1] if log else terminated.get("message") or "", 4)
        if log:
            evidence += tail_evidence(log[0], log[1], 2)
        return [
            Finding(
                "storage-initializer-failed",
                "The storage initializer failed to download the model",
                f"The init container that copies the model from {uri} into /mnt/models exited with an error. "
                + (
                    "Its last lines: " + " | ".join(clip(line, 160) for line in tail) if tail else "It left no message."
                ),
                [
                    f"Read its log: kubectl logs {name_of(pod)} -n {snap.namespace} -c {STORAGE_INITIALIZER}",
                    "Check spec.predictor.model.storageUri and the pod's access to that storage.",
                ],
                evidence,
                0.8,
            )
        ]
    return []


VERSION_RE = re.compile(
    r"Trying to unpickle estimator (\w+) from version ([0-9][\w.]*) when using version ([0-9][\w.]*)"
)
# scikit-learn's own errors when a tree's pickled arrays have another version's layout.
SKLEARN_FORMAT_RE = re.compile(
    r"from the pickle has an incompatible dtype|Wrong dimensions for node array from the pickle"
)
UNPICKLE_RE = re.compile(
    r"UnpicklingError|ModuleNotFoundError: No module named|AttributeError: Can't get attribute|"
    r"invalid load key|EOFError|KeyError: \d+"
)
MANY_FILES_RE = re.compile(r"More than one model file is detected")
MODEL_MISSING_RE = re.compile(r"failed to locate model file for model (\S+) under dir (\S+?),")
MNT_MODELS_RE = re.compile(r"No such file or directory: '/mnt/models'|/mnt/models does not exist")


def _model_load_failed(snap: Snapshot, pod: dict) -> list[Evidence]:
    """Evidence that the model server failed (crash, or KServe's ModelLoadFailed), empty if it did not."""
    evidence = []
    failed = failing_termination(pod, MODEL_CONTAINER)
    if failed:
        evidence.append(Evidence(ref(pod), f"{failed[0]}.reason", failed[1].get("reason", "?")))
    info = last_failure(snap.isvc)
    if info.get("reason") == "ModelLoadFailed" and not failing_termination(pod, STORAGE_INITIALIZER):
        evidence.append(Evidence(ref(snap.isvc), f"{FAILURE_PATH}.reason", "ModelLoadFailed"))
    return evidence


def sklearn_version_mismatch(snap: Snapshot) -> list[Finding]:
    """A model pickled by another scikit-learn: a warning when it loads, a tree-format error when not."""
    for pod, key, text in model_server_logs(snap):
        warning, fmt_error = find_line(text, VERSION_RE), find_line(text, SKLEARN_FORMAT_RE)
        if not warning and not fmt_error:
            continue
        failed = _model_load_failed(snap, pod)
        error = fmt_error or find_line(text, UNPICKLE_RE)
        evidence = [log_evidence(key, hit[0], hit[1]) for hit in (warning, error) if hit] + failed
        wanted = pin_or_none("python", "scikit_learn")
        if warning:
            estimator, saved, running = warning[2].groups()
            title = f"The model was saved with scikit-learn {saved}, the runtime has {running}"
            cause = (
                f"The {estimator} in the model file was pickled by scikit-learn {saved}, but KServe's "
                f"sklearn runtime runs scikit-learn {running}. "
            )
        else:
            running = wanted or "the runtime's version"
            title = "The model was saved with another scikit-learn version than the runtime's"
            cause = (
                "scikit-learn could not read the model's internal arrays (\"from the pickle has an "
                'incompatible dtype"): their layout differs between scikit-learn versions, so the file '
                f"was written by another version than the runtime's ({running}). "
            )
        wanted = wanted or running
        return [
            Finding(
                "sklearn-version-mismatch",
                title,
                cause
                + (
                    "Loading it failed, so the model server exits and the pod restarts."
                    if failed or error
                    else "It loaded this time, but pickles are not portable across versions: predictions may be wrong."
                ),
                [
                    f"Re-train and save the model with scikit-learn=={wanted} (pip install scikit-learn=={wanted}; "
                    "the workshop's `kserve_workshop.training.save_model` does this), upload it again,",
                    f"then restart the predictor: kubectl delete pod -n {snap.namespace} -l serving.kserve.io/inferenceservice={snap.name}",
                ],
                evidence,
                0.9 if (failed or error) else 0.6,
                "error" if (failed or error) else "warning",
            )
        ]
    return []


# An import that fails. Raised while unpickling (the pickle names a class whose module is missing)
# it is the model file's problem; raised while the server imports its own code it is the image's.
IMPORT_ERROR_RE = re.compile(
    r"^(?:ModuleNotFoundError|ImportError): (?:No module named '(?P<module>[^']+)'"
    r"|cannot import name '(?P<name>[^']+)' from '(?P<source>[^']+)')"
    # `python -m MODULE` when MODULE (or its package) is not there: no traceback at all.
    r"|: Error while finding module specification for '[^']+' \(ModuleNotFoundError: No module named '(?P<package>[^']+)'\)"
    r"|python[\d.]*: No module named (?P<main>[\w.]+)$"
)
# Frames that mean "while loading the model file": joblib / pickle on the stack.
LOAD_FRAME_RE = re.compile(r"joblib|pickle|[Uu]npickl")
TRACEBACK_START = "Traceback (most recent call last):"


def import_failure(text: str) -> tuple[int, str, str] | None:
    """(line number, line, missing name) of an import that failed while the server started up,
    before any model file was read; None when there is none, or when it failed while unpickling."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = IMPORT_ERROR_RE.search(line.strip())
        if not match:
            continue
        start = max((i for i in range(index) if lines[i].strip() == TRACEBACK_START), default=index)
        if any(LOAD_FRAME_RE.search(frame) for frame in lines[start:index]):
            continue  # raised inside joblib.load / pickle: an unpickling failure
        module = match["module"] or match["package"] or match["main"]
        missing = f"module {module!r}" if module else f"{match['name']!r} from {match['source']!r}"
        return index + 1, line.strip(), missing
    return None


def _failure_texts(snap: Snapshot, pod: dict) -> list[tuple[object, str]]:
    """Where a crashed model server's error can be read: its log, its termination message, KServe's copy."""
    texts: list[tuple[object, str]] = []
    found = snap.log(name_of(pod), MODEL_CONTAINER)
    if found:
        texts.append(found)
    failed = failing_termination(pod, MODEL_CONTAINER)
    if failed and failed[1].get("message"):
        texts.append((Evidence(ref(pod), f"{failed[0]}.message", ""), failed[1]["message"]))
    if last_failure(snap.isvc).get("message"):
        texts.append((Evidence(ref(snap.isvc), f"{FAILURE_PATH}.message", ""), last_failure(snap.isvc)["message"]))
    return texts


def server_import_failed(snap: Snapshot) -> list[Finding]:
    """The model server (or a custom server) dies while importing its own code: a broken image."""
    for pod in snap.pods:
        for where, text in _failure_texts(snap, pod):
            hit = import_failure(text)
            if not hit:
                continue
            lineno, line, missing = hit
            evidence = [
                log_evidence(where, lineno, line)
                if not isinstance(where, Evidence)
                else Evidence(where.source, where.field, clip(line))
            ]
            evidence += _model_load_failed(snap, pod)
            image = ((container_spec(pod, MODEL_CONTAINER) or {}).get("image")) or "?"
            evidence.append(Evidence(ref(pod), f"spec.containers[name={MODEL_CONTAINER}].image", image))
            module = missing.split("'")[3 if missing.startswith("'") else 1]
            return [
                Finding(
                    "server-import-failed",
                    f"The model server crashes at start: it cannot import {missing}",
                    f"The container exits while Python imports the server's own code, before any model is "
                    f"loaded: {missing} is not in the image {image}. This is a broken image or custom server "
                    "(built from other code than it runs, or without one of its dependencies), not a problem "
                    "with the model file.",
                    [
                        f"Check the image has it: docker run --rm --entrypoint python {image} -c 'import {module}'",
                        "Rebuild the image from the code the InferenceService runs (Lab 6: invoke image.build, then "
                        "invoke image.load-kind on kind or invoke image.push), or add the missing package to it.",
                        f"Then recreate the pods: kubectl delete pod -n {snap.namespace} "
                        f"-l serving.kserve.io/inferenceservice={snap.name}",
                    ],
                    evidence,
                    0.9,
                )
            ]
    return []


def model_file_not_loadable(snap: Snapshot) -> list[Finding]:
    """The model server crashed loading the file: unpickling failed, or more than one model file."""
    for pod, key, text in model_server_logs(snap):
        if VERSION_RE.search(text) or SKLEARN_FORMAT_RE.search(text):
            continue  # sklearn_version_mismatch explains this log
        if import_failure(text):
            continue  # server_import_failed explains this log: nothing was unpickled
        failed = _model_load_failed(snap, pod)
        many = find_line(text, MANY_FILES_RE)
        if many:
            return [
                Finding(
                    "model-file-not-loadable",
                    "The model directory holds more than one model file",
                    "KServe's sklearn runtime loads exactly one .joblib, .pkl or .pickle file from the model "
                    "directory and refuses to choose between several.",
                    [
                        "Keep a single model file under the storageUri directory (or point storageUri at a "
                        "directory with only one), then restart the predictor pods."
                    ],
                    [log_evidence(key, many[0], many[1]), *failed],
                    0.9,
                )
            ]
        error = find_line(text, UNPICKLE_RE)
        if error and failed:
            return [
                Finding(
                    "model-file-not-loadable",
                    "The model file cannot be loaded (unpickling failed)",
                    "The model server found the model file but could not unpickle it: it is not a model saved "
                    "with joblib by a compatible Python / scikit-learn, or the file is truncated.",
                    [
                        "Save the model with joblib.dump using the runtime's versions (Python 3.11, "
                        f"scikit-learn {pin_or_none('python', 'scikit_learn') or 'as pinned in versions.toml'}) and upload the whole file again.",
                        f"Read the full error: kubectl logs -n {snap.namespace} {name_of(pod)} -c {MODEL_CONTAINER} --previous",
                    ],
                    [log_evidence(key, error[0], error[1]), *failed],
                    0.85,
                )
            ]
    return []


def model_file_missing(snap: Snapshot) -> list[Finding]:
    """The runtime found no model file and started without the model (calls then get 404)."""
    for _pod, key, text in model_server_logs(snap):
        hit = find_line(text, MODEL_MISSING_RE)
        if not hit or MNT_MODELS_RE.search(text):
            continue  # a missing /mnt/models is mnt_models_missing's case
        lineno, line, match = hit
        ready = isvc_ready(snap)
        return [
            Finding(
                "model-file-missing",
                "No .joblib/.pkl/.pickle model file in the model directory: the server runs without the model",
                f"The sklearn runtime found no model file directly under {match.group(2)}, logged that it would "
                "try the model repository instead, and started without a model of that name (sub-directories, "
                "if any, are served as models named after the directory). "
                + (
                    'The InferenceService looks Ready, but every call gets 404 "Model with name '
                    f'{match.group(1)} does not exist".'
                    if ready
                    else ""
                ),
                [
                    "Put exactly one model file (e.g. model.joblib) directly under the storageUri directory, "
                    "or fix spec.predictor.model.storageUri to point at it.",
                    f"Then restart the predictor: kubectl delete pod -n {snap.namespace} -l serving.kserve.io/inferenceservice={snap.name}",
                ],
                [
                    log_evidence(key, lineno, line),
                    Evidence(ref(snap.isvc), "spec.predictor.model.storageUri", storage_uri(snap.isvc) or ABSENT),
                ],
                0.85,
                "warning" if ready else "error",
            )
        ]
    return []


def mnt_models_missing(snap: Snapshot) -> list[Finding]:
    """No storage initializer ran, so /mnt/models does not exist (namespace labelled control-plane)."""
    labels = ((snap.namespace_obj or {}).get("metadata") or {}).get("labels") or {}
    labelled = "control-plane" in labels
    uri = storage_uri(snap.isvc)
    without_init = [p for p in snap.pods if container_spec(p, STORAGE_INITIALIZER) is None]
    log_hit = None
    for _, key, text in model_server_logs(snap):
        hit = find_line(text, MNT_MODELS_RE)
        if hit:
            log_hit = (key, hit)
            break
    if not log_hit and not (labelled and uri and without_init):
        return []
    evidence = []
    if labelled:
        evidence.append(
            Evidence(ref(snap.namespace_obj), "metadata.labels.control-plane", str(labels["control-plane"]))
        )
    if uri and without_init:
        evidence.append(Evidence(ref(without_init[0]), f"spec.initContainers[name={STORAGE_INITIALIZER}]", ABSENT))
    if log_hit:
        evidence.append(log_evidence(log_hit[0], log_hit[1][0], log_hit[1][1]))
    if labelled:
        cause = (
            f"Namespace {snap.namespace} carries the label `control-plane`, and KServe's pod webhook "
            "skips such namespaces, so no storage-initializer was added to download the model: "
            "/mnt/models does not exist in the model server's container."
        )
        fix = [
            f"Remove the label (kubectl label namespace {snap.namespace} control-plane-) or deploy in "
            "another namespace,",
            f"then recreate the pods: kubectl delete pod -n {snap.namespace} -l serving.kserve.io/inferenceservice={snap.name}",
        ]
    else:
        cause = (
            "The model server looked for /mnt/models and it does not exist: no storage initializer "
            "ran for this pod (no storageUri in the spec, or KServe's pod webhook did not mutate it)."
        )
        fix = [
            "Set spec.predictor.model.storageUri, and check the namespace has no `control-plane` label "
            f"(kubectl get namespace {snap.namespace} --show-labels)."
        ]
    confidence = 0.95 if labelled and (log_hit or without_init) else 0.8 if log_hit else 0.75
    return [
        Finding(
            "mnt-models-missing", "/mnt/models is missing: no storage initializer ran", cause, fix, evidence, confidence
        )
    ]
