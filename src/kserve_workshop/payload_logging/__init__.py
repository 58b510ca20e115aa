"""Payload logging (Lab 7): KServe's inference logger, and a sink that receives what it sends.

KServe's agent sidecar (``spec.predictor.logger``) sends one CloudEvent per inference request and one
per response, with the same id. This package knows that format and the tools around a sink:

- ``events``: the agent's events, built as KServe v0.20.0 builds them (binary mode, its ``ce-*``
  attributes and extensions), and in structured mode too;
- ``cases``: the deliveries a sink is graded with, and how its answers and store are judged;
- ``sink_process``: a sink file run as a local server (``ServerProcess``) on 127.0.0.1;
- ``store``: reading the pairs a sink kept (JSON lines);
- ``burst``: a bounded, open-loop burst of events at a given rate, counted;
- ``cluster``: the sink's Deployment and Service, and the S3 store the logger can write to.
"""

from .events import (
    EXTENSIONS,
    REQUEST_TYPE,
    RESPONSE_TYPE,
    AgentEvent,
    Delivery,
    binary_delivery,
    sample_bodies,
    structured_delivery,
)

__all__ = [
    "AgentEvent",
    "Delivery",
    "EXTENSIONS",
    "REQUEST_TYPE",
    "RESPONSE_TYPE",
    "binary_delivery",
    "sample_bodies",
    "structured_delivery",
]
