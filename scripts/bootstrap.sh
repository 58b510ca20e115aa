#!/usr/bin/env bash
# Set up the workshop on a fresh machine: a virtualenv in .venv with the project and its pins.
#   scripts/bootstrap.sh               Python environment only (enough for `invoke local` and `invoke up`)
#   scripts/bootstrap.sh --test-tools  also the Debian packages the test suite runs for real
#                                      (prometheus, hey, chromium); needs root or sudo
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=false
for arg in "$@"; do
  case "$arg" in
    --test-tools) want_test_tools=true ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "bootstrap: no Python at '$python'${PYTHON:+ (from PYTHON)}." >&2
  echo "hint: install Python 3.11 or newer, or point PYTHON at it: PYTHON=python3.11 $0" >&2
  exit 1
fi
if [ "$("$python" -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null)" != "True" ]; then
  found=$("$python" --version 2>&1 | head -n 1) || true
  echo "bootstrap: Python 3.11 or newer is needed; '$python' is ${found:-not a working Python}." >&2
  echo "hint: install python3.11 and run PYTHON=python3.11 $0" >&2
  exit 1
fi

if $want_test_tools; then
  # Root runs apt-get and service itself; anyone else through sudo.
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  packages=(prometheus hey chromium)
  missing=()
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
      echo "bootstrap: the test suite needs ${missing[*]}; install them with your package manager." >&2
      exit 1
    fi
    echo "==> installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  # Debian starts its own Prometheus service on install; the workshop runs its own on 127.0.0.1.
  if command -v service >/dev/null && pgrep -x prometheus >/dev/null 2>&1; then
    $sudo service prometheus stop >/dev/null 2>&1 || true
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
echo "==> installing the workshop package and its pinned dependencies into .venv"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,docs]'
if $want_test_tools; then
  # Labs 2 and 4 grade manifests against KServe's own schema: cache the pinned CRD (a no-op when cached).
  .venv/bin/invoke schemas || echo "bootstrap: warning: the KServe CRD schema is not cached; manifest checks will fail until 'invoke schemas' succeeds" >&2
fi
echo "==> ready: activate with '. .venv/bin/activate', then 'invoke --list'"
