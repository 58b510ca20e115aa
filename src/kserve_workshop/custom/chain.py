"""Lab 6 on this machine: the transformer and the predictor as two KServe servers on 127.0.0.1.

``LocalTransformer`` runs ``runtime.transformer_server`` (the reference transformer) as a
``processes.KServeServerProcess`` (free loopback port, bounded readiness wait, quiet log file,
stopped with its parent); ``ServerChain`` starts a predictor and a transformer pointing at it, as
KServe does in a cluster, and ``LocalChain`` is that chain with the iris predictor
(``processes.LocalModelServer``) and the reference transformer. A learner's own classes run the
same way (``custom.model_file``). ``predict_labels`` and ``post`` call a chain, local or behind the ingress, over V1 or V2.

    with LocalChain(model_dir) as chain:
        predict_labels(chain.url, chain.model_name, DOCS_FLOWERS, protocol="v2")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

import requests

from ..dataplane.client import error_text, post_json, predict_url
from ..dataplane.payloads import PayloadError, v2_outputs
from ..errors import WorkshopError
from ..processes import KServeServerProcess, LocalModelServer
from ..runtime.features import v1_request, v2_request

DEFAULT_NAME = "iris-transformer"
PROTOCOLS = ("v1", "v2")


def _check_protocol(protocol: str, what: str = "protocol") -> None:
    if protocol not in PROTOCOLS:
        raise WorkshopError(f"{what} must be 'v1' or 'v2', not {protocol!r}")


def predictor_host_of(predictor: Any) -> str:
    """``HOST:PORT`` for ``--predictor_host``, from a running server, a URL or ``HOST:PORT`` itself."""
    url = getattr(predictor, "url", predictor)
    if not isinstance(url, str) or not url:
        raise WorkshopError(
            f"cannot tell the predictor's address from {predictor!r}",
            hint="pass a started LocalModelServer, its url, or 'HOST:PORT'",
        )
    parts = urlsplit(url)
    netloc = parts.netloc if "://" in url else url
    if not netloc or "/" in netloc or ("://" in url and parts.path not in ("", "/")):
        raise WorkshopError(f"the predictor's address must be HOST:PORT (or http://HOST:PORT), got {url!r}")
    return netloc


class LocalTransformer(KServeServerProcess):
    """The iris transformer (``runtime.transformer_server``) on 127.0.0.1, calling ``predictor``.

    ``predictor`` is a ``LocalModelServer`` (read when the transformer starts, so it may be started
    just before), a URL or ``HOST:PORT``. ``model_name`` must be the predictor's model name: KServe
    forwards ``/v1/models/<name>:predict`` under the same name, as in a cluster.
    """

    entry_module = "kserve_workshop.runtime.transformer_server"

    def __init__(
        self,
        model_name: str,
        predictor: Any,
        *,
        predictor_protocol: str = "v1",
        port: int | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        verbose: bool = False,
    ):
        _check_protocol(predictor_protocol, "predictor_protocol")
        self.predictor = predictor
        self.predictor_protocol = predictor_protocol
        super().__init__(
            model_name,
            name=f"transformer-{model_name}",
            port=port,
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            verbose=verbose,
        )

    def server_flags(self) -> list[str]:
        return ["--predictor_host", predictor_host_of(self.predictor), "--predictor_protocol", self.predictor_protocol]


class ServerChain:
    """A predictor and a transformer calling it, started and stopped together (a context manager)."""

    def __init__(self, predictor: KServeServerProcess, transformer: KServeServerProcess):
        self.predictor = predictor
        self.transformer = transformer
        self.model_name = transformer.model_name

    @property
    def url(self) -> str:
        """Where clients send requests: the transformer."""
        return self.transformer.url

    @property
    def pids(self) -> list[int]:
        return [pid for pid in (self.predictor.pid, self.transformer.pid) if pid is not None]

    def start(self) -> "ServerChain":
        self.predictor.start()
        try:
            self.transformer.start()
        except BaseException:
            self.predictor.stop()  # never leave half a chain running
            raise
        return self

    def stop(self) -> None:
        self.transformer.stop()
        self.predictor.stop()

    def __enter__(self) -> "ServerChain":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class LocalChain(ServerChain):
    """The workshop's reference chain: the iris predictor and ``runtime.transformer``'s transformer."""

    def __init__(
        self,
        model_dir: str | Path,
        model_name: str = DEFAULT_NAME,
        *,
        predictor_protocol: str = "v1",
        startup_timeout: float = 60.0,
    ):
        predictor = LocalModelServer(model_dir, model_name, startup_timeout=startup_timeout)
        super().__init__(
            predictor,
            LocalTransformer(
                model_name, predictor, predictor_protocol=predictor_protocol, startup_timeout=startup_timeout
            ),
        )


# ---------------------------------------------------------------------------------- calling it


def endpoint(base_url: str, model_name: str, protocol: str) -> str:
    """``/v1/models/<name>:predict`` or ``/v2/models/<name>/infer`` under ``base_url``."""
    return predict_url(base_url, model_name, protocol)


def post(
    base_url: str,
    model_name: str,
    body: Any,
    *,
    protocol: str = "v1",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> requests.Response:
    """POST any JSON ``body`` (well-formed or not) and return the raw answer; no checks on either side."""
    return post_json(
        endpoint(base_url, model_name, protocol),
        body,
        headers=headers,
        timeout=timeout,
        hint="is the chain running? (chain.start())",
    )


def error_message(response: requests.Response) -> str:
    """The ``error`` text of a KServe error answer (or the raw body)."""
    return error_text(response)


def predict_labels(
    base_url: str,
    model_name: str,
    flowers: Sequence[Mapping[str, float]],
    *,
    protocol: str = "v1",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> list[str]:
    """Class names for named ``flowers``, through the transformer, over V1 or V2.

    A 400 answer (the transformer or predictor rejected the request) raises ``PayloadError`` with the
    server's message; any other failure a ``WorkshopError``.
    """
    body = v1_request(flowers) if protocol == "v1" else v2_request(flowers)
    response = post(base_url, model_name, body, protocol=protocol, headers=headers, timeout=timeout)
    if response.status_code == 400:
        raise PayloadError(
            f"the transformer rejected the request: {error_message(response)}",
            hint="each flower needs sepal_length, sepal_width, petal_length, petal_width (numbers)",
        )
    if not response.ok:
        raise WorkshopError(f"{response.url} answered HTTP {response.status_code}: {error_message(response)}")
    answer = response.json()
    if protocol == "v1":
        if not isinstance(answer, dict) or "predictions" not in answer:
            raise WorkshopError(f"unexpected V1 answer (no 'predictions'): {str(answer)[:200]}")
        return list(answer["predictions"])
    return list(v2_outputs(answer, "label"))
