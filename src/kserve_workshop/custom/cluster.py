"""Lab 6 on a cluster: the lab's InferenceServices with this run's image and model, as files.

The manifests in ``manifests/labs/06-custom-transformer/`` name the image and the model by
placeholder; the notebook fills in the image that packages the learner's model file
(``image.prepare_cluster_image``) and the URI of the uploaded model (``storage.upload_model``),
and writes the result next to the lab's other files, for ``kubectl apply -n NAMESPACE -f FILE``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..image import use_image
from ..isvc import load_manifest, use_model
from ..paths import MANIFESTS_DIR
from .model_file import lab_dir

LAB_MANIFESTS = MANIFESTS_DIR / "labs" / "06-custom-transformer"
TRANSFORMER_MANIFEST = "iris-transformer.yaml"
CUSTOM_PREDICTOR_MANIFEST = "iris-custom-predictor.yaml"


def lab_manifest(file_name: str, image: str, model_uri: str) -> dict:
    """The lab's manifest ``file_name`` running ``image``, its predictor serving ``model_uri``."""
    return use_model(use_image(load_manifest(LAB_MANIFESTS / file_name), image), model_uri)


def write_lab_manifest(file_name: str, image: str, model_uri: str, directory: str | Path | None = None) -> Path:
    """Write ``lab_manifest(...)`` as ``directory/file_name`` (default: the lab's folder); returns the path."""
    path = Path(directory or lab_dir()) / file_name
    manifest = lab_manifest(file_name, image, model_uri)
    path.write_text(
        f"# {LAB_MANIFESTS.name}/{file_name} with this run's image and model\n"
        + yaml.safe_dump(manifest, sort_keys=False)
    )
    return path
