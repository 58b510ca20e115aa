"""The CloudEvents KServe's inference logger sends, built the way KServe v0.20.0 builds them.

What the agent does (KServe v0.20.0, ``pkg/logger/handler.go`` and ``pkg/logger/worker.go``):

- for every inference request through the agent it queues a **request** event (type
  ``org.kubeflow.serving.inference.request``) with the request's body as the event's data, then,
  only when the model answered **HTTP 200**, a **response** event
  (``org.kubeflow.serving.inference.response``) with the answer's body;
- both carry the **same id**: the request's ``Ce-Id`` header when the client sent one, else a new
  UUID. That id is the only thing that pairs a request with its response;
- both events' ``datacontenttype`` is the *request's* ``Content-Type``;
- ``time`` is when the request arrived (request event) or the answer was read (response event); the
  extension ``recordedtime`` is when the event was built; ``source`` is the agent's ``--source-uri``.
  KServe's pod webhook passes the pod's name there (``pkg/webhook/admission/pod/agent_injector.go``),
  but a predictor's pod is created from its ReplicaSet's ``generateName`` and mutating admission
  runs before the API server generates the name, so the flag is empty and the agent uses its
  fallback ``http://localhost:9081/`` (``cmd/agent/main.go``);
- extensions ``inferenceservicename``, ``namespace``, ``component`` (``predictor``...), ``endpoint``,
  ``metadata`` (a JSON object of the request headers listed in ``logger.metadataHeaders``, ``{}``
  when none) and ``annotations`` (JSON, only when ``logger.metadataAnnotations`` selects some);
- it sends them in CloudEvents **binary mode** over HTTP POST to ``logger.url``: attributes as
  ``Ce-*`` headers (Go writes them in canonical case, ``Ce-Id``), the payload as the body. Five
  workers send concurrently, so a response event can arrive **before** its request event; nothing
  is retried, and a non-200 answer only ends up in the agent's log.

Structured mode (the whole event as one JSON document, ``application/cloudevents+json``) is what
other CloudEvents producers (Knative Eventing brokers, ``to_structured`` in the SDKs) send; a sink
that uses a CloudEvents SDK accepts both.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from ..errors import WorkshopError

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
TYPES = {"request": REQUEST_TYPE, "response": RESPONSE_TYPE}
#: The agent's ``--source-uri`` fallback (``http://localhost:<port>/``, the agent listens on 9081).
AGENT_SOURCE = "http://localhost:9081/"

#: Extension attributes the agent sets (lower-case alphanumerics, as CloudEvents requires).
EXTENSIONS = ("inferenceservicename", "namespace", "component", "endpoint", "metadata", "annotations", "recordedtime")
SPEC_VERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
JSON = "application/json"


def go_time(moment: datetime | None = None) -> str:
    """A timestamp as Go's RFC 3339 with nanoseconds writes it (``2026-05-01T12:00:00.123456000Z``)."""
    moment = (moment or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond * 1000:09d}Z"


