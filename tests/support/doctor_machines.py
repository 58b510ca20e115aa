"""Simulated machines for the doctor: a laptop ready for the cluster tier (``Machine``) and one
ready for the local tier (``LocalMachine``), unless a test changes something. Shared by the doctor's
tests and the docs' check that the setup page's expected doctor output lists the real checks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from kserve_workshop.doctor import CommandOutput, Probes
from kserve_workshop.doctor_local import LocalProbes
from kserve_workshop.versions import pin

GIB = 1024**3


@dataclass
class Machine:
    """A simulated laptop: a healthy one unless a test changes something."""

    tools: dict = field(
        default_factory=lambda: {
            "docker": "28.2.2\n",
            "kind": f"kind {pin('kind')} go1.24.6 linux/amd64\n",
            "helm": f"{pin('helm')}+gcfd0749\n",
            "kubectl": json.dumps({"clientVersion": {"gitVersion": pin("kubectl")}}),
            "gcloud": json.dumps({"Google Cloud SDK": "528.0.0"}),
            "gke-gcloud-auth-plugin": "",
        }
    )
    docker_info: dict | None = field(
        default_factory=lambda: {
            "NCPU": 8,
            "MemTotal": 16 * GIB,
            "ServerVersion": "28.2.2",
            "OperatingSystem": "Docker Desktop",
        }
    )
    docker_error: str = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    kind_clusters: list = field(default_factory=list)
    busy_ports: set = field(default_factory=set)
    arch: str = "x86_64"
    os_name: str = "Linux"
    inotify: dict = field(default_factory=lambda: {"max_user_watches": "524288\n", "max_user_instances": "512\n"})
    context: str | None = "kind-kserve-workshop"

    def probes(self) -> Probes:
        return Probes(
            which=self.which,
            run=self.run,
            port_free=lambda host, port: port not in self.busy_ports,
            machine=lambda: self.arch,
            system=lambda: self.os_name,
            read_text=self.read_text,
            kube_context=lambda: self.context,
        )

    def which(self, name):
        return f"/usr/local/bin/{name}" if name in self.tools else None

    def run(self, argv):
        tool = os.path.basename(argv[0])
        if tool == "docker" and argv[1] == "info":
            if self.docker_info is None:
                return CommandOutput(1, json.dumps({"NCPU": 0}), self.docker_error)
            return CommandOutput(0, json.dumps(self.docker_info))
        if tool == "kind" and argv[1:] == ["get", "clusters"]:
            return CommandOutput(0, "".join(f"{name}\n" for name in self.kind_clusters))
        if tool in self.tools:
            return CommandOutput(0, self.tools[tool])
        return CommandOutput(127, "", f"{tool}: not found")

    def read_text(self, path):
        return self.inotify.get(path.rsplit("/", 1)[1])


@dataclass
class LocalMachine:
    """A simulated machine for the local tier: ready unless a test changes something."""

    python: tuple = (3, 11, 9)
    packages: dict = field(
        default_factory=lambda: {"kserve": pin("python", "kserve_sdk"), "scikit-learn": pin("python", "scikit_learn")}
    )
    prometheus: str | None = "/usr/bin/prometheus"
    loopback: bool = True
    schema: bool = True

    def probes(self) -> LocalProbes:
        return LocalProbes(
            python_version=lambda: self.python,
            package_version=self.packages.get,
            prometheus=lambda: self.prometheus,
            loopback_bindable=lambda: self.loopback,
            schema_cached=lambda: self.schema,
        )
