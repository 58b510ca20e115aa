"""The table of what a learner may and may not do, checked two ways from the same rows:

- offline, by ``authz.Policy`` over the generated RBAC objects (the tests, for every learner);
- on a real API server, by ``kubectl auth can-i ... --as=system:serviceaccount:<ns>:learner``
  (``invoke class.can-i``, run by the e2e-kind workflow), and with each learner's own kubeconfig.

Each row is relative to one learner: ``own`` is their namespace, ``other`` another learner's,
``cluster`` a cluster-scoped or all-namespaces request; any other scope names a namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from .authz import Request
from ..platform.monitoring import PROMETHEUS

OWN, OTHER, CLUSTER = "own", "other", "cluster"
ISVC = ("inferenceservices", "serving.kserve.io")


@dataclass(frozen=True)
class Row:
    label: str
    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    name: str = ""
    scope: str = OWN
    allowed: bool = False

    def request(self, own: str, other: str) -> Request:
        # Any other scope is a namespace's literal name (e.g. "default").
        namespace = {OWN: own, OTHER: other, CLUSTER: None}.get(self.scope, self.scope)
        name = self.name.format(own=own, other=other)
        if self.resource == "namespaces" and name:
            # The API server files a request on /api/v1/namespaces/NAME under namespace NAME.
            namespace = name
        return Request(self.verb, self.resource, self.group, self.subresource, name, namespace)

    def can_i_argv(self, own: str, other: str) -> list[str]:
        """``auth can-i`` arguments (without ``kubectl``, context or ``--as``)."""
        request = self.request(own, other)
        what = self.resource + (f".{self.group}" if self.group else "")
        if request.name:
            what += f"/{request.name}"
        argv = ["auth", "can-i", self.verb, what]
        if self.subresource:
            argv.append(f"--subresource={self.subresource}")
        argv += ["--namespace", request.namespace] if request.namespace else ["--all-namespaces"]
        return argv


TABLE: tuple[Row, ...] = (
    # ---- own namespace: the labs' work
    Row("create an InferenceService", "create", *ISVC, allowed=True),
    Row("patch an InferenceService (canary)", "patch", *ISVC, name="iris", allowed=True),
    Row("delete an InferenceService", "delete", *ISVC, name="iris", allowed=True),
    Row("list InferenceServices", "list", *ISVC, allowed=True),
    Row("list pods", "list", "pods", allowed=True),
    Row("read a pod's logs", "get", "pods", subresource="log", name="p", allowed=True),
    Row("port-forward to a pod", "create", "pods", subresource="portforward", name="p", allowed=True),
    Row("create a Service", "create", "services", allowed=True),
    Row("watch events", "watch", "events", allowed=True),
    Row("list Knative revisions", "list", "revisions", "serving.knative.dev", allowed=True),
    Row(
        "list Knative PodAutoscalers (kubectl get kpa)",
        "list",
        "podautoscalers",
        "autoscaling.internal.knative.dev",
        allowed=True,
    ),
    Row("read the namespace's quota", "get", "resourcequotas", name="learner-quota", allowed=True),
    # Lab 7's sink: its code as a ConfigMap (kubectl create configmap ... | kubectl apply -f -), run by a
    # Deployment (kubectl apply, kubectl rollout status watches it), read through port-forward.
    Row("create a ConfigMap (Lab 7's sink code)", "create", "configmaps", allowed=True),
    Row("update a ConfigMap (kubectl apply)", "patch", "configmaps", name="payload-sink", allowed=True),
    Row("delete a ConfigMap", "delete", "configmaps", name="payload-sink", allowed=True),
    Row("create a Deployment (Lab 7's sink)", "create", "deployments", "apps", allowed=True),
    Row("update a Deployment (kubectl apply)", "patch", "deployments", "apps", name="payload-sink", allowed=True),
    Row("watch a Deployment's rollout (kubectl rollout status)", "watch", "deployments", "apps", allowed=True),
    Row("delete a Deployment", "delete", "deployments", "apps", name="payload-sink", allowed=True),
    # ---- own namespace: denied
    Row("read secrets in own namespace", "get", "secrets", name="kserve-models-s3"),
    Row("list secrets in own namespace", "list", "secrets"),
    Row("exec into own pod", "create", "pods", subresource="exec", name="p"),
    Row("exec into own pod (websocket clients: get)", "get", "pods", subresource="exec", name="p"),
    Row("attach to own pod", "create", "pods", subresource="attach", name="p"),
    Row("create a bare pod", "create", "pods"),
    Row("create a DaemonSet", "create", "daemonsets", "apps"),
    Row("create a Job", "create", "jobs", "batch"),
    Row("raise own quota", "update", "resourcequotas", name="learner-quota"),
    Row("delete own LimitRange", "delete", "limitranges", name="learner-limits"),
    Row("grant itself a RoleBinding", "create", "rolebindings", "rbac.authorization.k8s.io"),
    Row("edit own Role", "update", "roles", "rbac.authorization.k8s.io", name="learner"),
    Row("mint tokens for a ServiceAccount", "create", "serviceaccounts", subresource="token", name="kserve-models"),
    Row("impersonate a ServiceAccount", "impersonate", "serviceaccounts", name="kserve-models"),
    Row("delete own namespace", "delete", "namespaces", name="{own}"),
    Row("create a ServingRuntime", "create", "servingruntimes", "serving.kserve.io"),
    # ---- another learner's namespace
    Row("create an InferenceService in another learner's namespace", "create", *ISVC, scope=OTHER),
    Row("delete another learner's InferenceService", "delete", *ISVC, name="iris", scope=OTHER),
    Row("list another learner's pods", "list", "pods", scope=OTHER),
    Row("read another learner's logs", "get", "pods", subresource="log", name="p", scope=OTHER),
    Row("port-forward into another learner's pod", "create", "pods", subresource="portforward", name="p", scope=OTHER),
    Row("exec into another learner's pod", "create", "pods", subresource="exec", name="p", scope=OTHER),
    Row("read another learner's secrets", "get", "secrets", name="kserve-models-s3", scope=OTHER),
    Row("read another learner's ConfigMaps", "get", "configmaps", name="payload-sink", scope=OTHER),
    Row("create a Deployment in another learner's namespace", "create", "deployments", "apps", scope=OTHER),
    Row("delete another learner's namespace", "delete", "namespaces", name="{other}"),
    # ---- cluster-wide
    Row("list nodes", "list", "nodes", scope=CLUSTER),
    Row("list namespaces", "list", "namespaces", scope=CLUSTER),
    Row("create a namespace", "create", "namespaces", scope=CLUSTER),
    Row("list InferenceServices in all namespaces", "list", *ISVC, scope=CLUSTER),
    Row("list secrets in all namespaces", "list", "secrets", scope=CLUSTER),
    Row("read the model store's secret in default", "get", "secrets", name="kserve-models-s3", scope="default"),
    Row(
        "exec into the model store (uploads, Lab 7's bucket)",
        "create",
        "pods",
        subresource="exec",
        name="seaweedfs",
        scope="model-store",
    ),
    # Lab 5's cluster part: the instructor shows it (docs/instructor-guide.md)
    Row(
        "read Lab 5's PodMonitor in monitoring",
        "get",
        "podmonitors",
        "monitoring.coreos.com",
        name="kserve-model-servers",
        scope="monitoring",
    ),
    Row(
        "port-forward to Prometheus in monitoring",
        "create",
        "pods",
        subresource="portforward",
        name=f"prometheus-{PROMETHEUS}-0",  # the operator names the StatefulSet prometheus-<Prometheus>
        scope="monitoring",
    ),
    Row("read Grafana's admin Secret", "get", "secrets", name="prometheus-grafana", scope="monitoring"),
    Row("read KServe's inferenceservice-config", "get", "configmaps", name="inferenceservice-config", scope="kserve"),
    Row("create a ClusterRoleBinding", "create", "clusterrolebindings", "rbac.authorization.k8s.io", scope=CLUSTER),
    Row("list ClusterServingRuntimes", "list", "clusterservingruntimes", "serving.kserve.io", scope=CLUSTER),
    Row("anything at all (what cluster-admin may)", "*", "*", scope=CLUSTER),
)
