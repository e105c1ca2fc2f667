"""`inv dev-up` / `dev-status` / `status` / `dev-down` against the real engine."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.integration.realstack import Stack, docker

SERVICES = {"api", "db", "migrate", "redis", "worker"}


def http_json(url: str, body: dict[str, str] | None = None) -> dict[str, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - localhost test stack
        result: dict[str, object] = json.loads(response.read())
        return result


def wait_for_job(url: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        job = http_json(url)
        if job["status"] == "done" or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_dev_up_status_down_keeps_the_database(stack: Stack) -> None:
    """Up healthy with URLs; status shows it; down leaves no container but keeps the data."""
    up = stack.run("inv", "dev-up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "dev stack is up: 5 containers ready" in up.stdout
    assert f"api        http://localhost:{stack.api_port}" in up.stdout

    rows = {row["Service"]: row for row in stack.compose_ps("dev")}
    assert set(rows) == SERVICES
    assert rows["migrate"]["State"] == "exited"
    assert rows["migrate"]["ExitCode"] == 0
    assert all(rows[s]["Health"] == "healthy" for s in SERVICES - {"migrate"})

    status = stack.run("inv", "dev-status")
    assert status.returncode == 0, status.stderr
    assert f"{stack.name}-dev-api-1" in status.stdout
    assert "(healthy)" in status.stdout
    overview = stack.run("inv", "status")
    api_row = next(
        line
        for line in overview.stdout.splitlines()
        if f"{stack.name}-dev " in line and " api " in line
    )
    assert api_row.split()[:5] == ["dev", f"{stack.name}-dev", "api", "running", "healthy"]

    # The API and the worker really work together: a job goes through Postgres and Redis.
    api = f"http://127.0.0.1:{stack.api_port}"
    job = http_json(f"{api}/jobs", {"payload": "keep me"})
    assert wait_for_job(f"{api}/jobs/{job['id']}")["result"] == "KEEP ME"

    # Hot reload: the source is bind-mounted and uvicorn --reload picks up a new route.
    api_source = stack.root / "app/src/demo/api.py"
    api_source.write_text(
        api_source.read_text() + '\n\n@app.get("/hot")\ndef hot() -> dict[str, bool]:\n'
        '    """Added while the stack runs."""\n    return {"reloaded": True}\n'
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            assert http_json(f"{api}/hot") == {"reloaded": True}
            break
        except OSError:
            assert time.monotonic() < deadline, "uvicorn never reloaded the edited source"
            time.sleep(0.5)

    down = stack.run("inv", "dev-down")
    assert down.returncode == 0, down.stderr
    left = stack.leftovers(f"{stack.name}-dev")
    assert left["containers"] == []
    assert left["networks"] == []
    assert f"{stack.name}-dev_db-data" in left["volumes"]

    again = stack.run("inv", "dev-up", "--no-build")
    assert again.returncode == 0, again.stdout + again.stderr
    assert http_json(f"{api}/jobs/{job['id']}")["result"] == "KEEP ME"

    assert stack.run("inv", "dev-down").returncode == 0
    refuse_changed_secret_and_delete_on_yes(stack)


def refuse_changed_secret_and_delete_on_yes(stack: Stack) -> None:
    """Check that the volume remembers its password, and deleting it needs --yes without a tty."""
    env_dev = stack.root / "env/.env.dev"
    kept = env_dev.read_text()
    env_dev.write_text(kept.replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=regenerated-", 1))
    refused = stack.run("inv", "dev-up", "--no-build")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.startswith(
        "ERROR: the dev stack's data was created with another POSTGRES_PASSWORD: it would not start"
    ), refused.stderr
    assert "TIP: put the old value back in the env file, or delete the data" in refused.stderr
    assert "Traceback" not in refused.stderr
    data = [f"{stack.name}-dev_db-data", f"{stack.name}-dev_redis-data"]
    left = stack.leftovers(f"{stack.name}-dev")
    assert (left["containers"], left["volumes"]) == ([], data)  # nothing started, nothing lost

    env_dev.write_text(kept)
    regenerated = stack.run("inv", "env-init", "--env", "dev", "--force")
    assert regenerated.returncode == 0, regenerated.stderr
    assert "WARNING: the dev stack's data was created with the old values" in regenerated.stderr
    assert "another POSTGRES_PASSWORD than env/.env.dev" in regenerated.stderr
    env_dev.write_text(kept)

    asked = stack.run("inv", "dev-down", "--volumes")
    assert asked.returncode == 1, asked.stderr
    assert "there is no terminal to ask: nothing was removed" in asked.stderr
    assert "TIP: to delete it, run 'inv dev-down --volumes --yes'" in asked.stderr
    assert stack.leftovers(f"{stack.name}-dev")["volumes"] == data
    gone = stack.run("inv", "dev-down", "--volumes", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert stack.leftovers(f"{stack.name}-dev") == {"containers": [], "networks": [], "volumes": []}


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_dry_run_prints_commands_and_starts_nothing(stack: Stack, builder: str) -> None:
    """`inv --dry dev-up` shows the build (a bake, or a classic build) and up; nothing starts."""
    dry = stack.run("inv", "--dry", "dev-up", env={"SHIPYARD_BUILDER": builder})
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout + dry.stderr
    if builder == "buildx":
        assert "docker buildx bake --file " in out
        assert f'"{stack.name}:development"' in out  # the definition is shown
    else:
        assert (
            "DOCKER_BUILDKIT=1 docker build --file docker/Dockerfile --target development "
            f"--tag {stack.name}:development"
        ) in out
    assert (
        f"docker compose --project-name {stack.name}-dev --file compose/docker-compose.yml"
        in dry.stdout
    )
    assert stack.leftovers(f"{stack.name}-dev")["containers"] == []


def test_unknown_environment_is_one_clear_error(stack: Stack) -> None:
    """A typo ends in ERROR + TIP, exit 1, no traceback."""
    result = stack.run("inv", "up", "--env", "stagign")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "ERROR: unknown environment 'stagign' (this stack has: ci, dev, prod, test)"
    )
    assert "Traceback" not in result.stderr


def test_engine_down_is_named_with_a_tip(stack: Stack) -> None:
    """With the engine unreachable, the user is told so and how to fix it."""
    result = stack.run("inv", "dev-status", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 1
    assert "ERROR: the Docker engine is not reachable" in result.stderr
    assert "TIP: start Docker Desktop" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_taken_is_named_and_nothing_leaks(stack: Stack) -> None:
    """A published port in use: the error names it, and the half-started stack is removed."""
    import socket  # noqa: PLC0415

    with socket.socket() as blocker:
        # The earlier test's connections may linger in TIME_WAIT on this port.
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", stack.api_port))
        blocker.listen()
        # Builds (cached) rather than --no-build, so the test does not lean on an earlier one.
        result = stack.run("inv", "dev-up")
    assert result.returncode == 1
    assert "ERROR: a port the dev stack publishes is already taken" in result.stderr
    assert f"127.0.0.1:{stack.api_port}" in result.stderr
    assert "TIP: stop whatever listens there, or change the port in env/.env.dev" in result.stderr
    assert "Traceback" not in result.stderr
    assert stack.leftovers(f"{stack.name}-dev")["containers"] == []
    docker("volume", "rm", f"{stack.name}-dev_db-data", f"{stack.name}-dev_redis-data", check=False)


def test_a_port_changed_to_a_taken_one_leaves_the_running_stack(stack: Stack) -> None:
    """The dev stack runs; API_PORT is changed to a taken port: the stack is not removed."""
    import socket  # noqa: PLC0415

    env_dev = stack.root / "env/.env.dev"
    before = env_dev.read_text()
    try:
        up = stack.run("inv", "dev-up", "--no-build")
        assert up.returncode == 0, up.stderr[-3000:]
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            taken = blocker.getsockname()[1]
            env_dev.write_text(before.replace(f"API_PORT={stack.api_port}", f"API_PORT={taken}"))
            again = stack.run("inv", "dev-up", "--no-build")
        assert again.returncode == 1
        assert "ERROR: a port the dev stack publishes is already taken" in again.stderr
        assert "the stack was running before this attempt: left as it is" in again.stderr
        assert "Traceback" not in again.stderr
        running = {row["Service"] for row in stack.compose_ps("dev") if row["State"] == "running"}
        assert {"db", "redis", "worker"} <= running  # what worked still works
    finally:
        env_dev.write_text(before)
        stack.run("inv", "dev-down", "--volumes", "--yes")
    assert stack.leftovers(f"{stack.name}-dev")["containers"] == []


def test_env_explain_against_real_compose(stack: Stack) -> None:
    """Compose's own resolved model: the shell beats the env file, secrets stay redacted."""
    import json  # noqa: PLC0415

    result = stack.run(
        "inv", "env-explain", "--key", "POSTGRES_DB", "--json", env={"POSTGRES_DB": "from_shell"}
    )
    assert result.returncode == 0, result.stderr
    rows = {row["service"]: row for row in json.loads(result.stdout)["variables"]}
    assert set(rows) == {"api", "db", "migrate", "worker"}
    assert rows["api"]["value"] == "from_shell"
    assert (
        rows["api"]["source"]
        == "environment in compose/docker-compose.yml <- POSTGRES_DB from the shell"
    )
    secret = stack.run("inv", "env-explain", "--key", "POSTGRES_PASSWORD", "--json")
    assert secret.returncode == 0, secret.stderr
    password = next(
        line.split("=", 1)[1]
        for line in (stack.root / "env/.env.dev").read_text().splitlines()
        if line.startswith("POSTGRES_PASSWORD=")
    )
    assert password not in secret.stdout
    assert json.loads(secret.stdout)["variables"][0]["value"].startswith("<redacted, ")
