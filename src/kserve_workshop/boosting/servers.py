"""Lab 8's local model servers: one KServe model server per framework, on 127.0.0.1.

``RuntimeServer`` is the project's ``KServeServerProcess`` (free loopback port, bounded readiness
wait, logs in the cache, stopped with its parent) running ``boosting.server_main``.
``RuntimeServers`` starts one per framework and stops them all, whatever happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

from ..errors import WorkshopError
from ..processes import KServeServerProcess
from .models import ORDER, model_file
from .runtimes import framework


class RuntimeServer(KServeServerProcess):
    """KServe's model server with the model class of ``framework_key``'s runtime.

    with RuntimeServer("lightgbm", model_dir, "wine-lightgbm") as server:
        clients.infer_v2(server.url, server.model_name, rows)
    """

    entry_module = "kserve_workshop.boosting.server_main"

    def __init__(
        self,
        framework_key: str,
        model_dir: str | Path,
        model_name: str | None = None,
        *,
        nthread: int = 1,
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
    ):
        self.framework = framework(framework_key)
        self.model_dir = Path(model_dir).expanduser().resolve()
        model_file(self.model_dir, framework_key)  # a clear message now rather than a failed start
        self.nthread = nthread
        model_name = model_name or f"wine-{framework_key}"
        super().__init__(
            model_name,
            name=f"{framework_key}-server-{model_name}",
            port=port,
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            verbose=verbose,
        )

    def server_flags(self) -> list[str]:
        return ["--framework", self.framework.key, "--model_dir", str(self.model_dir), "--nthread", str(self.nthread)]


class RuntimeServers:
    """One ``RuntimeServer`` per framework (a context manager); ``servers["lightgbm"].url`` ..."""

    def __init__(
        self, model_dirs: Mapping[str, str | Path], *, name_prefix: str = "wine", startup_timeout: float = 60.0
    ):
        unknown = [key for key in model_dirs if key not in ORDER]
        if unknown or not model_dirs:
            raise WorkshopError(
                f"unknown framework(s) {unknown}" if unknown else "no model directories given",
                hint=f"give a directory for each of {', '.join(ORDER)}",
            )
        self.servers = {
            key: RuntimeServer(key, model_dirs[key], f"{name_prefix}-{key}", startup_timeout=startup_timeout)
            for key in ORDER
            if key in model_dirs
        }

    def __getitem__(self, key: str) -> RuntimeServer:
        return self.servers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.servers)

    def items(self):
        return self.servers.items()

    @property
    def pids(self) -> list[int]:
        return [server.pid for server in self.servers.values() if server.pid is not None]

    def start(self) -> "RuntimeServers":
        try:
            for server in self.servers.values():
                server.start()
        except BaseException:
            self.stop()  # never leave some of them running
            raise
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> "RuntimeServers":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
