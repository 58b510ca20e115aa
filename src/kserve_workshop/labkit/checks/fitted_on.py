"""Which rows was a model fitted on? Refit a copy on each candidate set and compare the answers.

An accuracy is only honest when the model never saw the rows it is scored on. The check cannot
watch ``fit`` being called, but it can refit an unfitted copy of the learner's model
(``sklearn.base.clone``: same class, same settings) on the training rows, on the held-out rows
and on all rows, and see which copy answers like the learner's model on a few hundred flowers.
Scikit-learn's fitting is deterministic for the lab's estimators, so the right set agrees on
(nearly) every flower and the others do not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Agreement with the refitted copy that counts as "fitted on these rows" (the rest is float noise
#: on flowers right at a decision boundary, e.g. when the rows were shuffled before fitting).
SAME_MODEL = 0.99
_PROBE_POINTS = 300

TRAINING, HELD_OUT, ALL_ROWS = "the training rows", "the held-out rows", "all rows (training and held-out)"


def _probe(split: Any) -> np.ndarray:
    """The split's flowers and random points inside the range of their measurements (fixed seed)."""
    everything = np.vstack([split.X_train, split.X_test])
    random = np.random.default_rng(7).uniform(
        everything.min(axis=0), everything.max(axis=0), size=(_PROBE_POINTS, everything.shape[1])
    )
    return np.vstack([everything, random])


def fitted_on(model: Any, split: Any) -> str | None:
    """``TRAINING``, ``HELD_OUT`` or ``ALL_ROWS``: the rows a refitted copy must see to answer like
    ``model``; None when no candidate does (another estimator set-up, a random one, other rows)."""
    from sklearn.base import clone

    probe = _probe(split)
    try:
        answers = np.asarray(model.predict(probe))
        template = clone(model)
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator: the caller cannot tell
        return None
    candidates = {
        TRAINING: (split.X_train, split.y_train),
        HELD_OUT: (split.X_test, split.y_test),
        ALL_ROWS: (np.vstack([split.X_train, split.X_test]), np.concatenate([split.y_train, split.y_test])),
    }
    agreement = {}
    for label, (rows, labels) in candidates.items():
        try:
            copy = clone(template).fit(rows, labels)
            agreement[label] = float(np.mean(np.asarray(copy.predict(probe)) == answers))
        except Exception:  # noqa: BLE001
            agreement[label] = 0.0
    best = max(agreement, key=agreement.get)
    if agreement[TRAINING] >= SAME_MODEL:
        return TRAINING
    return best if agreement[best] >= SAME_MODEL else None
