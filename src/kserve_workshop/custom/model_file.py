"""Lab 6's model file on this machine: the learner's ``kserve.Model`` classes, served by KServe.

The learner writes ``iris_model.py`` in a ``%%writefile`` cell: two conversions, ``IrisTransformer``
(``preprocess``/``postprocess``) and ``IrisPredictor`` (``load``/``predict``). From here:

- ``ModelFileServer``: one class of the file served by ``runtime.model_file_server``, a
  ``processes.KServeServerProcess`` (127.0.0.1, a free port, a bounded wait, stopped with its
  parent); it remembers the file's digest at start, so a check can tell it runs the file as it is;
- ``ModelFileChain``: the file's transformer in front of the file's predictor (or, with
  ``predictor_class=None``, in front of the workshop's sklearn server, as KServe's sklearn runtime
  would be in a cluster);
- ``load_model_file``: the file imported afresh, for the lesson's cells and the checks;
- ``lab_model_file`` (where the lab writes it, what ``invoke image.build`` packages by default) and
  ``reference_model_source`` (the master notebook's worked solution of that cell).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import WorkshopError
from ..paths import NOTEBOOKS_DIR, cache_dir
from ..processes import KServeServerProcess, LocalModelServer
from ..runtime.model_file import check_model_file, file_digest, import_model_file, is_stale
from .chain import ServerChain, predictor_host_of

#: The file the lab's %%writefile cell writes, in the lab's folder of the cache.
MODEL_FILE_NAME = "iris_model.py"
LAB_FOLDER = "lab6"
TRANSFORMER_CLASS = "IrisTransformer"
PREDICTOR_CLASS = "IrisPredictor"
MASTER_NOTEBOOK = NOTEBOOKS_DIR / "06-custom-transformer.ipynb"
WRITEFILE_LINE = f"%%writefile {MODEL_FILE_NAME}"
PROTOCOLS = ("v1", "v2")


def lab_dir() -> Path:
    """The lab's folder in the workshop's cache (its model, its model file, its manifests)."""
    path = cache_dir() / LAB_FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def lab_model_file() -> Path:
    """Where Lab 6's ``%%writefile`` cell writes the model file (it may not exist yet)."""
    return cache_dir() / LAB_FOLDER / MODEL_FILE_NAME


def load_model_file(path: str | Path | None = None) -> ModuleType:
    """The model file (default: the lab's) imported afresh: run this after each %%writefile."""
    return import_model_file(path or lab_model_file())


def current(module: Any) -> Any:
    """``module`` itself, or the file it came from imported again when that file changed since."""
    return import_model_file(module.__file__) if is_stale(module) else module


def reference_model_source(master: Path = MASTER_NOTEBOOK) -> str:
    """The text of the master notebook's ``%%writefile iris_model.py`` cell (the worked solution)."""
    try:
        cells = json.loads(master.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError) as exc:
        raise WorkshopError(f"cannot read Lab 6's master notebook {master.name}: {exc}") from None
    for cell in cells:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "code" and source.split("\n", 1)[0].strip() == WRITEFILE_LINE:
            return source.split("\n", 1)[1] if "\n" in source else ""
    raise WorkshopError(f"{master.name} has no `{WRITEFILE_LINE}` cell")


class ModelFileServer(KServeServerProcess):
    """``model_class`` of ``model_file`` on KServe's model server, on 127.0.0.1.

    ``model_dir`` makes it a predictor built as ``CLASS(model_name, model_dir)``; ``predictor``
    (a started server, its URL or ``HOST:PORT``, read at start) makes it a transformer calling that
    predictor over ``predictor_protocol``.
    """

    entry_module = "kserve_workshop.runtime.model_file_server"

    def __init__(
        self,
        model_file: str | Path,
        model_class: str,
        model_name: str,
        *,
        model_dir: str | Path | None = None,
        predictor: Any = None,
        predictor_protocol: str = "v1",
        name: str | None = None,
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
    ):
        self.model_file = check_model_file(model_file)
        if not isinstance(model_class, str) or not model_class.isidentifier():
            raise WorkshopError(f"model_class must be a class name, not {model_class!r}", hint="e.g. 'IrisTransformer'")
        if model_dir is not None and predictor is not None:
            raise WorkshopError("a model file server is a predictor (model_dir) or a transformer (predictor), not both")
        if predictor_protocol not in PROTOCOLS:
            raise WorkshopError(f"predictor_protocol must be 'v1' or 'v2', not {predictor_protocol!r}")
        self.model_class = model_class
        self.model_dir = Path(model_dir).expanduser().resolve() if model_dir is not None else None
        if self.model_dir is not None and not self.model_dir.is_dir():
            raise WorkshopError(
                f"model directory {self.model_dir} does not exist",
                hint="save the trained model first, e.g. training.save_model(model, directory)",
            )
        self.predictor = predictor
        self.predictor_protocol = predictor_protocol
        #: sha256 of the file when the server last started (None before).
        self.started_digest: str | None = None
        super().__init__(
            model_name,
            name=name or f"{model_class}-{model_name}",
            port=port,
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            verbose=verbose,
        )

    def server_flags(self) -> list[str]:
        flags = ["--model_file", str(self.model_file), "--model_class", self.model_class]
        if self.model_dir is not None:
            flags += ["--model_dir", str(self.model_dir)]
        if self.predictor is not None:
            flags += [
                "--predictor_host",
                predictor_host_of(self.predictor),
                "--predictor_protocol",
                self.predictor_protocol,
            ]
        return flags

    def start(self) -> "ModelFileServer":
        digest = file_digest(check_model_file(self.model_file))
        super().start()
        self.started_digest = digest
        return self

    @property
    def runs_current_file(self) -> bool:
        """True when the server is running the file's present text."""
        return self.running and self.started_digest == file_digest(self.model_file)

    def command(self) -> str:
        """The command line it runs (``python -m ...``), paths relative to the model file's folder
        (the cache's other paths as ``.cache/...``)."""
        folder, cache = str(self.model_file.parent) + os.sep, str(cache_dir())
        return " ".join(
            ["python", *(part.replace(folder, "").replace(cache, ".cache") for part in self.argv(self.port or 0)[1:])]
        )


class ModelFileChain(ServerChain):
    """The file's transformer in front of its predictor (``predictor_class``), both on 127.0.0.1.

    With ``predictor_class=None`` the predictor is the workshop's sklearn server on ``model_dir``
    (what KServe's sklearn runtime is in a cluster). ``model_name`` is shared: KServe's transformer
    calls the predictor under its own name.
    """

    def __init__(
        self,
        model_file: str | Path,
        model_dir: str | Path,
        model_name: str,
        *,
        transformer_class: str = TRANSFORMER_CLASS,
        predictor_class: str | None = PREDICTOR_CLASS,
        startup_timeout: float = 60.0,
    ):
        if predictor_class is None:
            predictor: KServeServerProcess = LocalModelServer(model_dir, model_name, startup_timeout=startup_timeout)
        else:
            predictor = ModelFileServer(
                model_file, predictor_class, model_name, model_dir=model_dir, startup_timeout=startup_timeout
            )
        transformer = ModelFileServer(
            model_file, transformer_class, model_name, predictor=predictor, startup_timeout=startup_timeout
        )
        super().__init__(predictor, transformer)
