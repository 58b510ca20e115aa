"""Upstream reference files beside the checkout (../shared/reference), used by tests only.

They are an extra source for the schema cache when it is empty; tests that need them skip (saying
why) when they are absent. The project itself fetches the CRD with `invoke schemas`.
"""

from kserve_workshop.paths import REPO_ROOT

REFERENCE_CRD = REPO_ROOT.parent / "shared" / "reference" / "kserve-v0.20.0-inferenceservice-crd.yaml"
