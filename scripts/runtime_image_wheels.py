#!/usr/bin/env python3
"""Estimate the Python packages a KServe runtime image downloads, from the runtime's uv.lock.

    python scripts/runtime_image_wheels.py path/to/python/xgbserver/uv.lock xgbserver [--arch x86_64|aarch64]

Walks the locked dependencies of the root package (its default dependency group included, as
`uv sync` does) for CPython 3.11 on Linux, picks each package's wheel for that platform, and prints
the sum of the wheels' download sizes with the largest ones. This is how the figures in
``kserve_workshop.boosting.images`` were made (from kserve v0.20.0's lock files). It is an estimate
of the image's Python layer, not a measured image size: the base image and KServe's own sources
come on top, and the predictive server's image installs without its lock file.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import parse_wheel_filename


def environment(arch: str) -> dict[str, str]:
    return {
        "python_version": "3.11",
        "python_full_version": "3.11.13",
        "platform_system": "Linux",
        "sys_platform": "linux",
        "platform_machine": arch,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "extra": "",
    }


def applies(marker: str | None, env: dict[str, str]) -> bool:
    return not marker or Marker(marker).evaluate(env)


def wheel_fits(filename: str, arch: str) -> bool:
    for tag in parse_wheel_filename(filename)[3]:
        python_ok = tag.interpreter == "cp311" or tag.interpreter.startswith("py3")
        abi_ok = tag.abi in ("cp311", "abi3", "none")
        platform_ok = tag.platform == "any" or (tag.platform.startswith("manylinux") and tag.platform.endswith(arch))
        if python_ok and abi_ok and platform_ok:
            return True
    return False


def locked_wheels(lock: dict, root: str, arch: str, groups=("dev",)) -> list[tuple[int, str, str]]:
    """(size in bytes, name, version) of each package installed for ``root``; size 0 when no wheel fits."""
    env = environment(arch)
    packages = {}
    for package in lock.get("package", []):
        markers = package.get("resolution-markers")
        if markers and not any(applies(m, env) for m in markers):
            continue
        packages.setdefault(package["name"], package)
    if root not in packages:
        raise SystemExit(f"error: {root!r} is not a package of this lock file")
    seen: dict[str, set] = {}
    todo = [(root, ())]
    while todo:
        name, extras = todo.pop()
        package = packages.get(name)
        if package is None:
            continue
        first = name not in seen
        done = seen.setdefault(name, set())
        new_extras = [extra for extra in extras if extra not in done]
        done.update(extras)
        dependencies = list(package.get("dependencies", [])) if first else []
        for extra in new_extras:
            dependencies += package.get("optional-dependencies", {}).get(extra, [])
        if first and name == root:
            for group in groups:
                dependencies += package.get("dev-dependencies", {}).get(group, [])
        todo += [(d["name"], tuple(d.get("extra", []))) for d in dependencies if applies(d.get("marker"), env)]
    rows = []
    for name in seen:
        package = packages[name]
        wheels = [w for w in package.get("wheels", []) if wheel_fits(w["url"].rsplit("/", 1)[1], arch)]
        rows.append((wheels[0]["size"] if wheels else 0, name, str(package.get("version", ""))))
    return sorted(rows, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", type=Path, help="a uv.lock file")
    parser.add_argument("root", help="the package the image installs (e.g. xgbserver)")
    parser.add_argument("--arch", choices=("x86_64", "aarch64"), default="x86_64")
    parser.add_argument("--top", type=int, default=5, help="how many of the largest wheels to list")
    args = parser.parse_args(argv)
    try:
        lock = tomllib.loads(args.lock.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: cannot read {args.lock}: {exc}", file=sys.stderr)
        return 1
    rows = locked_wheels(lock, args.root, args.arch)
    total = sum(size for size, _, _ in rows)
    print(f"{args.root} ({args.arch}): {len(rows)} packages, wheels {total / 1e6:.0f} MB")
    for size, name, version in rows[: args.top]:
        print(f"  {size / 1e6:7.1f} MB  {name} {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
