"""images.list / images.preload and kind.create --registry-mirror: lists, plans, the kind config."""

from __future__ import annotations

import copy

import pytest
import yaml
from invoke import MockContext, Result

from kserve_workshop import validate
from kserve_workshop.classroom import images, mirrors
from kserve_workshop.cluster import KIND_CONFIG
from kserve_workshop.plan import Runner
from kserve_workshop.tasks import images as images_tasks, kind as kind_tasks
from kserve_workshop.versions import pin


def test_images_follow_the_pins():
    listed = {image.reference: image for image in images.workshop_images()}
    kserve = pin("kserve")
    for reference in (
        f"docker.io/kserve/kserve-controller:{kserve}",
        f"docker.io/kserve/sklearnserver:{kserve}",
        f"docker.io/kserve/storage-initializer:{kserve}",
        f"docker.io/istio/proxyv2:{pin('istio')}",
        f"quay.io/jetstack/cert-manager-controller:{pin('cert_manager')}",
        pin("kind", "node_image"),
        pin("custom_image", "base_image"),
    ):
        assert reference in listed, reference
    # Every reference pinned by tag carries the tag; nothing says latest.
    for image in listed.values():
        assert ":latest" not in image.reference
        if image.kind == images.TAG:
            assert ":" in image.reference.rsplit("/", 1)[-1]
        if image.kind == images.DIGEST:
            assert "@sha256:" in image.reference
    assert {image.registry for image in listed.values()} <= {m.registry for m in mirrors.MIRRORS}


def test_preload_plan_pulls_then_loads_only_tag_pinned_cluster_images():
    commands = images.preload_plan("kserve-workshop").commands()
    assert commands[0] == "docker info --format '{{.ServerVersion}}'"
    assert f"docker pull {pin('kind', 'node_image')}" in commands
    load = commands[-1]
    assert load.startswith("kind load docker-image ") and load.endswith("--name kserve-workshop")
    assert f"docker.io/kserve/sklearnserver:{pin('kserve')}" in load
    assert "@sha256" not in load, "digest references are not kind-loaded"
    assert "gcr.io/knative-releases" not in " ".join(commands), "images chosen at install are not guessed"


def test_preload_task_refuses_without_the_cluster(monkeypatch, capsys):
    from invoke.exceptions import Exit

    monkeypatch.setattr(images_tasks, "require_tools", lambda *names: None)
    with pytest.raises(Exit):
        images_tasks.preload(MockContext(run={"kind get clusters": Result("other\n")}))
    assert "no kind cluster named 'kserve-workshop'" in capsys.readouterr().err


def test_hosts_files_point_each_registry_at_its_cache(tmp_path):
    certs = mirrors.write_hosts_files(tmp_path)
    text = (certs / "docker.io" / "hosts.toml").read_text()
    assert 'server = "https://registry-1.docker.io"' in text
    assert '[host."http://kserve-workshop-mirror-docker-io:5000"]' in text
    assert 'capabilities = ["pull", "resolve"]' in text
    assert sorted(p.name for p in certs.iterdir()) == sorted(m.registry for m in mirrors.MIRRORS)


def test_mirrored_kind_config_is_schema_valid_and_keeps_the_ingress_mapping(tmp_path):
    config = mirrors.mirrored_kind_config(KIND_CONFIG, tmp_path / "certs.d")
    assert validate.errors(validate.validate_object(config, file="kind")) == []
    assert config["containerdConfigPatches"] == [
        '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"'
    ]
    node = config["nodes"][0]
    assert {
        "hostPath": str((tmp_path / "certs.d").resolve()),
        "containerPath": "/etc/containerd/certs.d",
        "readOnly": True,
    } in node["extraMounts"]
    assert node["extraPortMappings"] == yaml.safe_load(KIND_CONFIG.read_text())["nodes"][0]["extraPortMappings"]
    broken = copy.deepcopy(config)
    broken["nodes"][0]["extraMounts"][0]["readonly"] = True
    assert validate.errors(validate.validate_object(broken, file="kind"))


