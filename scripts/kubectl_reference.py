#!/usr/bin/env python3
"""Generate src/kserve_workshop/labkit/kubectl_reference.json, what the static checks of the
notebooks' `!kubectl` lines know about kubectl (see kserve_workshop.labkit.kubectl_reference).

    scripts/kubectl_reference.py --kubectl .bin/kubectl            # commands and flags only
    scripts/kubectl_reference.py --kubectl KUBECTL \\
        --api-resources "SOURCE=FILE" --crd "SOURCE=FILE" ...       # resource types too

--kubectl: a kubectl binary; its `--help` texts give the commands and flags (no cluster needed).
  Use the pinned one (`invoke tools` puts it in .bin/); the file records the version it came from.
--api-resources: built-in resource types as `kubectl api-resources` prints them (on a cluster:
  `kubectl api-resources > FILE`), kept for the group/kinds that exist in the Kubernetes version
  `invoke validate` checks against (versions.toml [kubernetes] validate_version).
--crd: CustomResourceDefinition YAML files (the platform's: KServe, Knative Serving, the Prometheus
  operator, at their pinned versions).
SOURCE says where a file came from (repository, tag, path); it is recorded in the data file.
Without --api-resources and --crd, the resource types of the existing file are kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

from kserve_workshop.labkit import kubectl_reference as ref
from kserve_workshop.paths import bin_dir
from kserve_workshop.versions import pin


def kinds_of_kubernetes(version: str) -> set[tuple[str, str]]:
    """(group, kind) of every top-level kind of Kubernetes `version`, from kubernetes-validate's schemas."""
    import kubernetes_validate

    definitions = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{version}-local"
    schemas = json.loads((definitions / "_definitions.json").read_text())["$defs"]
    return {
        (entry["group"], entry["kind"])
        for schema in schemas.values()
        for entry in schema.get("x-kubernetes-group-version-kind") or []
    }


class _CrdLoader(yaml.SafeLoader):
    """SafeLoader that reads `=` (YAML 1.1's value key, found in some CRDs' enums) as a plain string."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def labelled(value: str) -> tuple[str, Path]:
    source, sep, path = value.rpartition("=")
    if not sep or not source:
        raise argparse.ArgumentTypeError(f"expected SOURCE=FILE, got {value!r}")
    return source, Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kubectl", help="kubectl binary (default: .bin/kubectl, else kubectl on PATH)")
    parser.add_argument("--api-resources", type=labelled, action="append", default=[], metavar="SOURCE=FILE")
    parser.add_argument("--crd", type=labelled, action="append", default=[], metavar="SOURCE=FILE")
    parser.add_argument("--out", type=Path, default=ref.DATA_FILE)
    args = parser.parse_args(argv)

    kubectl = (
        args.kubectl or next((str(p) for p in [bin_dir() / "kubectl"] if p.exists()), None) or shutil.which("kubectl")
    )
    if not kubectl:
        parser.error("no kubectl found: pass --kubectl PATH (`invoke tools` installs the pinned one into .bin/)")
    version = ref.kubectl_version(kubectl)
    commands = ref.collect_commands(ref.run_kubectl(kubectl))

    if args.api_resources or args.crd:
        k8s_version = pin("kubernetes", "validate_version")
        known = kinds_of_kubernetes(k8s_version)
        resources, sources = [], []
        for source, path in args.api_resources:
            resources += ref.resources_from_api_resources(
                path.read_text(), source, keep=lambda group, kind: (group, kind) in known
            )
            sources.append(f"{source} (kinds kept: those of Kubernetes v{k8s_version})")
        for source, path in args.crd:
            resources += ref.resources_from_crds(yaml.load_all(path.read_text(), Loader=_CrdLoader), source)
            sources.append(source)
    else:
        existing = json.loads(args.out.read_text())["resources"]
        resources, sources = existing["types"], existing["sources"]

    data = ref.build_reference(commands, version, pin("kubectl"), resources, sources)
    args.out.write_text(ref.dump_reference(data))
    print(
        f"{args.out}: kubectl {version}, {len(data['commands'])} commands, "
        f"{len(data['resources']['types'])} resource types"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
