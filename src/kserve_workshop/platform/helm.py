"""Helm releases of the platform's components: one ``helm upgrade --install`` with its pinned chart
(``HelmRelease``), its state as ``helm list`` reports it, and the plan steps that install or remove it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..kube import helm_cmd
from ..plan import Runner, Step
from .base import diagnosis, run_json


def same_version(installed: str | None, pinned: str | None) -> bool:
    """True when two version strings name the same release, with or without a leading ``v``."""
    if not installed or not pinned:
        return False
    return str(installed).removeprefix("v") == str(pinned).removeprefix("v")


@dataclass(frozen=True)
class HelmRelease:
    """One ``helm upgrade --install`` with its chart, pinned version, values files and settings.

    ``--repo URL`` names the chart repository in the command itself, so nothing is added to the
    user's own helm repository list.
    """

    name: str
    chart: str
    namespace: str
    #: The pinned chart version (helm list reports the chart as "<chart_name>-<version>").
    version: str
    chart_name: str
    repo: str | None = None
    #: False when the chart reference (a release .tgz URL) already names the version.
    pass_version: bool = True
    values: tuple[Path, ...] = ()
    sets: tuple[tuple[str, str], ...] = ()
    timeout: str = "5m"

    def install_command(self, context: str) -> list[str]:
        argv = helm_cmd(
            context, "upgrade", "--install", self.name, self.chart, "--namespace", self.namespace, "--create-namespace"
        )
        if self.repo:
            argv += ["--repo", self.repo]
        if self.pass_version:
            argv += ["--version", self.version]
        for path in self.values:
            argv += ["--values", str(path)]
        for key, value in self.sets:
            argv += ["--set", f"{key}={value}"]
        return argv + ["--wait", "--timeout", self.timeout]

    def uninstall_command(self, context: str) -> list[str]:
        return helm_cmd(
            context,
            "uninstall",
            self.name,
            "--namespace",
            self.namespace,
            "--ignore-not-found",
            "--wait",
            "--timeout",
            self.timeout,
        )

    def list_command(self, context: str) -> list[str]:
        return helm_cmd(
            context,
            "list",
            "--namespace",
            self.namespace,
            "--filter",
            f"^{re.escape(self.name)}$",
            "--all",
            "--output",
            "json",
        )

    def state(self, runner: Runner, context: str) -> tuple[str | None, str | None]:
        """(installed chart version, helm status), (None, None) when the release does not exist.

        The version is given in the pin's spelling when the two are the same release: a chart's
        own version may lack the pin's ``v`` (the Knative operator's release ``v1.21.1`` packages
        chart version ``1.21.1``, so ``helm list`` says ``knative-operator-1.21.1``).
        """
        found = run_json(runner, self.list_command(context))
        for entry in found if isinstance(found, list) else []:
            if isinstance(entry, dict) and entry.get("name") == self.name:
                chart = str(entry.get("chart", ""))
                prefix = f"{self.chart_name}-"
                version = chart[len(prefix) :] if chart.startswith(prefix) else chart
                return (self.version if same_version(version, self.version) else version), entry.get("status")
        return None, None

    def is_deployed(self, runner: Runner, context: str) -> bool:
        """Deployed at the pinned version (an older or failed release is installed again)."""
        return self.state(runner, context) == (self.version, "deployed")


def install_release_step(
    context: str,
    release: HelmRelease,
    *,
    title: str | None = None,
    waits: Sequence[list[str]] = (),
    attempts: int = 1,
    retry_delay: float = 0,
    diagnose: Callable[[Runner], str] | None = None,
) -> Step:
    return Step(
        title=title or f"helm release {release.name} ({release.chart_name} {release.version})",
        command=release.install_command(context),
        is_done=lambda runner: release.is_deployed(runner, context),
        waits=list(waits),
        attempts=attempts,
        retry_delay=retry_delay,
        diagnose=diagnose or diagnosis(context, release.namespace),
    )


def uninstall_release_step(context: str, release: HelmRelease) -> Step:
    return Step(
        title=f"uninstall helm release {release.name}",
        command=release.uninstall_command(context),
        is_done=lambda runner: release.state(runner, context) == (None, None),
    )