def test_mirror_containers_bind_loopback_only_and_proxy_one_upstream_each():
    for mirror in mirrors.MIRRORS:
        argv = mirror.run_command()
        assert argv[argv.index("--publish") + 1] == f"127.0.0.1:{mirror.port}:5000"
        assert f"REGISTRY_PROXY_REMOTEURL={mirror.upstream}" in argv
        assert argv[-1] == pin("registry_mirror", "image")
    assert len({m.port for m in mirrors.MIRRORS}) == len(mirrors.MIRRORS)


def test_kind_create_with_mirrors_through_the_task(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    monkeypatch.setattr(kind_tasks.tools_lib, "use_local_tools", lambda: None)
    plan = mirrors.kind_create_with_mirrors_plan("kserve-workshop")
    commands = plan.commands()
    responses = {command: Result("") for command in commands}
    # Probes: no cache runs yet, no cluster yet, the caches are not on the kind network yet.
    responses["kind get clusters"] = Result("")
    for mirror in mirrors.MIRRORS:
        responses[
            f"sh -c 'test \"$(docker inspect --format {{{{.State.Running}}}} {mirror.container} 2>/dev/null)\" = true'"
        ] = Result("", exited=1)
        responses[
            f"sh -c 'docker inspect --format '\"'\"'{{{{json .NetworkSettings.Networks.kind}}}}'\"'\"' "
            f"{mirror.container} | grep -qv '\"'\"'^null$'\"'\"''"
        ] = Result("", exited=1)
    ctx = MockContext(run=responses)
    kind_tasks.kind_create(ctx, skip_doctor=True, registry_mirror=True)
    ran = [call.args[0] for call in ctx.run.call_args_list]
    creates = [c for c in ran if c.startswith("kind create cluster")]
    assert creates and f"--config {tmp_path}/registry-mirrors/kind-config-kserve-workshop.yaml" in creates[0]
    assert ran.index(creates[0]) > max(i for i, c in enumerate(ran) if c.startswith("docker run"))
    assert ran[-1] == "docker network connect kind kserve-workshop-mirror-registry-k8s-io"


def test_stop_plan_keeps_the_cache_unless_purged():
    assert not any("volume rm" in c for c in mirrors.stop_plan().commands())
    assert "docker volume rm kserve-workshop-mirror-docker-io" in mirrors.stop_plan(purge=True).commands()
    assert Runner(MockContext(run={}), dry_run=True).execute(mirrors.stop_plan()) == []


def test_lab7s_batcher_and_logger_image_is_listed_and_preloaded():
    """A batcher or a logger makes KServe inject its agent container (kserve-resources chart:
    kserve.agent.image kserve/agent, tag = kserve.version); Lab 7 uses both, so a preloaded class
    must not pull it over the venue's network."""
    agent = f"docker.io/kserve/agent:{pin('kserve')}"
    listed = {image.reference: image for image in images.workshop_images()}
    assert agent in listed and listed[agent].kind == images.TAG
    assert agent in images.preload_plan("kserve-workshop").commands()[-1]


@pytest.mark.bad_input(
    tool="invoke images.preload",
    input="A cluster name kind would not accept",
    example='--name "" or --name "Bad Name"',
    behaviour="refused like kind.create does (an empty name made kind load target the cluster named kind)",
)
@pytest.mark.parametrize("name", ["", "Bad Name", "kserve_workshop", "-x"])
def test_preload_refuses_a_cluster_name_kind_would_not_accept(name, capsys):
    """As kind.create and kind.delete do; an empty name would make `kind load` pick the cluster named kind."""
    from invoke.exceptions import Exit

    with pytest.raises(Exit):
        images_tasks.preload(MockContext(run={}), name=name, dry_run=True)
    assert "invalid cluster name" in capsys.readouterr().err
