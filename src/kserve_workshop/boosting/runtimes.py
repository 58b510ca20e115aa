"""What KServe v0.20.0 knows about the runtimes Lab 8 uses, and how it picks one for a model.

Facts, each from the upstream source named beside it (kserve/kserve at tag v0.20.0):

* ``FRAMEWORKS``: per framework, the files its runtime loads, the library that loads them and the
  versions the runtime image accepts (``python/<server>/<server>/model.py`` and ``pyproject.toml``,
  ``uv.lock`` for the locked version).
* ``CLUSTER_RUNTIMES``: the ClusterServingRuntimes as ``kserve-runtime-configs`` installs them
  (``charts/kserve-runtime-configs/files/runtimes/resources.yaml`` and ``values.yaml``):
  supported model formats with version, autoSelect and priority, protocol versions, image.
* ``choose_runtime``: the selection rule of ``pkg/apis/serving/v1beta1/predictor_model.go``
  (``GetSupportingRuntimes``, ``RuntimeSupportsModel``) and of ``reconcileModel`` in
  ``pkg/controller/v1beta1/inferenceservice/components/predictor.go``, written here as a table
  lookup to explain it; the controller remains the authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ..errors import WorkshopError
from ..versions import pin

# ------------------------------------------------------------------------------------ frameworks


@dataclass(frozen=True)
class Framework:
    """A model framework as its KServe runtime sees it."""

    key: str  # the name Lab 8 uses: sklearn, lightgbm, xgboost
    label: str
    model_format: str  # spec.predictor.model.modelFormat.name
    runtime: str  # the ClusterServingRuntime that serves it on its own
    extensions: tuple[str, ...]  # files the runtime loads (exactly one per model directory)
    filename: str  # what Lab 8 saves
    library: str  # import name of the library that loads the file
    distributions: tuple[str, ...]  # PyPI names that provide it
    pin_key: str  # [python] key in versions.toml
    accepts: str  # the runtime image's requirement on the library
    source: str  # upstream path of the runtime's model class

    @property
    def pinned(self) -> str:
        return pin("python", self.pin_key)


FRAMEWORKS: dict[str, Framework] = {
    "sklearn": Framework(
        "sklearn",
        "scikit-learn",
        "sklearn",
        "kserve-sklearnserver",
        (".joblib", ".pkl", ".pickle"),
        "model.joblib",
        "sklearn",
        ("scikit-learn",),
        "scikit_learn",
        "~=1.5.1",
        "python/sklearnserver/sklearnserver/model.py",
    ),
    "lightgbm": Framework(
        "lightgbm",
        "LightGBM",
        "lightgbm",
        "kserve-lgbserver",
        (".bst",),
        "model.bst",
        "lightgbm",
        ("lightgbm",),
        "lightgbm",
        "~=4.6.0",
        "python/lgbserver/lgbserver/model.py",
    ),
    "xgboost": Framework(
        "xgboost",
        "XGBoost",
        "xgboost",
        "kserve-xgbserver",
        (".bst", ".json", ".ubj"),
        "model.json",
        "xgboost",
        ("xgboost", "xgboost-cpu"),
        "xgboost",
        "~=2.1.1",
        "python/xgbserver/xgbserver/model.py",
    ),
}


def framework(key: str) -> Framework:
    """The framework called ``key`` (``sklearn``, ``lightgbm`` or ``xgboost``)."""
    try:
        return FRAMEWORKS[key]
    except (KeyError, TypeError):
        raise WorkshopError(f"unknown framework {key!r}", hint=f"choose one of {', '.join(FRAMEWORKS)}") from None


def installed_version(fw: Framework) -> str | None:
    """The installed version of the framework's library (None when it is not installed)."""
    for distribution in fw.distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_problem(key: str, installed: str | None = None) -> str | None:
    """Why models saved here may not load in the framework's runtime image (None when they will).

    The rule is the image's own requirement (``lightgbm~=4.6.0``, ``xgboost~=2.1.1``,
    ``scikit-learn~=1.5.1``): a model written by a library outside it is refused, as
    ``training.save_model`` refuses a scikit-learn other than the pinned one.
    """
    fw = framework(key)
    version = installed if installed is not None else installed_version(fw)
    if version is None:
        return f"{fw.label} is not installed (the {fw.runtime} runtime loads models made with {fw.accepts[2:]})"
    if Version(version) not in SpecifierSet(fw.accepts):
        return (
            f"{fw.label} {version} is installed, but KServe's {fw.runtime} image loads models with "
            f"{fw.library}{fw.accepts} ({fw.pinned} in the image); a model saved by another version may "
            "fail to load there"
        )
    return None


