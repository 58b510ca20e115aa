"""One way to load kube config: the context asked for (the current one when None), from
``$KUBECONFIG`` as it is *now* (else ``~/.kube/config``), into a fresh configuration object.

The kubernetes client reads ``KUBECONFIG`` once, when it is first imported, and its
``load_kube_config`` (like ``KServeClient(context=...)``) rewrites the process-wide default
configuration; nothing here does either, so two contexts can be used side by side and a
``KUBECONFIG`` set in a notebook or a test is honoured.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..errors import WorkshopError
from . import kubeconfig_path


@contextmanager
def kubeconfig_errors(context: str | None) -> Iterator[None]:
    """A kubeconfig that cannot be read, or lacks ``context``, becomes one clear ``WorkshopError``."""
    from kubernetes.config.config_exception import ConfigException

    try:
        yield
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkshopError(
            f"no usable kube context{f' {context!r}' if context else ''}: {first}",
            hint="create the workshop cluster with `invoke up`, or pick a context with "
            "`kubectl config use-context` (`kubectl config get-contexts` lists them)",
        ) from None


def load_configuration(context: str | None = None, *, retries: int | None = None):
    """A ``kubernetes.client.Configuration`` for ``context``; ``retries`` bounds urllib3's retries."""
    from kubernetes import client, config

    configuration = client.Configuration()
    with kubeconfig_errors(context):
        config.load_kube_config(config_file=kubeconfig_path(), context=context, client_configuration=configuration)
    if retries is not None:
        configuration.retries = retries
    return configuration


def api_client(context: str | None = None, *, retries: int | None = None):
    """A ``kubernetes.client.ApiClient`` for ``context``; when None, the labs' context
    (``kube.lab_context()``: the same cluster ``storage.upload_model`` puts models in, never
    whatever context happens to be current). Every helper below builds on this one."""
    from kubernetes import client

    from . import lab_context

    return client.ApiClient(load_configuration(lab_context(context), retries=retries))


def core_api(context: str | None = None):
    """A ``CoreV1Api`` for ``context``."""
    from kubernetes import client

    return client.CoreV1Api(api_client(context))


def custom_objects_api(context: str | None = None):
    """A ``CustomObjectsApi`` for ``context`` (InferenceServices and other custom resources)."""
    from kubernetes import client

    return client.CustomObjectsApi(api_client(context))


def kserve_client(context: str | None = None):
    """The KServe SDK's ``KServeClient`` for ``context``, its API objects bound to this module's loader.

    ``KServeClient(context=...)`` alone loads the context into the process-wide default
    configuration, and its API objects always use that default.
    """
    from kserve import KServeClient
    from kubernetes import client

    shared = api_client(context)
    with kubeconfig_errors(context):  # loads into a throwaway configuration: the default stays untouched
        sdk = KServeClient(config_file=kubeconfig_path(), context=context, client_configuration=client.Configuration())
    sdk.core_api = client.CoreV1Api(shared)
    sdk.app_api = client.AppsV1Api(shared)
    sdk.api_instance = client.CustomObjectsApi(shared)
    sdk.hpa_v2_api = client.AutoscalingV2Api(shared)
    return sdk


#: How long a task waits for the API server's first answer before it says the cluster does not answer.
REACHABLE_TIMEOUT = 5.0


def require_reachable(context: str, *, timeout: float | None = None) -> None:
    """One ``GET /version`` bounded by ``timeout`` (default ``REACHABLE_TIMEOUT``), no retries: a dead or
    hung cluster is one clear error before a task starts, instead of a wall of kubectl errors later."""
    from kubernetes import client

    timeout = REACHABLE_TIMEOUT if timeout is None else timeout
    api = api_client(context, retries=0)
    try:
        client.VersionApi(api).get_code(_request_timeout=(timeout, timeout))
    except Exception as exc:  # noqa: BLE001 - whatever it is, the cluster did not answer
        text = str(exc).strip()
        detail = text.splitlines()[0] if text else type(exc).__name__
        host = api.configuration.host
        raise WorkshopError(
            f"the cluster of kube context {context!r} ({host}) does not answer within {timeout:g} s: {detail[:300]}",
            hint="is it running? `kubectl cluster-info --context " + context + "`; a kind cluster "
            "needs Docker running (`invoke doctor`), a new one is created with `invoke up`",
        ) from None
    finally:
        api.close()
