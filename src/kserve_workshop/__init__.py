"""KServe workshop library: the code behind the invoke tasks and the lab notebooks.

Module map (a module is a noun with one job; a subpackage groups one concern):

    errors, console, paths, versions   expected failures, terminal output, repo paths, platform pins
    plan                               a task's work as data: Step, Plan, Runner (--dry-run prints it)
    tools, doctor, doctor_local,       pinned CLI tools; machine checks per tier (local, cluster)
    doctor_cluster
    schemas, validate                  KServe's CRD, offline validation
    manifest_yaml                      YAML read as kubectl reads it (duplicate keys, bounded aliases)
    cluster, gke, platform/            kind and GKE clusters; one Component per platform piece
    kube/                              Kubernetes access: contexts and the guard (kube), client loading
                                       (kube.client), API errors (kube.errors), conditions, port-forward,
                                       object names (kube.names)
    isvc/                              InferenceServices: manifest, status, api, wait
    ingress                            reaching a model through the Istio ingress (Host header, endpoint)
    dataplane/                         KServe's data plane from the caller: payloads, V1/V2 client
    processes/                         local servers as subprocesses: ServerProcess, LocalModelServer
                                       (lifecycle: sessions and parent death, logs, registry: one per name)
    runtime/                           what runs in a pod (the custom image copies only this package and
                                       Lab 6's model file)
    training, canary, autoscaling      iris models; canary statistics; watching Knative scale
    load/                              load generator, capacity sweeps, latency statistics, load targets
    metrics/                           Prometheus (local and cluster), PromQL, /metrics text, Grafana
    diagnose/                          why an InferenceService is not Ready, or a call failed
    custom/                            Lab 6 on this machine: the learner's model file served, the chain, its
                                       manifests for the cluster
    smoke, image, image_context        the platform smoke test, the custom image and its build context
    docs_site, docs_pages/             the docs site's mkdocs hooks and macros; lab pages, command outputs,
                                       docs.record
    labkit/                            the lab kit: grading, checks/, labgen, masters (run in place), scorecard,
                                       %%cluster magic, notebook linting (shell lines against kubectl's
                                       reference), boxes (check results' and notices' HTML)
    tasks/                             invoke tasks, one module per namespace

Deprecated module paths, kept importable for one release (remove them after it):

- ``MOVED`` below: the old path gives the very module at its new home (``_moved``), e.g.
  ``kserve_workshop.grading`` is ``kserve_workshop.labkit.grading``:

      predictor -> runtime.sklearn_model        model_server_main -> runtime.sklearn_server
      custom.features -> runtime.features       custom.transformer -> runtime.transformer
      custom.server_main -> runtime.transformer_server
      grading -> labkit.grading                 checks -> labkit.checks
      labgen -> labkit.labgen                   scorecard -> labkit.scorecard
      notebook -> labkit.cluster_magic          notebook_static -> labkit.notebook_lint
      grafana -> metrics.grafana                local -> processes
      tasks.lab_tasks -> tasks.labs             tasks.local_tasks -> tasks.local
      tasks.diagnose_tasks -> tasks.diagnose    tasks.docs_tasks -> tasks.docs
      tasks.image_tasks -> tasks.image          tasks.start_tasks -> tasks.workshop

- modules split in two or more keep a facade with every name they had: ``serving`` (now ``isvc``
  and ``ingress``) and ``clients`` (now ``dataplane``, ``metrics.exposition``, ``load.latency``).

``%load_ext kserve_workshop.notebook`` stays the name notebooks load the ``%%cluster`` magic by.
"""

from ._moved import install as _install_moved_modules

MOVED = {
    f"{__name__}.{old}": f"{__name__}.{new}"
    for old, new in {
        "predictor": "runtime.sklearn_model",
        "model_server_main": "runtime.sklearn_server",
        "custom.features": "runtime.features",
        "custom.transformer": "runtime.transformer",
        "custom.server_main": "runtime.transformer_server",
        "grading": "labkit.grading",
        "labgen": "labkit.labgen",
        "scorecard": "labkit.scorecard",
        "notebook": "labkit.cluster_magic",
        "notebook_static": "labkit.notebook_lint",
        "checks": "labkit.checks",
        "grafana": "metrics.grafana",
        "local": "processes",
        "tasks.lab_tasks": "tasks.labs",
        "tasks.local_tasks": "tasks.local",
        "tasks.diagnose_tasks": "tasks.diagnose",
        "tasks.docs_tasks": "tasks.docs",
        "tasks.image_tasks": "tasks.image",
        "tasks.start_tasks": "tasks.workshop",
    }.items()
}

_install_moved_modules(MOVED)