def require_library(key: str) -> None:
    problem = library_problem(key)
    if problem:
        fw = framework(key)
        raise WorkshopError(
            problem,
            hint=f"install {fw.library} {fw.pinned}, the workshop's pin: scripts/bootstrap.sh "
            "(pip install -e . in the workshop's virtualenv)",
        )


def import_library(key: str):
    """Import the framework's library, turning a broken install into one clear error.

    On macOS the LightGBM and XGBoost wheels need the OpenMP runtime (``brew install libomp``);
    without it the import fails with an OSError (LightGBM) or an XGBoostError (XGBoost).
    """
    import importlib

    fw = framework(key)
    try:
        return importlib.import_module(fw.library)
    except ImportError as exc:
        raise WorkshopError(
            f"{fw.label} is not installed: {exc}", hint="reinstall the workshop's packages: scripts/bootstrap.sh"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - OSError / XGBoostError from a missing shared library
        raise WorkshopError(
            f"{fw.label} is installed but cannot load its native library: {exc}",
            hint="on macOS install the OpenMP runtime: brew install libomp",
        ) from exc


# ------------------------------------------------------------------------------- cluster runtimes


@dataclass(frozen=True)
class SupportedFormat:
    name: str
    version: str
    auto_select: bool
    priority: int


@dataclass(frozen=True)
class ClusterRuntime:
    """A ClusterServingRuntime as ``kserve-runtime-configs`` installs it."""

    name: str
    formats: tuple[SupportedFormat, ...]
    protocols: tuple[str, ...]
    server: str  # image repository name (kserve/<server>) or "mlserver"
    arm64: bool  # is there an arm64 image?

    @property
    def image(self) -> str:
        if self.server == "mlserver":
            return pin("runtimes", "mlserver_image")
        return f"kserve/{self.server}:{pin('kserve')}"

    def format(self, name: str, version: str | None = None) -> SupportedFormat | None:
        for entry in self.formats:
            if entry.name == name and (version is None or entry.version == version):
                return entry
        return None


def _formats(*entries: tuple[str, str, bool, int]) -> tuple[SupportedFormat, ...]:
    return tuple(SupportedFormat(*entry) for entry in entries)


#: The runtimes that serve the three frameworks (others in the chart serve other formats).
#: arm64: KServe publishes its servers for linux/amd64 and linux/arm64/v8
#: (.github/workflows/*-docker-publish.yml); MLServer has no arm64 image (kserve#4436, #4261).
CLUSTER_RUNTIMES: tuple[ClusterRuntime, ...] = (
    ClusterRuntime("kserve-sklearnserver", _formats(("sklearn", "1", True, 1)), ("v1", "v2"), "sklearnserver", True),
    ClusterRuntime("kserve-lgbserver", _formats(("lightgbm", "4", True, 1)), ("v1", "v2"), "lgbserver", True),
    ClusterRuntime("kserve-xgbserver", _formats(("xgboost", "2", True, 1)), ("v1", "v2"), "xgbserver", True),
    ClusterRuntime(
        "kserve-predictiveserver",
        _formats(("sklearn", "1", False, 3), ("xgboost", "2", False, 3), ("lightgbm", "4", False, 3)),
        ("v1", "v2"),
        "predictiveserver",
        True,
    ),
    ClusterRuntime(
        "kserve-mlserver",
        _formats(
            ("sklearn", "0", True, 2),
            ("sklearn", "1", True, 2),
            ("xgboost", "1", True, 2),
            ("xgboost", "2", True, 2),
            ("lightgbm", "3", True, 2),
            ("lightgbm", "4", True, 2),
            ("mlflow", "1", True, 1),
            ("mlflow", "2", True, 1),
        ),
        ("v2",),
        "mlserver",
        False,
    ),
)


def cluster_runtime(name: str) -> ClusterRuntime:
    for runtime in CLUSTER_RUNTIMES:
        if runtime.name == name:
            return runtime
    raise WorkshopError(
        f"unknown ClusterServingRuntime {name!r}", hint=f"Lab 8 knows {', '.join(r.name for r in CLUSTER_RUNTIMES)}"
    )


@dataclass(frozen=True)
class RuntimeChoice:
    """What the controller would do with one predictor spec."""

    runtime: str | None  # None: the InferenceService is not served
    reason: str  # NoSupportingRuntime / RuntimeNotRecognized, or why this runtime won
    candidates: tuple[str, ...] = ()


def choose_runtime(
    model_format: str,
    *,
    version: str | None = None,
    protocol: str | None = None,
    runtime: str | None = None,
    runtimes: tuple[ClusterRuntime, ...] = CLUSTER_RUNTIMES,
) -> RuntimeChoice:
    """Which ClusterServingRuntime serves ``modelFormat: {name, version}`` with ``protocolVersion``.

    * A runtime supports a model when it lists the format name (and the version, when the model
      gives one). Without ``runtime:`` only formats with ``autoSelect: true`` count.
    * The protocol is the model's ``protocolVersion``, ``v1`` when unset; the runtime must list it.
    * Among the candidates the highest ``priority`` for that format name wins.
    * With ``runtime:`` the named runtime must exist, support the protocol and the format
      (autoSelect does not matter then).
    """
    wanted_protocol = protocol or "v1"
    if runtime is not None:
        found = [r for r in runtimes if r.name == runtime]
        if not found:
            return RuntimeChoice(None, f"RuntimeNotRecognized: no runtime named {runtime}")
        chosen = found[0]
        if protocol is not None and protocol not in chosen.protocols:
            return RuntimeChoice(None, f"NoSupportingRuntime: {runtime} does not speak {protocol}")
        if not _supports(chosen, model_format, version, named=True):
            return RuntimeChoice(None, f"NoSupportingRuntime: {runtime} does not list {_label(model_format, version)}")
        return RuntimeChoice(runtime, "named in the spec", (runtime,))
    candidates = [
        r for r in runtimes if _supports(r, model_format, version, named=False) and wanted_protocol in r.protocols
    ]
    if not candidates:
        return RuntimeChoice(
            None, f"NoSupportingRuntime: no runtime auto-selects {_label(model_format, version)} over {wanted_protocol}"
        )
    ranked = sorted(candidates, key=lambda r: -r.format(model_format).priority)
    best = ranked[0]
    names = tuple(r.name for r in ranked)
    if len(ranked) == 1:
        return RuntimeChoice(
            best.name, f"the only runtime for {_label(model_format, version)} over {wanted_protocol}", names
        )
    return RuntimeChoice(
        best.name, f"highest priority ({best.format(model_format).priority}) among {', '.join(names)}", names
    )


def _supports(runtime: ClusterRuntime, model_format: str, version: str | None, *, named: bool) -> bool:
    return any(
        entry.name == model_format and (version is None or entry.version == version) and (named or entry.auto_select)
        for entry in runtime.formats
    )


def _label(model_format: str, version: str | None) -> str:
    return f"{model_format} (version {version})" if version else model_format
