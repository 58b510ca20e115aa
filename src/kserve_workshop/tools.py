"""Pinned command-line tools (kind, helm, kubectl) in a project-local bin directory.

``install_tools()`` downloads each tool for this OS/architecture from the URL pinned in
``versions.toml``, checks its SHA-256 against the digest pinned there, and only then puts it in
place (atomically). A mismatch, a failed download or an unpinned platform installs nothing and
leaves no partial file behind. A tool already present at the pinned version is skipped.

Mirrors: set ``WORKSHOP_TOOLS_BASE_URL`` (or pass ``base_url``) to download from another server.
The mirror keeps the upstream paths without their host, e.g.
``<base>/kubernetes-sigs/kind/releases/download/<version>/kind-linux-amd64`` or
``<base>/helm-<version>-linux-amd64.tar.gz`` — handy for a workshop venue with poor Wi-Fi.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

import requests

from . import paths
from .console import console, info
from .errors import WorkshopError
from .versions import pin

TOOL_NAMES = ("kind", "helm", "kubectl")
BASE_URL_ENV = "WORKSHOP_TOOLS_BASE_URL"
_CHUNK = 1 << 16


def tool_env(bin_dir: Path | None = None) -> dict[str, str]:
    """A copy of ``os.environ`` with the project-local bin directory first on ``PATH``."""
    env = dict(os.environ)
    local = str(bin_dir or paths.bin_dir())
    env["PATH"] = os.pathsep.join([local, env.get("PATH", "")]) if env.get("PATH") else local
    return env


def use_local_tools(bin_dir: Path | None = None) -> None:
    """Put the project-local bin directory first on this process's ``PATH`` (for tasks' commands)."""
    local = str(bin_dir or paths.bin_dir())
    entries = os.environ.get("PATH", "").split(os.pathsep)
    if entries[:1] != [local]:
        os.environ["PATH"] = os.pathsep.join([local, *[e for e in entries if e != local and e]])


def which(name: str, bin_dir: Path | None = None) -> str | None:
    """Where ``name`` would be found, the project-local bin directory first."""
    return shutil.which(name, path=tool_env(bin_dir)["PATH"])


def platform_key(system: str | None = None, machine: str | None = None) -> str:
    """``linux-amd64``, ``darwin-arm64``...: the OS/arch naming the upstream releases use."""
    system = (system or platform.system()).lower()
    machine = (machine or platform.machine()).lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if system not in {"linux", "darwin"} or arch is None:
        raise WorkshopError(
            f"no pinned tool downloads for this platform ({system}/{machine})",
            hint="kind runs on Linux and macOS (amd64, arm64); on Windows use WSL2, "
            "or install kind, helm and kubectl yourself at the versions in versions.toml",
        )
    return f"{system}-{arch}"


@dataclass(frozen=True)
class ToolSpec:
    """One pinned download: where from, its expected SHA-256, and how to get the binary out."""

    name: str
    version: str
    url: str
    sha256: str
    #: Path of the binary inside a .tar.gz archive (helm); None when the download is the binary.
    archive_member: str | None = None


def tool_spec(name: str, platform_id: str | None = None, base_url: str | None = None) -> ToolSpec:
    """The pinned download of ``name`` for ``platform_id`` (default: this machine)."""
    if name not in TOOL_NAMES:
        raise WorkshopError(f"unknown tool {name!r}", hint=f"choose from: {', '.join(TOOL_NAMES)}")
    platform_id = platform_id or platform_key()
    os_name, arch = platform_id.split("-", 1)
    version = pin(name)
    checksums = pin(name, "sha256")
    digest = checksums.get(platform_id)
    if not digest:
        raise WorkshopError(
            f"versions.toml has no SHA-256 for {name} {version} on {platform_id} "
            f"([{name}.sha256] {platform_id}); refusing to install an unverified binary",
            hint=f"install {name} {version} yourself, or add the upstream checksum to versions.toml",
        )
    url = pin(name, "download_url").format(version=version, os=os_name, arch=arch)
    base = base_url if base_url is not None else os.environ.get(BASE_URL_ENV)
    if base:
        url = mirror_url(url, base)
    member = f"{os_name}-{arch}/{name}" if url.endswith(".tar.gz") else None
    return ToolSpec(name, version, url, digest.lower(), member)


def mirror_url(upstream: str, base: str) -> str:
    """``upstream`` served from ``base`` instead, keeping its path (see the module docstring)."""
    return base.rstrip("/") + urlsplit(upstream).path


# ----- what is installed ----------------------------------------------------------------------


def _version_output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


VERSION_COMMANDS: dict[str, list[str]] = {
    "kind": ["version"],
    "helm": ["version", "--short"],
    "kubectl": ["version", "--client", "-o", "json"],
    "docker": ["version", "--format", "{{.Client.Version}}"],
    "gcloud": ["version", "--format", "json"],
}


def parse_version(tool: str, output: str) -> str | None:
    """The version a tool's version command printed (``v0.30.0``, ``v3.16.3``...), or None."""
    output = output.strip()
    if not output:
        return None
    if tool == "kubectl":
        try:
            return json.loads(output)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError, TypeError):
            return None
    if tool == "gcloud":
        try:
            return json.loads(output)["Google Cloud SDK"]
        except (ValueError, KeyError, TypeError):
            return None
    first = output.split()
    if tool == "kind":  # "kind v0.30.0 go1.24.6 linux/amd64"
        return first[1] if len(first) > 1 and first[0] == "kind" else None
    if tool == "helm":  # "v3.16.3+gcfd0749"
        return first[0].split("+", 1)[0]
    return first[0]


