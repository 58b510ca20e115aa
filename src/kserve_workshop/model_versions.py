"""Lab 4's model versions: trained here, saved, told apart by probe inputs, uploaded to the cluster.

A canary lab attributes each answer to the revision that produced it, which works only if the two
versions answer some input differently. With two public models nobody can know that before a real
run; with the learner's own models it is known here, offline: ``prepare_versions`` saves each
version, finds (or checks) probe rows on which every pair of versions differs, and records each
version's answers (its signature). The files served in the cluster are these very files, uploaded
content-addressed (``platform.storage``), so the same probe tells the revisions apart there,
exactly as it does locally::

    versions = prepare_versions({"v1": model_v1, "v2": model_v2}, "iris-rollout")
    versions.uris            # {"v1": "s3://models/iris-rollout/<digest>", "v2": ...}, computed here
    upload_versions(versions, context=CONTEXT)   # a cluster cell: the same URIs, now in the store
    revision_versions(versions, {revision: route.predict, ...})   # which revision serves which version
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .canary import Attributor, UNATTRIBUTED, candidate_inputs, find_probes
from .errors import WorkshopError


@dataclass(frozen=True)
class ModelVersions:
    """Saved model versions of one model, with the probe that tells them apart."""

    #: The model's name in the store (``s3://models/<name>/...``).
    name: str
    #: version -> the saved model file.
    files: dict[str, Path]
    #: Input rows on which every pair of versions answers differently.
    probe: list[list[float]]
    #: Each version's answers to the probe.
    attributor: Attributor
    #: version -> its content-addressed storageUri (what ``upload_model`` returns for the file).
    uris: dict[str, str]

    def uri(self, version: str) -> str:
        try:
            return self.uris[version]
        except KeyError:
            raise WorkshopError(f"no model version {version!r}", hint=f"versions: {', '.join(self.uris)}") from None


def _answers(model: Any, rows: Sequence[Any], version: str) -> list:
    try:
        return [_plain(value) for value in model.predict(rows)]
    except Exception as exc:  # noqa: BLE001 - a model that cannot predict is the caller's error, said clearly
        raise WorkshopError(
            f"model version {version!r} cannot predict ({type(exc).__name__}: {exc})",
            hint="pass fitted scikit-learn models",
        ) from None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def prepare_versions(
    models: Mapping[str, Any],
    name: str,
    *,
    directory: str | Path | None = None,
    probe: Sequence[Sequence[float]] | None = None,
) -> ModelVersions:
    """Save each model (``training.save_model``) and find, or check, the probe that separates them.

    ``models`` maps a version name ("v1") to a fitted model; ``name`` is the model's name in the
    store. ``directory`` defaults to ``<cache>/model-versions/<name>``. With ``probe`` given, every
    row must get a different answer from every pair of versions; without, up to three such rows are
    found among ``canary.candidate_inputs()``. WorkshopError when the versions cannot be told apart.
    """
    from .paths import cache_dir
    from .platform.storage import content_uri
    from .training import save_model

    if not isinstance(models, Mapping) or len(models) < 2:
        raise WorkshopError("prepare_versions needs at least two model versions, e.g. {'v1': ..., 'v2': ...}")
    if probe is None:
        candidates = candidate_inputs()
        outputs = {version: _answers(model, candidates, version) for version, model in models.items()}
        rows = find_probes(outputs, candidates)
    else:
        rows = [list(row) for row in probe]
        if not rows:
            raise WorkshopError("the probe is empty", hint="give rows on which the versions answer differently")
        answers = {version: _answers(model, rows, version) for version, model in models.items()}
        for index, row in enumerate(rows):
            per_version = [answers[version][index] for version in models]
            if len(set(map(repr, per_version))) != len(per_version):
                raise WorkshopError(
                    f"probe row {row} gets the same answer from two versions "
                    f"({dict(zip(models, per_version))}), so it cannot tell them apart",
                    hint="use canary.find_probes, or leave probe out to have one found",
                )
    attributor = Attributor({version: _answers(model, rows, version) for version, model in models.items()})
    root = Path(directory) if directory is not None else cache_dir() / "model-versions" / name
    files = {version: save_model(model, root / version) for version, model in models.items()}
    uris = {version: content_uri(path, name) for version, path in files.items()}
    if len(set(uris.values())) != len(uris):
        raise WorkshopError("two versions saved to identical files", hint="train versions that really differ")
    return ModelVersions(name=name, files=files, probe=rows, attributor=attributor, uris=uris)


def upload_versions(
    versions: ModelVersions, *, context: str | None = None, yes: bool = False, runner=None
) -> dict[str, str]:
    """Upload every version to the in-cluster store; their storageUris (``versions.uris``)."""
    from .platform.storage import upload_model

    uploaded = {}
    for version, path in versions.files.items():
        uri = upload_model(path, versions.name, context=context, yes=yes, runner=runner)
        if uri != versions.uris[version]:
            raise WorkshopError(
                f"version {version!r} was changed on disk after prepare_versions",
                hint="prepare the versions again, then upload them",
            )
        uploaded[version] = uri
    return uploaded


def revision_versions(
    versions: ModelVersions, predict_by_revision: Mapping[str, Callable[[list], Sequence[Any]]]
) -> dict[str, str]:
    """Which version each revision serves, from its answers to the probe (e.g. through tagged routes).

    WorkshopError when a revision answers like none of the versions: it does not serve a file
    prepared here (another storageUri, an old model).
    """
    found = {}
    for revision, predict in predict_by_revision.items():
        answer = list(predict(versions.probe))
        version = versions.attributor.attribute(answer)
        if version == UNATTRIBUTED:
            raise WorkshopError(
                f"revision {revision} answers the probe with {answer}, like none of the versions "
                f"({versions.attributor.signatures})",
                hint="check its storageUri is one of the uploaded versions' URIs",
            )
        found[revision] = version
    return found