@dataclass(frozen=True)
class AgentEvent:
    """One event as the agent builds it: ``kind`` is ``"request"`` or ``"response"``."""

    kind: str
    id: str
    body: bytes
    inference_service: str = "sklearn-iris"
    namespace: str = "default"
    component: str = "predictor"
    endpoint: str = ""
    content_type: str | None = JSON
    source: str = AGENT_SOURCE
    time: str = field(default_factory=go_time)
    recorded_time: str = field(default_factory=go_time)
    metadata: Mapping[str, list[str]] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in TYPES:
            raise WorkshopError(f"an agent event is a 'request' or a 'response', not {self.kind!r}")
        if not isinstance(self.body, bytes):
            raise WorkshopError(
                "an agent event's body is the HTTP body as bytes", hint="json.dumps(body).encode() for a dict"
            )

    @classmethod
    def of(cls, kind: str, body: Any, *, id: str | None = None, **attributes: Any) -> "AgentEvent":  # noqa: A002 - the CloudEvents attribute
        """Like the constructor, with ``body`` a dict (sent as JSON) and a fresh id unless given."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return cls(kind, id or str(uuid.uuid4()), raw, **attributes)

    @property
    def type(self) -> str:
        return TYPES[self.kind]

    def attributes(self) -> dict[str, str]:
        """Context attributes and extensions, as strings (what goes into ``Ce-*`` headers)."""
        attributes = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "recordedtime": self.recorded_time,
            "inferenceservicename": self.inference_service,
            "namespace": self.namespace,
            "component": self.component,
            "endpoint": self.endpoint,
            "metadata": json.dumps(dict(self.metadata), separators=(",", ":")),
        }
        if self.annotations:  # the agent sets it only when some annotations were selected
            attributes["annotations"] = json.dumps(dict(self.annotations), separators=(",", ":"))
        if self.content_type:
            attributes["datacontenttype"] = self.content_type
        return attributes


@dataclass(frozen=True)
class Delivery:
    """One HTTP POST to a sink: headers and body, and what it is (for messages)."""

    headers: dict[str, str]
    body: bytes
    what: str = ""


def _canonical(name: str) -> str:
    """Go's canonical header case: ``ce-inferenceservicename`` -> ``Ce-Inferenceservicename``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def binary_delivery(event: AgentEvent, what: str = "") -> Delivery:
    """The event as the agent sends it: attributes in ``Ce-*`` headers, the payload as the body."""
    headers = {}
    for name, value in event.attributes().items():
        if name == "datacontenttype":
            headers["Content-Type"] = value
        else:
            headers[_canonical(f"ce-{name}")] = value
    return Delivery(headers, event.body, what or f"{event.kind} {event.id} (binary mode)")


def structured_delivery(event: AgentEvent, what: str = "", *, as_base64: bool = False) -> Delivery:
    """The same event in structured mode: one JSON document with the payload in ``data``.

    A JSON payload goes in ``data`` as JSON; anything else, or any payload with ``as_base64`` (as SDKs
    write a payload they hold as bytes), as base64 in ``data_base64``.
    """
    import base64

    document: dict[str, Any] = dict(event.attributes())
    try:
        if as_base64:
            raise ValueError("asked for data_base64")
        document["data"] = json.loads(event.body)
    except ValueError:
        document["data_base64"] = base64.b64encode(event.body).decode()
    return Delivery(
        {"Content-Type": STRUCTURED_CONTENT_TYPE},
        json.dumps(document).encode(),
        what or f"{event.kind} {event.id} (structured mode)",
    )


def sample_bodies(
    protocol: str,
    rows: list[list[float]] | None = None,
    predictions: list[int] | None = None,
    *,
    model_name: str = "sklearn-iris",
) -> tuple[dict, dict]:
    """(request body, response body) of one prediction over ``"v1"`` or ``"v2"``, shaped like KServe's
    Python server's (``tests/test_payload_events.py`` compares them with a real server's answers)."""
    from ..training import DOCS_IRIS_INPUT

    rows = [list(map(float, row)) for row in (rows if rows is not None else DOCS_IRIS_INPUT)]
    predictions = list(predictions if predictions is not None else [1] * len(rows))
    if protocol == "v1":
        return {"instances": rows}, {"predictions": predictions}
    if protocol == "v2":
        request_id = str(uuid.uuid4())
        request = {
            "id": request_id,
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [len(rows), len(rows[0]) if rows else 0],
                    "datatype": "FP32",
                    "data": [v for row in rows for v in row],
                }
            ],
        }
        response = {
            "model_name": model_name,
            "model_version": None,
            "id": request_id,
            "parameters": None,
            "outputs": [
                {
                    "name": "output-0",
                    "shape": [len(predictions)],
                    "datatype": "INT64",
                    "parameters": None,
                    "data": predictions,
                }
            ],
        }
        return request, response
    raise WorkshopError(f"protocol must be 'v1' or 'v2', not {protocol!r}")
