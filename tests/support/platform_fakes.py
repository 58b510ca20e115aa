"""A cluster's answers for plan tests: invoke's ``MockContext`` whose ``run`` answers the read-only
commands (``helm list``, ``kubectl get ... -o json``) from a described state and records every
command. Commands that change something succeed unless listed in ``failures``.

Not a cluster: nothing here speaks Kubernetes' API; it only feeds the plan runner the outputs
that the real tools print, so the tests see which commands a plan runs, in which order.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from invoke import MockContext, Result

from kserve_workshop.plan import Runner

ISVC_RESOURCE = "inferenceservices.serving.kserve.io"


@dataclass
class ClusterState:
    #: release name -> (chart as helm list prints it, status)
    releases: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: (kind, name, namespace or None) -> object
    objects: dict[tuple[str, str, str | None], dict] = field(default_factory=dict)
    #: namespace -> Deployments (as `kubectl get deployments -o json` items)
    deployments: dict[str, list[dict]] = field(default_factory=dict)
    #: namespace -> pods
    pods: dict[str, list[dict]] = field(default_factory=dict)
    #: regexes: a command matching one exits 1 (stderr says so)
    failures: list[str] = field(default_factory=list)
    #: answers for other commands: regex -> stdout
    outputs: dict[str, str] = field(default_factory=dict)
    bucket_exists: bool = False
    #: InferenceServices in the cluster (None: the CRD is not installed, so the API has no such type).
    inferenceservices: list[dict] | None = None

    def add(self, obj: dict) -> None:
        meta = obj["metadata"]
        self.objects[(obj["kind"].lower(), meta["name"], meta.get("namespace"))] = obj

    def answer(self, command: str) -> Result:
        for pattern in self.failures:
            if re.search(pattern, command):
                return Result(command=command, exited=1, stderr=f"fake failure of: {command}")
        for pattern, stdout in self.outputs.items():
            if re.search(pattern, command):
                return Result(command=command, stdout=stdout, exited=0)
        argv = shlex.split(command)
        if argv[0] == "kubectl" and len(argv) > 4 and argv[4] == ISVC_RESOURCE and argv[3] in ("get", "delete"):
            return self._isvcs(command, argv[3])
        if argv[0] == "helm" and "list" in argv:
            name = argv[argv.index("--filter") + 1].strip("^$").replace("\\", "")
            found = (
                [{"name": name, "chart": self.releases[name][0], "status": self.releases[name][1]}]
                if name in self.releases
                else []
            )
            return Result(command=command, stdout=json.dumps(found))
        if argv[0] == "kubectl" and len(argv) > 3 and argv[3] == "get" and "json" in argv:
            return self._get(command, argv)
        if "s3.bucket.list" in command and "s3.bucket.create" not in command:
            return Result(command=command, exited=0 if self.bucket_exists else 1)
        return Result(command=command, exited=0)

    def _isvcs(self, command: str, verb: str) -> Result:
        """What kubectl 1.34 answers for InferenceServices in all namespaces (get -o json, delete)."""
        if self.inferenceservices is None:
            return Result(
                command=command, exited=1, stderr='error: the server doesn\'t have a resource type "inferenceservices"'
            )
        if verb == "get":
            return Result(
                command=command,
                stdout=json.dumps({"apiVersion": "v1", "kind": "List", "items": self.inferenceservices}),
            )
        # kubectl pkg/cmd/delete/delete.go PrintObj: one line per object, with its namespace.
        lines = [
            f'inferenceservice.serving.kserve.io "{item["metadata"]["name"]}" deleted from '
            f"{item['metadata']['namespace']} namespace"
            for item in self.inferenceservices
        ]
        if not lines:
            return Result(command=command, stdout="", stderr="No resources found\n")
        return Result(command=command, stdout="\n".join(lines) + "\n")

    def _get(self, command: str, argv: list[str]) -> Result:
        kind = argv[4]
        namespace = argv[argv.index("--namespace") + 1] if "--namespace" in argv else None
        if kind == "deployments":
            return Result(command=command, stdout=json.dumps({"items": self.deployments.get(namespace, [])}))
        if kind == "pods":
            return Result(command=command, stdout=json.dumps({"items": self.pods.get(namespace, [])}))
        found = self.objects.get((kind, argv[5], namespace))
        if found is None:
            return Result(
                command=command, exited=1, stderr=f'Error from server (NotFound): {kind} "{argv[5]}" not found'
            )
        return Result(command=command, stdout=json.dumps(found))


class ClusterContext(MockContext):
    """``MockContext`` answering from a ``ClusterState``; ``ctx.run`` stays a Mock (call_args_list)."""

    def __init__(self, state: ClusterState | None = None):
        super().__init__(run=Result())
        self._set("state", state or ClusterState())
        self._set("run", _Recorder(self.state))

    @property
    def commands(self) -> list[str]:
        return list(self.run.commands)

    def changes(self) -> list[str]:
        """Commands that are not read-only look-ups."""
        return [c for c in self.commands if not _is_read(c)]


class _Recorder:
    def __init__(self, state: ClusterState):
        self.state = state
        self.commands: list[str] = []
        self.stdin: list[object] = []

    def __call__(self, command: str, *args, **kwargs) -> Result:
        self.commands.append(command)
        self.stdin.append(kwargs.get("in_stream"))
        return self.state.answer(command)


_READ = re.compile(
    r"^(helm --kube-context \S+ list |kubectl --context \S+ get |.*s3\.bucket\.list \| weed shell \| grep -qw \w+'?$)"
)


def _is_read(command: str) -> bool:
    return bool(_READ.match(command))


def deployment(name: str, *, replicas: int = 1, available: int = 1, image: str = "x", generation: int = 1) -> dict:
    return {
        "metadata": {"name": name, "generation": generation},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": name, "image": image}]}}},
        "status": {"availableReplicas": available, "updatedReplicas": available, "observedGeneration": generation},
    }


def isvc(name: str, namespace: str = "default", *, deleting: bool = False) -> dict:
    """An InferenceService as `kubectl get -o json` shows it, with the finalizer KServe's controller adds."""
    meta = {"name": name, "namespace": namespace, "generation": 1, "finalizers": ["inferenceservice.finalizers"]}
    if deleting:
        meta["deletionTimestamp"] = "2026-08-21T12:00:00Z"
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": meta,
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model",
                }
            }
        },
    }


