"""KServe's model server (and other ``kserve.ModelServer`` entry points) as local servers.

``KServeServerProcess`` is what every such server shares: readiness (server and model ready), quiet
logging unless ``verbose``, a log file capped in size (``runtime.server.cap_output``), the
parent-pid watch, and one running server per name (a re-run notebook cell replaces its server).
``LocalModelServer`` runs the workshop's sklearn predictor (``runtime.sklearn_server``) on a model
directory.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from ..errors import WorkshopError
from ..paths import cache_dir
from ..runtime.server import LOG_MAX_BYTES
from .lifecycle import LOOPBACK
from .logs import mtime, slug
from .server import ServerProcess


class KServeServerProcess(ServerProcess):
    """A KServe ``ModelServer`` for one model in a subprocess (``python -m ENTRY_MODULE``), on 127.0.0.1.

    What every such server shares: readiness (server and model ready), quiet logging unless
    ``verbose``, the parent-pid watch and the model's URLs. Subclasses name their entry module and
    add their own flags in ``server_flags``.
    """

    entry_module: str
    watches_parent = True
    #: The log file is rotated at this size (one previous part kept).
    log_max_bytes = LOG_MAX_BYTES

    def __init__(
        self,
        model_name: str,
        *,
        name: str,
        env: dict[str, str] | None = None,
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
    ):
        _check_model_name(model_name)
        self.model_name = model_name
        self.verbose = verbose
        env = dict(env or {})
        if not verbose:
            # kserve's FastAPI app warns on every request; the log stays small without it.
            env["PYTHONWARNINGS"] = "ignore"
        super().__init__(
            self._build_argv,
            [f"http://{LOOPBACK}:{{port}}/v2/health/ready", f"http://{LOOPBACK}:{{port}}/v2/models/{model_name}/ready"],
            port=port,
            env=env,
            name=name,
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            replaces=True,
        )

    def server_flags(self) -> list[str]:
        """The entry module's own flags (model directory, predictor host, ...)."""
        return []

    def _build_argv(self, port: int) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            self.entry_module,
            *self.server_flags(),
            "--model_name",
            self.model_name,
            "--http_port",
            str(port),
            "--parent_pid",
            str(os.getpid()),
        ]
        if self.log_path is not None:
            argv += ["--log_file", str(self.log_path), "--log_max_bytes", str(self.log_max_bytes)]
        if not self.verbose:
            argv += ["--configure_logging", "false", "--enable_latency_logging", "false"]
        return argv

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    @property
    def v1_url(self) -> str:
        return f"{self.url}/v1/models/{self.model_name}:predict"

    @property
    def v2_url(self) -> str:
        return f"{self.url}/v2/models/{self.model_name}/infer"


class LocalModelServer(KServeServerProcess):
    """KServe's model server with the workshop's sklearn predictor, on 127.0.0.1.

    ``model_dir`` must hold exactly one ``.joblib``/``.pkl``/``.pickle`` file, as for the cluster's
    sklearn runtime. ``predict_proba=True`` sets ``PREDICT_PROBA=true`` (class probabilities).
    Starting it stops a running server of the same ``name`` (default ``model-server-<model_name>``)
    started by this process: run two servers of one model side by side with two names.

        with LocalModelServer(model_dir) as server:
            predict_v1(server.url, server.model_name, DOCS_IRIS_INPUT)
    """

    entry_module = "kserve_workshop.runtime.sklearn_server"

    def __init__(
        self,
        model_dir: str | Path,
        model_name: str = "sklearn-iris",
        *,
        predict_proba: bool = False,
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
        name: str | None = None,
    ):
        from ..runtime.received import RECORD_ENV
        from ..runtime.sklearn_model import find_model_file  # checks the directory now, with a clear message

        self.model_dir = Path(model_dir).expanduser().resolve()
        find_model_file(self.model_dir)
        self.predict_proba = predict_proba
        name = name or f"model-server-{model_name}"
        #: The rows this server predicted and its answers (``received``): how a check knows it was asked.
        self.received_path = _new_record_path(name)
        super().__init__(
            model_name,
            name=name,
            port=port,
            env={"PREDICT_PROBA": "true" if predict_proba else "false", RECORD_ENV: str(self.received_path)},
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            verbose=verbose,
        )

    def server_flags(self) -> list[str]:
        return ["--model_dir", str(self.model_dir)]


#: Records of what model servers received (one per server object; the oldest are deleted beyond this).
KEEP_RECORDS = 50


def _new_record_path(name: str) -> Path:
    """A fresh ``runtime.received`` record file for a server called ``name`` (older ones pruned)."""
    directory = cache_dir() / "received"
    directory.mkdir(parents=True, exist_ok=True)
    records = sorted(directory.glob("*.jsonl"), key=mtime)
    for old in records[: max(0, len(records) - KEEP_RECORDS + 1)]:
        old.unlink(missing_ok=True)
    return directory / f"{slug(name)}-{uuid.uuid4().hex[:8]}.jsonl"


def _check_model_name(name: str) -> None:
    # The name goes into URL paths; KServe's own names are DNS labels (InferenceService names).
    if not isinstance(name, str) or not name or any(c in name for c in "/?#: ") or len(name) > 63:
        raise WorkshopError(
            f"invalid model name {name!r}", hint="use a short name like 'sklearn-iris' (letters, digits, '-', '.', '_')"
        )