def installed_version(
    tool: str, executable: str | Path, run: Callable[[list[str]], str] = _version_output
) -> str | None:
    """The version of the executable at ``executable``, asking the tool itself."""
    return parse_version(tool, run([str(executable), *VERSION_COMMANDS[tool]]))


def tools_to_install(
    names: Iterable[str] = TOOL_NAMES, version_of: Callable[[str, str], str | None] | None = None
) -> list[str]:
    """The tools that are not found, or not at their pinned version, where tasks look first."""
    version_of = version_of or installed_version
    missing = []
    for name in names:
        found = which(name)
        if found is None or version_of(name, found) != pin(name):
            missing.append(name)
    return missing


# ----- download, verify, install ---------------------------------------------------------------


def install_tools(
    names: Iterable[str] = TOOL_NAMES,
    *,
    dest: Path | None = None,
    base_url: str | None = None,
    platform_id: str | None = None,
    timeout: float = 60,
) -> dict[str, str]:
    """Install each pinned tool into ``dest`` (default ``paths.bin_dir()``).

    Returns ``{name: "installed" | "already installed"}``. Raises WorkshopError (after removing
    anything half-downloaded) on an unpinned platform, a failed download or a checksum mismatch.
    """
    dest = dest or paths.bin_dir()
    dest.mkdir(parents=True, exist_ok=True)
    specs = [tool_spec(name, platform_id, base_url) for name in names]  # refuse early, before any download
    outcome: dict[str, str] = {}
    for spec in specs:
        target = dest / spec.name
        if target.exists() and installed_version(spec.name, target) == spec.version:
            info(f"- {spec.name} {spec.version}: already installed ({target})")
            outcome[spec.name] = "already installed"
            continue
        install_one(spec, dest, timeout=timeout)
        info(f"✓ {spec.name} {spec.version} installed in {dest}")
        outcome[spec.name] = "installed"
    return outcome


def install_one(spec: ToolSpec, dest: Path, *, timeout: float = 60) -> Path:
    """Download, verify and install one tool; on any failure nothing is left in ``dest``."""
    target = dest / spec.name
    # Temporary names live in dest so the final rename is atomic; they are removed on any failure.
    handle, name = tempfile.mkstemp(prefix=f".{spec.name}-", suffix=".download", dir=dest)
    os.close(handle)
    download = Path(name)
    staged = download.with_suffix(".staged")
    try:
        digest = download_file(spec.url, download, timeout=timeout, label=f"{spec.name} {spec.version}")
        if digest != spec.sha256:
            raise WorkshopError(
                f"checksum mismatch for {spec.url}: expected sha256 {spec.sha256}, got {digest}. "
                f"The download was deleted and {spec.name} was not installed.",
                hint=f"a corrupted download or a tampered mirror; try again, and check {BASE_URL_ENV} if you set it",
            )
        if spec.archive_member:
            _extract_member(download, spec.archive_member, staged)
        else:
            download.replace(staged)
        staged.chmod(0o755)
        staged.replace(target)
        return target
    finally:
        for leftover in (download, staged):
            leftover.unlink(missing_ok=True)


def download_file(url: str, destination: Path, *, timeout: float = 60, label: str | None = None) -> str:
    """Stream ``url`` into ``destination`` with a progress bar; returns the SHA-256 hex digest."""
    sha = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise WorkshopError(
                    f"download failed: {url} answered HTTP {response.status_code}",
                    hint=f"check your network (or the mirror in {BASE_URL_ENV}) and try again",
                )
            total = int(response.headers.get("Content-Length") or 0) or None
            with destination.open("wb") as out, _DownloadProgress(label or url, total) as advance:
                for chunk in response.iter_content(_CHUNK):
                    out.write(chunk)
                    sha.update(chunk)
                    advance(len(chunk))
    except requests.RequestException as exc:
        raise WorkshopError(
            f"download failed: {url} ({type(exc).__name__}: {exc})",
            hint="check your network connection (or the mirror URL) and try again",
        ) from None
    return sha.hexdigest()


def _extract_member(archive: Path, member: str, out: Path) -> None:
    """Copy one file out of a .tar.gz by its exact name (nothing else is extracted)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            try:
                entry = tar.getmember(member)
            except KeyError:
                raise WorkshopError(f"{archive.name} has no {member}") from None
            source = tar.extractfile(entry) if entry.isfile() else None
            if source is None:
                raise WorkshopError(f"{member} in {archive.name} is not a regular file")
            with source, out.open("wb") as handle:
                shutil.copyfileobj(source, handle)
    except tarfile.TarError as exc:
        raise WorkshopError(f"cannot read the downloaded archive: {exc}") from None


class _DownloadProgress:
    """A rich progress bar on a terminal, a start and an end line otherwise."""

    def __init__(self, label: str, total: int | None):
        self.label, self.total = label, total
        self._bar = None
        self._task = None

    def __enter__(self) -> Callable[[int], None]:
        if console.is_terminal:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(f"downloading {self.label}", total=self.total)
            return lambda n: self._bar.advance(self._task, n)
        size = f" ({self.total / 1e6:.1f} MB)" if self.total else ""
        console.print(f"… downloading {self.label}{size}", markup=False)
        return lambda n: None

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
