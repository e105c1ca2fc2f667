"""Each example under examples/ adopts shipyard as a user would; every acceptance step, real engine.

For each example: `inv docker-build` builds exactly the images its compose
files declare; `inv dev-up` reports every service healthy; `nox -s
docker-test` passes with JUnit out; `inv up --env prod --scale S=3` gives
three healthy replicas and `inv down --env prod` removes them; production
images run as UID 1000 and stop on SIGTERM within a 1 s grace period (exit
code, not a timer); `inv image-scan-secrets` finds nothing.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.realstack import (
    BUDGET,
    Example,
    Stack,
    copy_example,
    docker,
    own_layers,
    production_overhead,
    remove_everything,
)


@dataclass(frozen=True)
class Shape:
    """What one example must show."""

    example: str
    images: frozenset[str]  # with {name} for the copy's name
    dev_services: frozenset[str]
    scale: str
    production: tuple[str, ...]  # production images to run and stop
    run_env: dict[str, str] = field(default_factory=dict)


BASE = "python:3.13-slim"  # every example's PYTHON_IMAGE
SHAPES = [
    Shape(
        "role-images",
        frozenset(
            {
                "{name}-api:latest",
                "{name}-web:latest",
                "{name}-user-code:latest",
                "{name}-tests:latest",
            }
        ),
        frozenset({"api", "web", "user-code"}),
        "user-code",
        ("{name}-api:latest", "{name}-web:latest", "{name}-user-code:latest"),
    ),
    Shape(
        "poetry-services",
        frozenset(
            {
                "{name}-orchestrator:development",
                "{name}-reducer:development",
                "{name}-orchestrator:production",
                "{name}-reducer:production",
            }
        ),
        frozenset({"orchestrator", "reducer"}),
        "reducer",
        ("{name}-orchestrator:production", "{name}-reducer:production"),
    ),
    Shape(
        "etl-profiles",
        frozenset({"{name}:runtime", "{name}:test"}),
        frozenset({"db", "webserver", "daemon"}),
        "daemon",
        ("{name}:runtime",),
        {"POSTGRES_USER": "x", "POSTGRES_PASSWORD": "x", "POSTGRES_DB": "x"},
    ),
]


@pytest.fixture(params=SHAPES, ids=[shape.example for shape in SHAPES])
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Example, Shape]]:
    """Yield a private copy of the example; remove everything it created afterwards."""
    shape: Shape = request.param
    copy = copy_example(shape.example, tmp_path)
    try:
        yield copy, shape
    finally:
        remove_everything(copy.name)


def ps(copy: Example, env: str) -> list[dict[str, object]]:
    """Return `docker compose ps` rows of the copy's ``env`` stack."""
    return Stack(copy.root, copy.name, 0).compose_ps(env)


def stop_exit_code(image: str, env: dict[str, str]) -> tuple[str, int]:
    """Start ``image`` as it ships, stop it with a 1 s grace period; return its user and exit code."""
    flags = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    cid = docker("run", "--detach", *flags, image).stdout.strip()
    try:
        time.sleep(1.5)  # past start-up: the process has its signal handling in place
        docker("stop", "--time", "1", cid)
        state = json.loads(docker("inspect", "--format", "{{json .State}}", cid).stdout)
        user = docker("inspect", "--format", "{{.Config.User}}", cid).stdout.strip()
        return user, int(state["ExitCode"])
    finally:
        docker("rm", "--force", cid, check=False)


def test_example_adopts_shipyard(example: tuple[Example, Shape]) -> None:
    """Build exactly the declared images, dev-up healthy, docker-test green, prod scaled and gone."""
    copy, shape = example
    built = copy.run("inv", "docker-build")
    assert built.returncode == 0, built.stderr[-3000:]
    assert copy.images() == {image.format(name=copy.name) for image in shape.images}

    up = copy.run("inv", "dev-up", "--no-build")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
    rows = ps(copy, "dev")
    assert {str(row["Service"]) for row in rows} == shape.dev_services
    assert all(row["Health"] == "healthy" for row in rows), rows
    down = copy.run("inv", "dev-down", "--volumes", "--yes")
    assert down.returncode == 0, down.stderr
    assert ps(copy, "dev") == []

    tested = copy.run("nox", "-s", "docker-test")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    junit = ET.parse(copy.root / "results/junit.xml")  # noqa: S314 - our own test's file
    suite = junit.getroot().find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "0")) > 0
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")

    created = copy.run("inv", "env-init", "--env", "prod")
    assert created.returncode == 0, created.stderr
    copy.set_ports(copy.root / "env/.env.prod")
    scaled = copy.run("inv", "up", "--env", "prod", "--scale", f"{shape.scale}=3")
    assert scaled.returncode == 0, scaled.stdout[-2000:] + scaled.stderr[-3000:]
    replicas = [row for row in ps(copy, "prod") if row["Service"] == shape.scale]
    assert len(replicas) == 3
    assert all(row["Health"] == "healthy" for row in replicas), replicas
    gone = copy.run("inv", "down", "--env", "prod")
    assert gone.returncode == 0, gone.stderr
    assert ps(copy, "prod") == []

    for image in shape.production:
        user, code = stop_exit_code(image.format(name=copy.name), shape.run_env)
        assert user == "1000:1000", image
        assert code in {0, 143}, f"{image} exited {code}: it ignored SIGTERM for the 1 s grace"
        # Base + venv + code + at most 2 MB; apt never ran in its lineage.
        ref = image.format(name=copy.name)
        overhead = production_overhead(ref, BASE, app=("/app", "/opt/baked"))
        assert 0 < overhead <= BUDGET, (image, overhead)
        layers = own_layers(ref, BASE)
        assert not [layer for layer in layers if "apt-get" in layer], (image, layers)

    scan = copy.run("inv", "image-scan-secrets")
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert "no secret found" in scan.stdout


