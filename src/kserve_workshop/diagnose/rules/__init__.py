"""The rules: each is a small function of a ``Snapshot`` returning zero or more ``Finding``s.

Every rule reads the fields and reason strings upstream defines (KServe v0.20 InferenceService
status, Knative Serving 1.21 Service/Route/Revision conditions, core/v1 Pod and Event) and cites
the fields it used as evidence. Rules for root causes carry a high confidence; the generic
"revision failed" / "container crashing" rules a lower one, so the specific cause ranks first.
A new rule is a function in the module of its area, added to ``RULES`` below.
"""

from __future__ import annotations

from typing import Callable, Iterable

from ..findings import Finding
from ..snapshot import Snapshot
from .helpers import all_conditions, current_events
from .lifecycle import not_reconciled, revision_failed, still_starting, stopped
from .model import (
    mnt_models_missing,
    model_file_missing,
    model_file_not_loadable,
    server_import_failed,
    sklearn_version_mismatch,
    storage_initializer_failed,
)
from .platform import (
    findings_from_error_text,
    ingress_not_configured,
    invalid_predictor_spec,
    no_supporting_runtime,
    webhook_not_ready,
)
from .pods import container_crashing, image_pull_failed, image_tag_resolution, pods_unschedulable, wrong_architecture

Rule = Callable[[Snapshot], Iterable[Finding]]

#: All rules, most specific first (order breaks ties in ranking).
RULES: list[Rule] = [
    no_supporting_runtime,
    invalid_predictor_spec,
    ingress_not_configured,
    webhook_not_ready,
    image_tag_resolution,
    image_pull_failed,
    pods_unschedulable,
    mnt_models_missing,
    storage_initializer_failed,
    sklearn_version_mismatch,
    server_import_failed,
    model_file_not_loadable,
    model_file_missing,
    wrong_architecture,
    container_crashing,
    revision_failed,
    not_reconciled,
    stopped,
    still_starting,
]

__all__ = [
    "RULES",
    "Rule",
    "all_conditions",
    "current_events",
    "findings_from_error_text",
    *(rule.__name__ for rule in RULES),
]
