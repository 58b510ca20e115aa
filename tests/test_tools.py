"""Pinned tool downloads: URLs and checksums from versions.toml, SHA-256 refusal, nothing left behind.

Downloads go to a real HTTP server on 127.0.0.1 (never anywhere else).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kserve_workshop import paths, tools
from kserve_workshop.errors import WorkshopError
from kserve_workshop.versions import pin

PLATFORMS = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"]
INVOKE = [sys.executable, "-m", "invoke"]


class _Files(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).requests.append(self.path)
        body = type(self).files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    """A file server on 127.0.0.1; tests put bytes in ``server.files[path]``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.files, httpd.requests = _Files.files, _Files.requests
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _clean_server_state(server):
    server.files.clear()
    server.requests.clear()


# ----- platform, pins, URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "system, machine, expected",
    [
        ("Linux", "x86_64", "linux-amd64"),
        ("Linux", "aarch64", "linux-arm64"),
        ("Darwin", "arm64", "darwin-arm64"),
        ("Darwin", "x86_64", "darwin-amd64"),
    ],
)
def test_platform_key_names_the_release_assets(system, machine, expected):
    assert tools.platform_key(system, machine) == expected


@pytest.mark.parametrize("system, machine", [("Windows", "AMD64"), ("Linux", "riscv64"), ("Linux", "armv7l")])
def test_platform_key_refuses_platforms_without_pinned_downloads(system, machine):
    with pytest.raises(WorkshopError, match="no pinned tool downloads"):
        tools.platform_key(system, machine)


def test_every_pinned_checksum_is_a_distinct_sha256():
    digests = [pin(name, "sha256")[p] for name in tools.TOOL_NAMES for p in PLATFORMS]
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
    assert len(set(digests)) == len(digests)


@pytest.mark.parametrize("platform_id", PLATFORMS)
def test_tool_specs_point_at_the_upstream_release_assets(platform_id):
    os_name, arch = platform_id.split("-")
    kind = tools.tool_spec("kind", platform_id, base_url="")
    helm = tools.tool_spec("helm", platform_id, base_url="")
    kubectl = tools.tool_spec("kubectl", platform_id, base_url="")
    assert kind.url == (
        f"https://github.com/kubernetes-sigs/kind/releases/download/{pin('kind')}/kind-{os_name}-{arch}"
    )
    assert helm.url == f"https://get.helm.sh/helm-{pin('helm')}-{os_name}-{arch}.tar.gz"
    assert helm.archive_member == f"{os_name}-{arch}/helm"
    assert kubectl.url == f"https://dl.k8s.io/release/{pin('kubectl')}/bin/{os_name}/{arch}/kubectl"
    assert kind.archive_member is None and kubectl.archive_member is None
    assert (kind.sha256, helm.sha256, kubectl.sha256) == tuple(
        pin(n, "sha256")[platform_id] for n in ("kind", "helm", "kubectl")
    )


def test_known_upstream_digests_are_pinned():
    # Spot checks against the upstream-published values recorded in versions.toml's comments.
    assert tools.tool_spec("kind", "linux-amd64", "").sha256.startswith("517ab7fc89ddeed5")
    assert tools.tool_spec("helm", "linux-amd64", "").sha256.startswith("f5355c79190951ee")
    assert tools.tool_spec("kubectl", "linux-amd64", "").sha256.startswith("cfda68cba5848bc3")


def test_mirror_keeps_the_upstream_path(monkeypatch):
    monkeypatch.setenv(tools.BASE_URL_ENV, "http://127.0.0.1:9/mirror/")
    spec = tools.tool_spec("helm", "linux-amd64")
    assert spec.url == f"http://127.0.0.1:9/mirror/helm-{pin('helm')}-linux-amd64.tar.gz"
    # an explicit base_url wins over the environment
    assert tools.tool_spec("helm", "linux-amd64", base_url="").url.startswith("https://get.helm.sh/")


def test_unknown_tool_is_refused():
    with pytest.raises(WorkshopError, match="unknown tool 'kubeadm'"):
        tools.tool_spec("kubeadm", "linux-amd64")


def test_a_platform_without_a_pinned_checksum_is_refused_by_name(monkeypatch, tmp_path, server):
    real_pin = tools.pin

    def pin_without_linux_arm64(section, key="version"):
        value = real_pin(section, key)
        return {k: v for k, v in value.items() if k != "linux-arm64"} if key == "sha256" else value

    monkeypatch.setattr(tools, "pin", pin_without_linux_arm64)
    with pytest.raises(WorkshopError) as caught:
        tools.install_tools(["kind"], dest=tmp_path, platform_id="linux-arm64", base_url=server.base)
    assert "[kind.sha256] linux-arm64" in caught.value.message
    assert "refusing" in caught.value.message
    assert server.requests == [] and list(tmp_path.iterdir()) == []


def test_tool_env_puts_the_project_bin_first(tmp_path):
    env = tools.tool_env(tmp_path)
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path)
    assert tools.tool_env()["PATH"].split(os.pathsep)[0] == str(paths.bin_dir())


def test_which_prefers_the_project_bin(tmp_path):
    fake = tmp_path / "kubectl"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert tools.which("kubectl", tmp_path) == str(fake)


@pytest.mark.parametrize(
    "tool, output, expected",
    [
        ("kind", "kind v0.30.0 go1.24.6 linux/amd64\n", "v0.30.0"),
        ("helm", "v3.16.3+gcfd0749\n", "v3.16.3"),
        ("kubectl", '{"clientVersion": {"gitVersion": "v1.34.0"}}', "v1.34.0"),
        ("docker", "28.2.2\n", "28.2.2"),
        ("gcloud", '{"Google Cloud SDK": "528.0.0"}', "528.0.0"),
        ("kind", "", None),
        ("kubectl", "not json", None),
        ("kind", "something else", None),
    ],
)
def test_parse_version(tool, output, expected):
    assert tools.parse_version(tool, output) == expected