@pytest.fixture
def roles(tmp_path: Path) -> Iterator[Example]:
    copy = copy_example("role-images", tmp_path)
    try:
        yield copy
    finally:
        remove_everything(copy.name)


def _configs(copy: Example) -> dict[str, object]:
    """Return each image's tags-independent identity: command, user, ports, labels."""
    found: dict[str, object] = {}
    for image in sorted(copy.images()):
        config = json.loads(
            docker("image", "inspect", "--format", "{{json .Config}}", image).stdout
        )
        keys = ("Cmd", "Entrypoint", "User", "ExposedPorts", "Labels", "Env", "WorkingDir")
        found[image] = {key: config.get(key) for key in keys}
    return found


def test_bake_and_the_classic_builder_make_the_same_images(roles: Example) -> None:
    """Buildx (one bake) and `docker build` per image: same names, same configuration."""
    baked = roles.run("inv", "docker-build", env={"SHIPYARD_BUILDER": "buildx"})
    assert baked.returncode == 0, baked.stderr[-3000:]
    assert "docker buildx bake" in baked.stdout
    by_bake = _configs(roles)
    docker("rmi", "--force", *roles.images())
    classic = roles.run("inv", "docker-build", env={"SHIPYARD_BUILDER": "docker"})
    assert classic.returncode == 0, classic.stderr[-3000:]
    assert classic.stdout.count("DOCKER_BUILDKIT=1 docker build") == 4
    assert len(by_bake) == 4
    assert _configs(roles) == by_bake


def test_user_code_bootstraps_an_empty_mount_and_never_touches_files(roles: Example) -> None:
    """An empty bind mount gets the baked packages; one with files keeps exactly its files."""
    generated = roles.root / "generated"  # owned by UID 1000, as on a laptop (copy_example)
    first = roles.run("inv", "dev-up")
    assert first.returncode == 0, first.stderr[-3000:]
    assert sorted(p.name for p in generated.iterdir()) == [
        ".gitkeep",
        "codegen.json",
        "dbt_utils.json",
    ]
    assert roles.run("inv", "dev-down").returncode == 0
    (generated / "codegen.json").unlink()
    (generated / "mine.txt").write_text("a developer's own file\n")
    again = roles.run("inv", "dev-up", "--no-build")
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(p.name for p in generated.iterdir()) == [".gitkeep", "dbt_utils.json", "mine.txt"]
    logs = roles.run("inv", "dev-logs", "--service", "user-code")
    assert "a mount that already has files: left as it is" in logs.stdout


def test_a_profile_reaches_up_status_and_teardown(tmp_path: Path) -> None:
    """`dev-up --profile runner` starts the optional role; status shows it; dev-down removes it."""
    copy = copy_example("etl-profiles", tmp_path)
    try:
        up = copy.run("inv", "dev-up", "--profile", "runner")
        assert up.returncode == 0, up.stderr[-3000:]
        runner = [row for row in ps(copy, "dev") if row["Service"] == "runner"]
        assert [(row["State"], row["Health"]) for row in runner] == [("running", "healthy")]
        status = copy.run("inv", "status")
        assert ["dev", f"{copy.name}-dev", "runner", "running", "healthy"] in [
            line.split()[:5] for line in status.stdout.splitlines()
        ]
        down = copy.run("inv", "dev-down", "--volumes", "--yes")
        assert down.returncode == 0, down.stderr
        assert ps(copy, "dev") == []
        plain = copy.run("inv", "dev-up", "--no-build")
        assert plain.returncode == 0, plain.stderr[-3000:]
        assert "runner" not in {row["Service"] for row in ps(copy, "dev")}
    finally:
        remove_everything(copy.name)
