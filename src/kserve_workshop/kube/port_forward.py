"""``kubectl port-forward`` to a Service, on 127.0.0.1, as a well-behaved local process.

A ``PortForward`` is a ``ServerProcess``: a free loopback port, a bounded wait until it works, a
log file under the cache, and a stop that always happens (``stop()``, the end of a ``with`` block,
garbage collection, interpreter exit, and the parent's death on Linux). The workshop reaches the
cluster's Prometheus and Grafana this way, and the Istio ingress when nothing else routes to it.
"""

from __future__ import annotations

from ..processes import LOOPBACK, ServerProcess


class PortForward(ServerProcess):
    """``kubectl port-forward svc/SERVICE LOCAL:REMOTE -n NAMESPACE`` on 127.0.0.1.

    Ready when ``ready_path`` answers HTTP 200 on the local port, or, with ``ready_path=None``
    (a Service that answers no fixed path, like an ingress gateway), when the port accepts a
    connection. ``kubectl`` missing is one clear error naming it.
    """

    def __init__(
        self,
        service: str,
        namespace: str,
        remote_port: int,
        *,
        ready_path: str | None = "/",
        context: str | None = None,
        kubectl: str = "kubectl",
        port: int | None = None,
        startup_timeout: float = 30.0,
    ):
        self.service = service
        self.namespace = namespace
        self.remote_port = remote_port
        self.context = context
        self.kubectl = kubectl
        ready = f"http://{LOOPBACK}:{{port}}{ready_path}" if ready_path is not None else f"tcp://{LOOPBACK}:{{port}}"
        super().__init__(
            self._build_argv, ready, port=port, name=f"port-forward-{service}", startup_timeout=startup_timeout
        )

    def _build_argv(self, port: int) -> list[str]:
        from . import lab_context

        # The labs' context (kube.lab_context) when none is given, never silently the current one.
        return [
            self.kubectl,
            "--context",
            lab_context(self.context),
            "port-forward",
            "--address",
            LOOPBACK,
            "-n",
            self.namespace,
            f"svc/{self.service}",
            f"{port}:{self.remote_port}",
        ]

    def start(self) -> "PortForward":
        from . import require_tools

        require_tools(self.kubectl)
        super().start()
        return self
