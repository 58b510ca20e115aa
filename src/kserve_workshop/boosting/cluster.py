"""Lab 8's cluster part: its InferenceServices, with the storageUri of the models the learner uploaded.

``manifests/labs/08-boosting-runtimes/`` holds one InferenceService per framework, each naming its
runtime (kserve-lgbserver, kserve-xgbserver, and kserve-predictiveserver for the scikit-learn
baseline), and no namespace: ``kubectl apply -n`` chooses it. The notebook uploads the learner's
files with ``platform.storage.upload_model`` and applies a copy of each manifest carrying the URI
the upload returned (``isvc.use_model``), with ``kubectl apply -f``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import yaml

from ..errors import WorkshopError
from ..paths import MANIFESTS_DIR, cache_dir
from .models import ORDER, model_file
from .runtimes import framework

LAB_MANIFESTS = MANIFESTS_DIR / "labs" / "08-boosting-runtimes"
#: InferenceService (and manifest file) per framework.
ISVC_NAMES = {"sklearn": "wine-sklearn-predictive", "lightgbm": "wine-lightgbm", "xgboost": "wine-xgboost"}


def upload_name(key: str) -> str:
    """The model store name of a framework's model: ``lab8-wine-<framework>``."""
    framework(key)
    return f"lab8-wine-{key}"


def manifest(key: str) -> dict:
    """The lab's InferenceService for ``key`` as written in the repository."""
    from ..isvc.manifest import load_manifest

    return load_manifest(LAB_MANIFESTS / f"{ISVC_NAMES[framework(key).key]}.yaml")


def write_manifests(
    model_uris: Mapping[str, str], directory: str | Path | None = None, *, namespace: str | None = None
) -> dict[str, Path]:
    """The lab's manifests with the uploaded models' URIs (``isvc.use_model``), as files to
    ``kubectl apply -n NAMESPACE -f``; with ``namespace`` they name it themselves."""
    from ..isvc.manifest import use_model
    from ..namespace import workshop_namespace

    target = Path(directory) if directory else cache_dir() / "lab8" / "manifests"
    target.mkdir(parents=True, exist_ok=True)
    missing = [key for key in ORDER if key not in model_uris]
    if missing:
        raise WorkshopError(f"no uploaded model for {', '.join(missing)}", hint="run the upload cell first")
    files = {}
    for key in ORDER:
        path = target / f"{ISVC_NAMES[key]}.yaml"
        isvc = use_model(manifest(key), model_uris[key])
        if namespace:
            isvc["metadata"]["namespace"] = workshop_namespace(namespace)
        path.write_text(yaml.safe_dump(isvc, sort_keys=False))
        files[key] = path
    return files


def upload_models(model_dirs: Mapping[str, str | Path], **kwargs) -> dict[str, str]:
    """Upload each framework's model file to the in-cluster store; returns {framework: storageUri}."""
    from ..platform import storage

    return {key: storage.upload_model(model_file(model_dirs[key], key), upload_name(key), **kwargs) for key in ORDER}


def write_body(body: Mapping, path: str | Path | None = None) -> Path:
    """A request body as a JSON file, for ``curl -d @file``."""
    target = Path(path) if path else cache_dir() / "lab8" / "v2-request.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(body))
    return target
