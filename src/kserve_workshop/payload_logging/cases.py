"""What a payload-logging sink is graded with: deliveries in the agent's format, and the verdict.

``graded_deliveries()`` builds, with fresh ids, the events a sink must accept (request and response,
V1 and V2, binary and structured mode, ``data`` and ``data_base64``, a response arriving before its
request, a request whose response never comes) and those it must refuse with a 4xx (not a CloudEvent,
a missing id, another event type, broken JSON, a payload that is not JSON or not a JSON object, an
empty body). ``judge`` compares what the
sink answered and kept with what it should have; it returns every problem found, in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from .events import (
    JSON,
    STRUCTURED_CONTENT_TYPE,
    AgentEvent,
    Delivery,
    binary_delivery,
    sample_bodies,
    structured_delivery,
)

#: Fields every kept pair must have (the sink may add more).
PAIR_FIELDS = ("id", "inferenceservice", "namespace", "request", "response")


@dataclass(frozen=True)
class Case:
    """One delivery and what the sink must answer: ``accept`` (2xx) or refuse (4xx)."""

    delivery: Delivery
    accept: bool


@dataclass
class GradedSet:
    """The deliveries, in sending order, and the pairs the sink must have kept afterwards."""

    cases: list[Case]
    #: id -> the pair the store must hold for it (only the fields of ``PAIR_FIELDS``).
    pairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ids that must not appear in the store (refused, or never completed).
    absent: set[str] = field(default_factory=set)


def _pair(request: AgentEvent, response: AgentEvent) -> dict[str, Any]:
    return {
        "id": request.id,
        "inferenceservice": request.inference_service,
        "namespace": request.namespace,
        "request": json.loads(request.body),
        "response": json.loads(response.body),
    }


def graded_deliveries() -> GradedSet:
    """A fresh set of graded deliveries (new ids every call)."""
    graded = GradedSet(cases=[])

    def accept(delivery: Delivery) -> None:
        graded.cases.append(Case(delivery, True))

    def refuse(delivery: Delivery) -> None:
        graded.cases.append(Case(delivery, False))

    def pair_of(protocol: str, **attributes: Any) -> tuple[AgentEvent, AgentEvent]:
        request_body, response_body = sample_bodies(protocol)
        request = AgentEvent.of("request", request_body, **attributes)
        response = AgentEvent.of("response", response_body, id=request.id, **attributes)
        graded.pairs[request.id] = _pair(request, response)
        return request, response

    # V1, binary mode, request then response: exactly what the agent sends.
    request, response = pair_of("v1")
    accept(binary_delivery(request, "a V1 request event (binary mode, as the agent sends it)"))
    accept(binary_delivery(response, "its V1 response event (binary mode)"))
    # V2, binary mode, the response first: the agent's workers send concurrently.
    request, response = pair_of("v2", inference_service="iris-v2", namespace="lab7")
    accept(binary_delivery(response, "a V2 response event arriving before its request"))
    accept(binary_delivery(request, "the V2 request event that arrives second"))
    # V1 in structured mode, with metadata headers and annotations.
    request, response = pair_of("v1", metadata={"X-Request-Id": ["lab7-42"]}, annotations={"team": "workshop"})
    accept(structured_delivery(request, "a V1 request event in structured mode"))
    accept(structured_delivery(response, "its V1 response event in structured mode"))
    # V2: structured request, binary response, no Content-Type on the request (curl -d sends none
    # the agent could copy when the client omitted it).
    request, response = pair_of("v2", content_type=None)
    accept(structured_delivery(request, "a V2 request in structured mode"))
    accept(binary_delivery(response, "its V2 response in binary mode, without a Content-Type"))

    # V1 in structured mode with the payload as data_base64 (how an SDK writes a payload it holds as
    # bytes): the SDK hands the sink bytes, which are JSON all the same.
    request, response = pair_of("v1", inference_service="iris-base64")
    accept(structured_delivery(request, "a V1 request in structured mode, its payload in data_base64", as_base64=True))
    accept(binary_delivery(response, "its V1 response in binary mode"))

    # A request whose response never comes: the model answered 500, so the agent logs no response.
    orphan = AgentEvent.of("request", sample_bodies("v1")[0])
    accept(binary_delivery(orphan, "a request whose response never comes (the model answered 500)"))
    graded.absent.add(orphan.id)

    # What must be refused with a 4xx, and never paired.
    body = json.dumps(sample_bodies("v1")[0]).encode()
    refuse(Delivery({"Content-Type": JSON}, body, "a plain JSON POST: an inference request, not a CloudEvent"))
    no_id = AgentEvent.of("request", sample_bodies("v1")[0])
    headers = {k: v for k, v in binary_delivery(no_id).headers.items() if k != "Ce-Id"}
    refuse(Delivery(headers, body, "a binary-mode event without Ce-Id"))
    other = AgentEvent.of("request", sample_bodies("v1")[0])
    other_headers = {**binary_delivery(other).headers, "Ce-Type": "com.example.order.created"}
    refuse(Delivery(other_headers, body, "an event of another type (com.example.order.created)"))
    graded.absent.add(other.id)
    broken = AgentEvent.of("request", sample_bodies("v1")[0])
    refuse(
        Delivery(
            {"Content-Type": STRUCTURED_CONTENT_TYPE},
            structured_delivery(broken).body[:-7],
            "a structured-mode event cut short (broken JSON)",
        )
    )
    graded.absent.add(broken.id)
    # A valid request, then a response for it whose payload is form data, not JSON: the pair must
    # not be completed with it.
    half = AgentEvent.of("request", sample_bodies("v1")[0])
    accept(binary_delivery(half, "a request whose response event will be malformed"))
    garbled = AgentEvent("response", half.id, b"predictions=1&predictions=1", content_type=JSON)
    refuse(binary_delivery(garbled, "a response event whose payload is not JSON"))
    graded.absent.add(half.id)
    # A valid request, then a response whose payload is JSON but not an object (a bare list).
    listed = AgentEvent.of("request", sample_bodies("v1")[0])
    accept(binary_delivery(listed, "a request whose response event will carry a JSON list"))
    bare_list = AgentEvent.of("response", [1, 1], id=listed.id)
    refuse(binary_delivery(bare_list, "a response event whose payload is a JSON list, not an object"))
    graded.absent.add(listed.id)
    refuse(Delivery({}, b"", "an empty POST with no headers"))
    return graded


@dataclass
class Verdict:
    """What went wrong (empty when the sink did everything right), and what it kept."""

    problems: list[str]
    kept: int

    @property
    def passed(self) -> bool:
        return not self.problems


def judge_answers(cases: Iterable[Case], statuses: Iterable[int | str]) -> list[str]:
    """Problems with the HTTP answers: 2xx for what must be accepted, 4xx for what must be refused.

    A status that is a string is a failed call (the sink closed the connection, timed out...).
    """
    problems = []
    for case, status in zip(cases, statuses):
        what = case.delivery.what
        if isinstance(status, str):
            problems.append(f"{what}: no answer ({status})")
        elif case.accept and not 200 <= status < 300:
            problems.append(f"{what}: answered {status}, expected a 2xx (accepted)")
        elif not case.accept and not 400 <= status < 500:
            detail = "a 5xx says the sink broke, not that the event was bad" if status >= 500 else "it was kept"
            problems.append(f"{what}: answered {status}, expected a 4xx ({detail})")
    return problems


def judge_store(graded: GradedSet, kept: list[dict]) -> list[str]:
    """Problems with the pairs the sink kept (``kept``: the records of its store)."""
    problems = []
    by_id: dict[str, dict] = {}
    for number, record in enumerate(kept, 1):
        if not isinstance(record, dict):
            problems.append(f"record {number} is not a JSON object: {record!r:.80}")
            continue
        record_id = record.get("id")
        if record_id in by_id:
            problems.append(f"id {record_id} was kept twice")
        by_id[record_id] = record
    for pair_id, expected in graded.pairs.items():
        found = by_id.get(pair_id)
        if found is None:
            problems.append(f"the pair {pair_id} ({_describe(expected)}) was not kept")
            continue
        missing = [name for name in PAIR_FIELDS if name not in found]
        if missing:
            problems.append(f"the pair {pair_id} lacks {', '.join(missing)}")
            continue
        for name in PAIR_FIELDS[1:]:
            if found[name] != expected[name]:
                problems.append(f"the pair {pair_id}: {name} is {found[name]!r:.120}, expected {expected[name]!r:.120}")
    for stray in sorted(graded.absent & set(by_id)):
        problems.append(f"id {stray} was kept as a pair, but one of its events was refused or never came")
    return problems


def _describe(pair: dict) -> str:
    protocol = "V2" if "inputs" in pair["request"] else "V1"
    return f"{protocol}, {pair['namespace']}/{pair['inferenceservice']}"
