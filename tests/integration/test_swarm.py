"""`inv deploy` on a real one-node swarm: converge, roll under load, roll back, undeploy.

The swarm is left as it was found (initialised here only if it was not
one); the stack's services, secrets, networks, containers and volumes are
removed even when a step fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import Stack, docker, free_port
from tests.integration.swarmload import (
    FAILING_HEALTH,
    NEXT_VERSION,
    Deployment,
    load,
    new_version,
    one_node_swarm,
    prepare,
    pushed_digest,
    remove_stack,
    running_digest,
    swarm_leftovers,
)


@pytest.fixture
def deployable(committed: Stack, registry: str) -> Iterator[Deployment]:
    """Yield a committed copy with prod images pushed and promoted, and a swarm to deploy to."""
    prepared = prepare(committed, registry)
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    if state != "active":  # the engine as CI finds it: one message, nothing created
        outside = committed.run("inv", "deploy", env=prepared.env)
        assert outside.returncode == 1
        assert "ERROR: this Docker engine is not in swarm mode (swarm: inactive)" in outside.stderr
        assert "TIP: 'docker swarm init' makes this machine a one-node swarm" in outside.stderr
    with one_node_swarm():
        try:
            yield prepared
        finally:
            remove_stack(prepared.stack)
            assert not any(swarm_leftovers(prepared.stack).values()), swarm_leftovers(
                prepared.stack
            )


def refused_before_anything_runs(deployable: Deployment) -> None:
    """Check an unpushed image and a silent registry: one ERROR each, nothing created."""
    copy, env, stack, api_ref = (
        deployable.copy,
        deployable.env,
        deployable.stack,
        deployable.api_ref,
    )
    unpushed = copy.run("inv", "deploy", "--sha", "0000000", env=env)
    assert unpushed.returncode == 1
    assert (
        f"ERROR: {api_ref.replace(':prod', ':0000000')} is not in the registry" in unpushed.stderr
    )
    closed = f"127.0.0.1:{free_port()}/team"
    unreachable = copy.run("inv", "deploy", env={**env, "SHIPYARD_REGISTRY": closed})
    assert unreachable.returncode == 1
    assert f"ERROR: pulling {closed}/{copy.name}:prod failed: " in unreachable.stderr
    assert "TIP: check that the registry is reachable" in unreachable.stderr
    assert "Traceback" not in unpushed.stderr + unreachable.stderr
    assert not any(swarm_leftovers(stack).values())


def secrets_are_files_not_variables(deployable: Deployment) -> None:
    """Check the password is in no service spec, no environment: a file in /run/secrets."""
    copy, stack = deployable.copy, deployable.stack
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


def test_deploy_rolls_without_a_failed_request_and_rolls_back_by_itself(
    deployable: Deployment, tmp_path: Path
) -> None:
    """Deploy; update under load (0 failures); a failing health check rolls back; undeploy."""
    copy, env, stack = deployable.copy, deployable.env, deployable.stack
    port, api_ref = deployable.port, deployable.api_ref
    refused_before_anything_runs(deployable)

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
    secrets_are_files_not_variables(deployable)
    assert running_digest(f"{stack}_api") == pushed_digest(api_ref)

    v1 = pushed_digest(api_ref)
    v2 = new_version(api_ref, NEXT_VERSION, tmp_path / "next")
    with load(port, seconds=240) as rolling:
        update = copy.run("inv", "deploy", env=env)
    assert update.returncode == 0, update.stderr[-3000:]
    assert rolling.sent > 100
    assert (rolling.failed, dict(rolling.reasons)) == (0, {})
    assert running_digest(f"{stack}_api") == running_digest(f"{stack}_worker") == v2

    back = copy.run("inv", "rollback", "--service", "api", env=env)
    assert back.returncode == 0, back.stderr[-2000:]
    assert f"{stack}: rolled back api" in back.stdout
    assert running_digest(f"{stack}_api") == v1

    new_version(api_ref, FAILING_HEALTH, tmp_path / "failing")
    with load(port, seconds=240) as failing:
        broken = copy.run("inv", "deploy", env=env)
    assert broken.returncode == 1
    assert (
        "ERROR: api did not converge (rolled back): the previous version keeps serving; "
        "also rolled back: worker"
    ) in broken.stderr
    assert "unhealthy container" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert (failing.failed, dict(failing.reasons)) == (0, {})
    # As before the deploy: Swarm rolled the API back, shipyard the worker, whose check passed.
    assert running_digest(f"{stack}_api") == v1
    assert running_digest(f"{stack}_worker") == v2

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
    drifted_before_anything_runs(deployable)


def drifted_before_anything_runs(deployable: Deployment) -> None:
    """Check a new password beside the kept data: `inv deploy` stops, as `inv up` does."""
    copy, env, stack = deployable.copy, deployable.env, deployable.stack
    env_prod = copy.root / "env/.env.prod"
    text = env_prod.read_text()
    env_prod.write_text(
        re.sub(r"^POSTGRES_PASSWORD=.*$", "POSTGRES_PASSWORD=another-one", text, flags=re.MULTILINE)
    )
    try:
        drift = copy.run("inv", "deploy", env=env)
    finally:
        env_prod.write_text(text)
    assert drift.returncode == 1, drift.stderr[-2000:]
    assert (
        f"ERROR: the {stack} stack's data was created with another POSTGRES_PASSWORD"
        in drift.stderr
    )
    assert f"'docker volume rm {stack}_db-data'" in drift.stderr
    assert "Traceback" not in drift.stderr
    left = swarm_leftovers(stack)
    assert (left["services"], left["secrets"], left["networks"]) == ([], [], [])
