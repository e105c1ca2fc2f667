"""`inv deploy` on a real one-node swarm: converge, roll under load, roll back, undeploy.

The swarm is left as it was found (initialised here only if it was not
one); the stack's services, secrets, networks, containers and volumes are
removed even when a step fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import Stack, docker, free_port
from tests.integration.swarmload import (
    SWARM_SETTINGS,
    load,
    one_node_swarm,
    remove_stack,
    swarm_leftovers,
)

FAILING_HEALTH = (
    "ARG BASE\nFROM ${BASE}\nUSER root\n"
    'RUN printf "raise SystemExit(1)\\n" > /app/src/demo/healthcheck.py\nUSER app\n'
)


def new_version(base: str, dockerfile: str, tmp_path: Path) -> str:
    """Build an image on top of ``base`` and push it under ``base``'s tag; return its digest."""
    (tmp_path / "Dockerfile").write_text(dockerfile)
    subprocess.run(
        ["docker", "build", "--quiet", "--build-arg", f"BASE={base}", "--tag", base, str(tmp_path)],
        capture_output=True,
        check=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    docker("push", "--quiet", base)
    return service_image(base, pushed=True)


def service_image(ref: str, *, pushed: bool = False) -> str:
    """Return the digest of a pushed ref (``pushed``) or of the service named ``ref``."""
    if pushed:
        digests = json.loads(
            docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout
        )
        return str(digests[0]).split("@", 1)[1]
    image = docker(
        "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", ref
    )
    return image.stdout.strip().split("@", 1)[1]


@pytest.fixture
def deployable(committed: Stack, registry: str) -> Iterator[tuple[Stack, dict[str, str], str]]:
    """Yield a committed copy with prod images pushed and promoted, and a swarm to deploy to."""
    env_file = committed.root / "env/.env.prod"
    assert committed.run("inv", "env-init", "--env", "prod").returncode == 0
    port = free_port()
    env_file.write_text(
        re.sub(r"^API_PORT=.*$", f"API_PORT={port}", env_file.read_text(), flags=re.MULTILINE)
    )
    env = {"SHIPYARD_REGISTRY": f"{registry}/team", **SWARM_SETTINGS}
    stack = f"{committed.name}-prod-swarm"
    outside = committed.run("inv", "deploy", env=env)
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    if state != "active":  # the engine as CI finds it: one message, nothing created
        assert outside.returncode == 1
        assert "ERROR: this Docker engine is not in swarm mode (swarm: inactive)" in outside.stderr
        assert "TIP: 'docker swarm init' makes this machine a one-node swarm" in outside.stderr
    built = committed.run("inv", "docker-build", "--env", "prod")
    assert built.returncode == 0, built.stderr[-2000:]
    assert committed.run("inv", "push", env=env).returncode == 0
    sha = subprocess.run(
        ["git", "-C", str(committed.root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert committed.run("inv", "promote", "--from", sha, env=env).returncode == 0
    with one_node_swarm():
        try:
            yield committed, env | {"API_PORT": str(port)}, stack
        finally:
            remove_stack(stack)
            assert not any(swarm_leftovers(stack).values()), swarm_leftovers(stack)


def test_deploy_rolls_without_a_failed_request_and_rolls_back_by_itself(
    deployable: tuple[Stack, dict[str, str], str], tmp_path: Path
) -> None:
    """Deploy; update under load (0 failures); a failing health check rolls back; undeploy."""
    copy, env, stack = deployable
    port = int(env["API_PORT"])
    api_ref = f"{env['SHIPYARD_REGISTRY']}/{copy.name}:prod"

    unpushed = copy.run("inv", "deploy", "--sha", "0000000", env=env)
    assert unpushed.returncode == 1
    assert (
        f"ERROR: {api_ref.replace(':prod', ':0000000')} is not in the registry" in unpushed.stderr
    )
    assert swarm_leftovers(stack)["services"] == []

    first = copy.run("inv", "deploy", env=env)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert "step 2/3: db, migrate" in first.stderr
    assert "migrate: completed" in first.stderr
    assert f"{stack} deployed: every service converged" in first.stdout
    status = json.loads(copy.run("inv", "deploy-status", "--json", env=env).stdout)
    assert {row["service"]: row["replicas"] for row in status} == {
        "api": "2/2",
        "db": "1/1",
        "migrate": "job completed",
        "proxy": "1/1",
        "redis": "1/1",
        "worker": "1/1",
    }
    password = next(
        line.split("=", 1)[1]
        for line in (copy.root / "env/.env.prod").read_text().splitlines()
        if line.startswith("POSTGRES_PASSWORD=")
    )
    for service in ("api", "db", "migrate", "worker"):
        spec = docker("service", "inspect", f"{stack}_{service}").stdout
        assert password not in spec, service  # a Swarm secret, never a variable in the spec
        assert f"{stack}_postgres_password_" in spec, service
    api = docker(
        "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={stack}_api"
    ).stdout.split()[0]
    assert docker("exec", api, "cat", "/run/secrets/POSTGRES_PASSWORD").stdout == password
    assert "POSTGRES_PASSWORD=" not in docker("exec", api, "env").stdout
    assert service_image(f"{stack}_api") == service_image(api_ref, pushed=True)

    v2 = new_version(api_ref, "ARG BASE\nFROM ${BASE}\nLABEL dev.shipyard.test=v2\n", tmp_path)
    with load(port, seconds=240) as rolling:
        update = copy.run("inv", "deploy", env=env)
    assert update.returncode == 0, update.stderr[-3000:]
    assert rolling.sent > 100
    assert (rolling.failed, dict(rolling.reasons)) == (0, {})
    assert service_image(f"{stack}_api") == v2

    new_version(api_ref, FAILING_HEALTH, tmp_path)
    with load(port, seconds=240) as failing:
        broken = copy.run("inv", "deploy", env=env)
    assert broken.returncode == 1
    assert "ERROR: api did not converge (rolled back): the previous version keeps serving" in (
        broken.stderr
    )
    assert "unhealthy container" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert (failing.failed, dict(failing.reasons)) == (0, {})
    assert service_image(f"{stack}_api") == v2  # the old version kept serving

    assert service_image(f"{stack}_worker") != v2  # its check passed: it runs the new image
    back = copy.run("inv", "rollback", "--service", "worker", env=env)
    assert back.returncode == 0, back.stderr[-2000:]
    assert f"{stack}: rolled back worker" in back.stdout
    assert service_image(f"{stack}_worker") == v2

    gone = copy.run("inv", "undeploy", env=env)
    assert gone.returncode == 0, gone.stderr[-2000:]
    assert f"{stack} removed; data volumes kept: {stack}_db-data, {stack}_redis-data" in gone.stdout
    left = swarm_leftovers(stack)
    assert (left["services"], left["secrets"], left["networks"], left["containers"]) == (
        [],
        [],
        [],
        [],
    )