# ----- downloads ---------------------------------------------------------------------------------


def _spec(server, path, body: bytes, **kwargs) -> tools.ToolSpec:
    server.files[path] = body
    return tools.ToolSpec(
        name=kwargs.pop("name", "kind"),
        version="v0.30.0",
        url=server.base + path,
        sha256=hashlib.sha256(body).hexdigest(),
        **kwargs,
    )


def test_a_verified_download_is_installed_executable(server, tmp_path):
    spec = _spec(server, "/kind-linux-amd64", b"#!/bin/sh\necho kind v0.30.0\n")
    installed = tools.install_one(spec, tmp_path)
    assert installed == tmp_path / "kind"
    assert installed.read_bytes() == server.files["/kind-linux-amd64"]
    assert os.access(installed, os.X_OK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kind"]  # no temporary file left


def test_the_binary_is_taken_out_of_a_tarball(server, tmp_path):
    binary = b"\x7fELF pretend helm"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("linux-amd64/helm", binary), ("linux-amd64/README.md", b"readme")):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    spec = _spec(server, "/helm.tar.gz", buffer.getvalue(), name="helm", archive_member="linux-amd64/helm")
    tools.install_one(spec, tmp_path)
    assert (tmp_path / "helm").read_bytes() == binary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helm"]


def test_a_wrong_file_is_refused_and_nothing_is_left(server, tmp_path):
    """The pinned kind for linux-amd64, served wrong by a mirror on 127.0.0.1."""
    path = f"/kubernetes-sigs/kind/releases/download/{pin('kind')}/kind-linux-amd64"
    server.files[path] = b"this is not kind" * 1000
    with pytest.raises(WorkshopError) as caught:
        tools.install_tools(["kind"], dest=tmp_path, base_url=server.base, platform_id="linux-amd64")
    message = caught.value.message
    assert "checksum mismatch" in message and pin("kind", "sha256")["linux-amd64"] in message
    assert hashlib.sha256(server.files[path]).hexdigest() in message
    assert server.requests == [path]
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_file_does_not_replace_an_installed_tool(server, tmp_path):
    (tmp_path / "kubectl").write_text("#!/bin/sh\necho old\n")
    spec = _spec(server, "/kubectl", b"good")
    server.files["/kubectl"] = b"evil"
    with pytest.raises(WorkshopError, match="checksum mismatch"):
        tools.install_one(tools.ToolSpec("kubectl", "v1.34.0", spec.url, spec.sha256), tmp_path)
    assert (tmp_path / "kubectl").read_text() == "#!/bin/sh\necho old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubectl"]


def test_http_errors_are_clear_and_leave_nothing(server, tmp_path):
    spec = tools.ToolSpec("kind", "v0.30.0", server.base + "/missing", "0" * 64)
    with pytest.raises(WorkshopError, match="HTTP 404"):
        tools.install_one(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    spec = tools.ToolSpec("kind", "v0.30.0", "http://127.0.0.1:9/kind", "0" * 64)  # port 9: nothing listens
    with pytest.raises(WorkshopError, match="download failed: http://127.0.0.1:9/kind"):
        tools.install_one(spec, tmp_path, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_a_tool_at_the_pinned_version_is_skipped(server, tmp_path):
    fake = tmp_path / "kind"
    fake.write_text(f"#!/bin/sh\necho 'kind {pin('kind')} go1.24.6 linux/amd64'\n")
    fake.chmod(0o755)
    outcome = tools.install_tools(["kind"], dest=tmp_path, base_url=server.base, platform_id="linux-amd64")
    assert outcome == {"kind": "already installed"}
    assert server.requests == []


def test_a_tool_at_another_version_is_replaced_only_after_verification(server, tmp_path):
    fake = tmp_path / "kind"
    fake.write_text("#!/bin/sh\necho 'kind v0.20.0 go1.20 linux/amd64'\n")
    fake.chmod(0o755)
    with pytest.raises(WorkshopError, match="checksum mismatch"):  # the mirror serves nothing real
        server.files[f"/kubernetes-sigs/kind/releases/download/{pin('kind')}/kind-linux-amd64"] = b"x"
        tools.install_tools(["kind"], dest=tmp_path, base_url=server.base, platform_id="linux-amd64")
    assert len(server.requests) == 1  # it did try: v0.20.0 is not the pin
    assert "v0.20.0" in fake.read_text()


def test_tools_task_refuses_a_wrong_file_from_a_mirror(server):
    """`invoke tools` through the real CLI: a clear error, exit 1, no traceback, nothing in .bin/."""
    try:
        key = tools.platform_key()
    except WorkshopError:
        pytest.skip("this platform has no pinned downloads")
    if tools.installed_version("kind", paths.bin_dir() / "kind") == pin("kind"):
        pytest.skip("kind is already installed in .bin/ (the task would skip the download)")
    server.files[f"/kubernetes-sigs/kind/releases/download/{pin('kind')}/kind-{key}"] = b"wrong"
    before = sorted(p.name for p in paths.bin_dir().iterdir())
    done = subprocess.run(
        [*INVOKE, "tools", "--only", "kind", "--base-url", server.base],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1
    assert "checksum mismatch" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert sorted(p.name for p in paths.bin_dir().iterdir()) == before
