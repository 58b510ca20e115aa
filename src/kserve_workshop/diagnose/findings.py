"""What a diagnosis says: findings (cause, fix, evidence, confidence), ranked, with an overall state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Overall states of a diagnosis.
HEALTHY = "healthy"  # Ready, and no rule found anything wrong
READY_WITH_WARNINGS = "ready-with-warnings"  # Ready, but something will bite (e.g. no model loaded)
NOT_READY = "not-ready"  # not Ready, and at least one rule explains why
STARTING = "starting"  # not Ready yet, nothing has failed: it is still coming up
UNKNOWN = "unknown"  # not Ready and no rule matched: say so and show the raw state
CALL_EXPLAINED = "call-explained"  # a failed HTTP call, explained
CALL_UNKNOWN = "call-unknown"  # a failed HTTP call no rule explains

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Evidence:
    """One fact a finding rests on: where it was read (object + field) and what it said."""

    source: str  # e.g. "InferenceService default/sklearn-iris", "Pod default/x", "log x/kserve-container"
    field: str  # e.g. "status.modelStatus.lastFailureInfo.reason", "line 12"
    value: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field} = {self.value}"


@dataclass
class Finding:
    """A likely cause, in plain words, with the fix and the evidence that points to it."""

    rule: str
    title: str
    cause: str
    fix: list[str]
    evidence: list[Evidence]
    confidence: float  # 0..1: how sure the rule is that this is THE cause
    severity: str = "error"

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def confidence_label(self) -> str:
        return "high" if self.confidence >= 0.8 else "medium" if self.confidence >= 0.5 else "low"


def rank(findings: list[Finding]) -> list[Finding]:
    """Errors before warnings before info; within a severity the surest first (stable for ties)."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), -f.confidence))


@dataclass
class Diagnosis:
    """The answer: an overall state, ranked findings, the raw conditions and what was not available."""

    subject: str  # "InferenceService default/sklearn-iris" or "call to ..."
    state: str
    summary: str
    findings: list[Finding] = field(default_factory=list)
    #: Raw conditions seen, as (object, type, status, reason, message) dicts, shown when nothing matched.
    conditions: list[dict] = field(default_factory=list)
    #: Container states of the pods, one line each (shown with the raw conditions).
    pod_states: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    origin: str = ""

    @property
    def top(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    @property
    def healthy(self) -> bool:
        return self.state == HEALTHY

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for item, finding in zip(data["findings"], self.findings):
            item["confidence_label"] = finding.confidence_label
        return data
