"""The payload logger in the cluster: the learner's sink as a Deployment, and where S3 logging writes.

The sink's Deployment and Service are ``manifests/labs/07-batching-and-logging/payload-sink.yaml``;
its container runs the workshop's image (Lab 6's, with kserve's dependencies) on the learner's file,
mounted from a ConfigMap. ``sink_objects`` gives them with the image the cluster can use.

With an ``s3://bucket/prefix`` ``logger.url`` and ``logger.storage``, KServe's agent writes one object
per event (KServe v0.20.0 ``pkg/logger/store.go``): ``logged_object_key`` says where.
"""

from __future__ import annotations

import copy
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from ..errors import WorkshopError
from ..paths import MANIFESTS_DIR

LAB_MANIFESTS = MANIFESTS_DIR / "labs" / "07-batching-and-logging"
SINK_MANIFEST = LAB_MANIFESTS / "payload-sink.yaml"
SINK_NAME = "payload-sink"
SINK_CONTAINER = "sink"
#: The file name the Deployment runs from its ConfigMap, and where the pairs go in the pod.
SINK_FILE_NAME = "payload_sink.py"
SINK_STORE = "/data/pairs.jsonl"
#: The bucket and key prefix of the S3 logging part.
LOG_BUCKET = "payload-logs"
LOG_PREFIX = "lab7"


def sink_url(namespace: str | None = None) -> str:
    """The ``logger.url`` that reaches the sink's Service (in the labs' namespace unless named) from any pod."""
    from ..namespace import workshop_namespace

    return f"http://{SINK_NAME}.{workshop_namespace(namespace)}.svc.cluster.local/"


def sink_objects(image: str) -> list[dict]:
    """The sink's Deployment and Service, with the container running ``image``."""
    from ..image import check_tag

    check_tag(image)
    objects = [obj for obj in yaml.safe_load_all(SINK_MANIFEST.read_text()) if obj]
    objects = copy.deepcopy(objects)
    deployments = [obj for obj in objects if obj.get("kind") == "Deployment"]
    if len(deployments) != 1:
        raise WorkshopError(f"{SINK_MANIFEST.name} must hold one Deployment, found {len(deployments)}")
    containers = deployments[0]["spec"]["template"]["spec"]["containers"]
    sink = next((c for c in containers if c.get("name") == SINK_CONTAINER), None)
    if sink is None:
        raise WorkshopError(f"{SINK_MANIFEST.name}: the Deployment has no container {SINK_CONTAINER!r}")
    sink["image"] = image
    return objects


def write_sink_manifest(image: str, path: str | Path) -> Path:
    """``sink_objects(image)`` as one YAML file (for ``kubectl apply -f``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(sink_objects(image), sort_keys=False))
    return path


def logged_object_key(
    logger_url: str,
    *,
    namespace: str,
    inference_service: str,
    component: str,
    store_path: str,
    event_id: str,
    kind: str,
    extension: str = "json",
) -> str:
    """The object key an event is stored under (the bucket is the URL's host).

    ``<url path>/<namespace>/<isvc>/<component>/<storage.path>/<id>-<request|response>.<ext>``;
    empty parts are left out, as the agent does.
    """
    parts = urlsplit(logger_url)
    if parts.scheme not in ("s3", "gs", "abfs") or not parts.netloc:
        raise WorkshopError(f"not a blob-storage logger url: {logger_url!r}", hint="e.g. s3://payload-logs/lab7")
    if kind not in ("request", "response"):
        raise WorkshopError(f"kind is 'request' or 'response', not {kind!r}")
    pieces = [p for p in (parts.path.strip("/"), namespace, inference_service, component, store_path) if p]
    return str(PurePosixPath(*pieces) / f"{event_id}-{kind}.{extension}")