def ready_pod(name: str, ready: bool = True) -> dict:
    return {
        "metadata": {"name": name},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def runner(state: ClusterState | None = None, **kwargs) -> tuple[Runner, ClusterContext]:
    ctx = ClusterContext(state)
    return Runner(ctx, **kwargs), ctx


def installed_state(context: str, profile_name: str = "laptop") -> ClusterState:
    """A cluster where every component is installed at the pins of versions.toml and Ready."""
    import copy

    from kserve_workshop.platform import components, get_profile
    from kserve_workshop.platform.ingressclass import MANIFEST as INGRESSCLASS
    from kserve_workshop.platform.base import load_yaml_all
    from kserve_workshop.platform import seaweedfs, storage
    from kserve_workshop.platform.monitoring import PODMONITOR
    from kserve_workshop.versions import pin

    profile = get_profile(profile_name)
    state = ClusterState(bucket_exists=True, inferenceservices=[])
    by_name = {component.name: component for component in components(context)}
    for name, chart in [
        ("cert-manager", f"cert-manager-{pin('cert_manager')}"),
        ("istio-base", f"base-{pin('istio')}"),
        ("istiod", f"istiod-{pin('istio')}"),
        ("istio-ingressgateway", f"gateway-{pin('istio')}"),
        # The operator's release v1.21.1 packages chart version 1.21.1 (no "v"):
        # knative/operator hack/generate-helm.sh sets Chart.yaml's version to ${TAG:1}.
        ("knative-operator", f"knative-operator-{pin('knative', 'operator_version').removeprefix('v')}"),
        ("kserve-crd", f"kserve-crd-{pin('kserve')}"),
        ("kserve-resources", f"kserve-resources-{pin('kserve')}"),
        ("kserve-runtime-configs", f"kserve-runtime-configs-{pin('kserve')}"),
        ("prometheus", f"kube-prometheus-stack-{pin('monitoring', 'kube_prometheus_stack_version')}"),
    ]:
        state.releases[name] = (chart, "deployed")
    for obj in load_yaml_all(INGRESSCLASS):
        state.add(obj)
    for obj in by_name["knative"].serving_objects(profile):
        obj = copy.deepcopy(obj)
        if obj["kind"] == "KnativeServing":
            obj["status"] = {
                "version": pin("knative", "serving_version"),
                "conditions": [{"type": "Ready", "status": "True"}],
            }
        state.add(obj)
    configmap = by_name["monitoring"].dashboards_configmap()
    if configmap:
        state.add(configmap)
    if PODMONITOR.is_file():
        for obj in load_yaml_all(PODMONITOR):
            state.add(obj)
    for obj in by_name["storage"].store_objects():
        obj = copy.deepcopy(obj)
        if obj["kind"] == "Deployment":
            obj["metadata"]["generation"] = 2
            obj["status"] = {"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 1}
        state.add(obj)
    for obj in storage.credential_objects(storage.Credentials("AK", "SK")):
        state.add(obj)
    for obj in load_yaml_all(seaweedfs.ACCESS_MANIFEST):
        state.add(obj)
    state.add({"kind": "ClusterServingRuntime", "metadata": {"name": "kserve-sklearnserver"}})
    for namespace in ("cert-manager", "istio-system", "knative-operator", "kserve", "monitoring"):
        state.add({"kind": "Namespace", "metadata": {"name": namespace}})
    for namespace, names in {
        "cert-manager": ["cert-manager", "cert-manager-webhook", "cert-manager-cainjector"],
        "istio-system": ["istiod", "istio-ingressgateway"],
        "knative-serving": ["activator", "autoscaler", "controller", "webhook"],
        "kserve": ["kserve-controller-manager"],
        "monitoring": ["prometheus-grafana", "prometheus-kube-prometheus-operator"],
    }.items():
        state.deployments[namespace] = [deployment(name) for name in names]
    state.deployments["model-store"] = [deployment("seaweedfs", image=seaweedfs.Storage(context).image())]
    state.pods["monitoring"] = [ready_pod("prometheus-prometheus-kube-prometheus-prometheus-0")]
    state.add(
        {
            "kind": "Service",
            "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
            "spec": {"type": "NodePort" if profile.on_kind else "LoadBalancer"},
        }
    )
    return state
