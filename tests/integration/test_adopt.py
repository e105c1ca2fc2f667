"""`shipyard init` on one fixture project of each kind, then its own suite inside its image.

For each fixture (uv + FastAPI + Postgres + Alembic, Poetry + Django +
Postgres + Redis on Python 3.10, pip + Flask without pyproject.toml, a plain
library on Python 3.10, Flask on MariaDB through PyMySQL, a Celery worker on
RabbitMQ): `init --dry-run` writes nothing; `init` then `nox -s
docker-test` passes the fixture's own tests in the image; a second `init`
changes nothing; `init` over a changed file refuses and writes nothing, and
`init --force` puts it back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipyard.adopt import plan
from shipyard.core.config import load_stack
from shipyard.core.process import SubprocessRunner
from shipyard.core.workspace import open_workspace
from shipyard.stack import lintrules
from tests.integration.realstack import (
    BIN,
    BUDGET,
    REPO,
    Stack,
    docker,
    free_port,
    own_layers,
    production_overhead,
    remove_everything,
)
from tests.unit.adopt.variants import variants

FIXTURES = REPO / "tests/fixtures/adopt"


@dataclass(frozen=True)
class Kind:
    """One fixture project and what its suite must show."""

    fixture: str
    settings: str  # the file the project name is set in before init
    tests: int
    generated: tuple[str, ...]  # files init must write, beyond the common ones


KINDS = [
    Kind("uv-fastapi", "pyproject.toml", 1, ()),
    Kind("poetry-django", "pyproject.toml", 3, ()),
    Kind("pip-flask", "shipyard.toml", 2, ("shipyard.toml",)),
    Kind("plain-lib", "pyproject.toml", 3, ()),
    Kind(
        "mariadb-flask", "shipyard.toml", 3, ("shipyard.toml", "compose/mariadb-test-databases.sh")
    ),
    Kind("celery-rabbitmq", "shipyard.toml", 3, ("shipyard.toml",)),
    Kind("uv-workspace", "pyproject.toml", 1, ()),
    # Its own TEST_RUNNER through manage.py test, as its CI: JUnit from Django's runner.
    Kind("django-runner", "shipyard.toml", 3, ("shipyard.toml",)),
]
COMMON = (
    "docker/Dockerfile",
    "compose/docker-compose.yml",
    "compose/docker-compose.dev.yml",
    "compose/docker-compose.test.yml",
    "compose/docker-compose.ci.yml",
    "compose/docker-compose.prod.yml",
    "env/.env.example",
    "env/.env.ci",
    "tasks.py",
    "noxfile.py",
    "Makefile",
    ".gitignore",
    "docker/Dockerfile.dockerignore",
)


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file under ``root`` (but what runs write: results/, env/.env.test)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] != "results"
        and p.name != ".env.test"
        and "__pycache__" not in p.parts
    }


@pytest.fixture(params=KINDS, ids=[k.fixture for k in KINDS])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Kind, Stack]]:
    """Copy one fixture under a unique project name (set in its settings); tear it down."""
    kind: Kind = request.param
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / kind.fixture, root)
    settings = root / kind.settings
    before = settings.read_text() if settings.is_file() else ""
    table = "" if kind.settings == "shipyard.toml" else "[tool.shipyard]\n"
    settings.write_text(f'{before}\n{table}project = "{name}"\n'.lstrip("\n"))
    try:
        yield kind, Stack(root, name, 0)
    finally:
        remove_everything(name)


def test_init_adopts_each_kind_and_its_suite_passes_in_the_image(
    project: tuple[Kind, Stack],
) -> None:
    """Dry run writes nothing; init + docker-test pass the fixture's suite; init is idempotent."""
    kind, stack = project
    untouched = snapshot(stack.root)

    dry = stack.run("shipyard", "init", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing was written" in dry.stdout
    assert snapshot(stack.root) == untouched

    first = stack.run("shipyard", "init")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert first.stdout.splitlines()[-1].startswith("verified: "), first.stdout[-2000:]
    assert "mended:" not in first.stdout  # the fixtures say everything init needs
    for path in (*COMMON, *kind.generated):
        assert (stack.root / path).is_file(), path
    # What `nox -s lint` checks: compose per overlay, secrets, env files, build contexts.
    ws = open_workspace(SubprocessRunner(echo=False), start=stack.root)
    assert lintrules.lint_stack(ws, log=lambda _: None)[0] == []

    test = stack.run("nox", "-s", "docker-test")
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    suite = ET.parse(stack.root / "results/junit.xml").getroot().find("testsuite")  # noqa: S314 - our own run's file
    assert suite is not None
    assert (int(suite.get("tests", "0")), int(suite.get("failures", "0"))) == (kind.tests, 0)
    assert int(suite.get("errors", "0")) == 0
    if kind.fixture == "django-runner":  # one skipped, as `python manage.py test` says natively
        assert int(suite.get("skipped", "0")) == 1
        assert "Found 3 test(s)" in test.stdout
        assert "OK (skipped=1)" in test.stderr  # Django's own summary, as natively
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}

    # A server's production image: base + venv + code + at most 2 MB, no apt in its lineage
    # (a library's prod stack builds no production image).
    prod = stack.run("inv", "docker-build", "--env", "prod")
    assert prod.returncode == 0, prod.stdout[-2000:] + prod.stderr[-3000:]
    base = next(
        line.split("=", 1)[1]
        for line in (stack.root / "docker/Dockerfile").read_text().splitlines()
        if line.startswith("ARG PYTHON_IMAGE=")
    )
    for image in [line for line in prod.stdout.splitlines() if line.endswith(":production")]:
        assert 0 < production_overhead(image, base) <= BUDGET, image
        assert not [layer for layer in own_layers(image, base) if "apt-get" in layer]

    adopted = snapshot(stack.root)
    again = stack.run("shipyard", "init", "--no-verify")
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout
    assert snapshot(stack.root) == adopted


def test_a_project_keeps_its_own_makefile_dockerfile_compose_and_ignore_rules(
    tmp_path: Path,
) -> None:
    """Its own files stay byte for byte; shipyard's go beside them; its suite runs in the image.

    The project's .dockerignore leaves tests/ out of its own image: shipyard's test
    image still has them, through docker/shipyard.Dockerfile.dockerignore.
    """
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "own-files", root)
    (root / "shipyard.toml").write_text(f'project = "{name}"\n')
    own = ("Makefile", "tasks.py", "noxfile.py", "docker/Dockerfile", "docker-compose.yml")
    before = {path: (root / path).read_bytes() for path in (*own, ".dockerignore")}
    stack = Stack(root, name, 0)
    try:
        first = stack.run("shipyard", "init")
        assert first.returncode == 0, first.stdout + first.stderr
        for path in own[:4]:
            assert re.search(
                rf"^  keep +{re.escape(path)}  \(shipyard's is ", first.stdout, re.MULTILINE
            )
        ws = open_workspace(SubprocessRunner(echo=False), start=root)
        assert lintrules.lint_stack(ws, log=lambda _: None)[0] == []

        test = stack.run("nox", "-f", "shipyard_noxfile.py", "-s", "docker-test")
        assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
        suite = ET.parse(root / "results/junit.xml").getroot().find("testsuite")  # noqa: S314 - our own run's file
        assert suite is not None
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
        # Its own ignore rules carry over to shipyard's images, but for tests/.
        in_image = docker("run", "--rm", "--entrypoint", "ls", f"{name}:test", "-a", "/app")
        assert "tests" in in_image.stdout.split()
        assert ".web_secret_key" not in in_image.stdout.split()

        # As a user's shell runs it: not as a sub-make of the suite's own `make test`.
        outer = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
        shim = subprocess.run(
            ["make", "-f", "shipyard.mk", "--dry-run", "dev-up"],
            cwd=root,
            env={k: v for k, v in os.environ.items() if k not in outer},
            capture_output=True,
            text=True,
            check=False,
        )
        assert shim.stdout == "inv -c shipyard_tasks dev-up\n", shim.stderr
        listed = stack.run("inv", "-c", "shipyard_tasks", "--list")
        assert listed.returncode == 0, listed.stderr
        assert "dev-up" in listed.stdout

        adopted = snapshot(root)
        forced = stack.run("shipyard", "init", "--force", "--no-verify")
        assert forced.returncode == 0, forced.stderr
        assert snapshot(root) == adopted
        assert {path: (root / path).read_bytes() for path in before} == before
    finally:
        remove_everything(name)


def test_init_over_a_changed_file_refuses_then_force_restores(tmp_path: Path) -> None:
    """A hand-edited generated file stops init with a clear error; --force rewrites it."""
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "pip-flask", root)
    stack = Stack(root, name, 0)
    assert stack.run("shipyard", "init", "--no-verify").returncode == 0
    dockerfile = root / "docker/Dockerfile"
    generated = dockerfile.read_text()
    dockerfile.write_text(generated + "# my own line\n")
    edited = snapshot(root)

    refused = stack.run("shipyard", "init", "--no-verify")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "ERROR: 1 generated file(s) differ from what the settings give now (a settings change, "
        "or an edit of the file): docker/Dockerfile"
    )
    assert "TIP: run 'shipyard init --force'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(root) == edited

    forced = stack.run("shipyard", "init", "--force", "--no-verify")
    assert forced.returncode == 0, forced.stderr
    assert "replace   docker/Dockerfile" in forced.stdout
    assert dockerfile.read_text() == generated


def test_init_with_the_engine_down_writes_and_says_how_to_check_later(tmp_path: Path) -> None:
    """No engine: the files are written, one ERROR says the check waits for it, exit 1."""
    root = tmp_path / "svc"
    shutil.copytree(FIXTURES / "pip-flask", root)
    done = Stack(root, "svc", 0).run("shipyard", "init", env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert done.returncode == 1
    assert done.stderr.startswith(
        "ERROR: init wrote its files; checking them in the image needs the engine: the Docker "
        "engine is not reachable through DOCKER_HOST=tcp://127.0.0.1:9"
    )
    tip = done.stderr.splitlines()[-1]
    assert tip.startswith("TIP: ")
    assert tip.endswith(
        f"; then 'shipyard verify {root}' (or 'shipyard init --no-verify' to write without "
        "the check)"
    )
    assert "Traceback" not in done.stderr
    assert (root / "compose/docker-compose.yml").is_file()


def test_gitignore_commits_the_contract_even_under_the_python_template(tmp_path: Path) -> None:
    """GitHub's Python template ignores env/: init re-includes the contract, keeps secrets out."""
    root = tmp_path / "svc"
    shutil.copytree(FIXTURES / "pip-flask", root)
    (root / ".gitignore").write_text("# Environments\n.env\nenv/\nvenv/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert Stack(root, "svc", 0).run("shipyard", "init", "--no-verify").returncode == 0
    (root / "env/.env.dev").write_text("SECRET_KEY=x\n")

    def ignored(path: str) -> bool:
        found = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", path], check=False)
        return found.returncode == 0

    assert not ignored("env/.env.example")
    assert not ignored("env/.env.ci")
    assert ignored("env/.env.dev")
    assert ignored("env/.env.dev.local")
    assert ignored("results/junit.xml")
    assert ignored("venv/bin/python")  # the project's own lines still hold


def uv_fastapi_copy(tmp_path: Path) -> Stack:
    """Copy the uv + FastAPI fixture under a unique project name, set in its pyproject.toml."""
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    shutil.copytree(FIXTURES / "uv-fastapi", tmp_path / name)
    pyproject = tmp_path / name / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'\n[tool.shipyard]\nproject = "{name}"\n')
    return Stack(tmp_path / name, name, 0)


def test_an_adopted_projects_prod_stack_runs_hardened(tmp_path: Path) -> None:
    """What init generates for production: healthy read-only, capability-less, no new privileges."""
    stack = uv_fastapi_copy(tmp_path)
    name, root = stack.name, stack.root
    try:
        assert stack.run("shipyard", "init", "--no-verify").returncode == 0
        assert stack.run("inv", "env-init", "--env", "prod").returncode == 0
        env_prod = root / "env/.env.prod"
        env_prod.write_text(
            re.sub(
                r"^APP_PORT=.*$",
                f"APP_PORT={free_port()}",
                env_prod.read_text(),
                flags=re.MULTILINE,
            )
        )
        up = stack.run("inv", "up", "--env", "prod")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        for service in ("app", "migrate", "db"):
            host = json.loads(
                docker(
                    "inspect", "--format", "{{json .HostConfig}}", f"{name}-prod-{service}-1"
                ).stdout
            )
            assert (host["ReadonlyRootfs"], host["CapDrop"]) == (True, ["ALL"]), service
            assert "no-new-privileges:true" in host["SecurityOpt"], service
        written = docker("exec", f"{name}-prod-app-1", "touch", "/app/written", check=False)
        assert "Read-only file system" in written.stderr
    finally:
        stack.run("inv", "down", "--env", "prod", "--volumes", "--yes")
        remove_everything(name)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_verify_proves_the_guesses_in_the_image_and_names_a_wrong_one(tmp_path: Path) -> None:
    """The first init proves the app imports, migrations run, tests collect; verify names a wrong app."""
    stack = uv_fastapi_copy(tmp_path)
    name, pyproject = stack.name, stack.root / "pyproject.toml"
    try:
        done = stack.run("shipyard", "init")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert done.stdout.splitlines()[-1] == (
            "verified: the app imports, the prepare step ran, 1 test collected (no test was run)"
        )
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}

        text = pyproject.read_text()
        pyproject.write_text(text.replace('app = "notes.main:app"', 'app = "notes.main:api"'))
        assert stack.run("shipyard", "init", "--force", "--no-verify").returncode == 0
        wrong = stack.run("shipyard", "verify")
        assert wrong.returncode == 1
        error = wrong.stderr[wrong.stderr.index("ERROR:") :]  # after the commands it echoed
        assert error.startswith(
            "ERROR: not verified: the app notes.main:api does not import in the test image\n"
        )
        assert "AttributeError" in error
        assert "TIP: when the error names the app" in error
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}

        text = pyproject.read_text().replace('app = "notes.main:api"', 'app = "notes.main:app"')
        pyproject.write_text(text.replace('"alembic upgrade head"', '"alembic upgrade nosuch"'))
        assert stack.run("shipyard", "init", "--force", "--no-verify").returncode == 0
        failing = stack.run("shipyard", "verify")
        assert failing.returncode == 1
        error = failing.stderr[failing.stderr.index("ERROR:") :]
        assert error.startswith(
            "ERROR: not verified: the prepare step (alembic upgrade nosuch) failed in the test "
            "stack\n"
        )
        assert "nosuch" in error.split("TIP:")[0].split("\n", 1)[1]  # alembic's own words
        assert error.splitlines()[-1].startswith("TIP: when the error names a variable, set it")
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
    finally:
        remove_everything(name)


def test_init_mends_what_the_image_says_then_names_what_it_cannot(tmp_path: Path) -> None:
    """The app of a Flask subclass, an empty number, an undeclared test tool: each mended.

    Reading finds no ``Flask(...)`` call, the contract leaves ITEMS_PER_PAGE empty
    (``int('')`` fails at import), and the tests import factory-boy, which no
    requirement installs; init's verify step mends each in the settings, one line at
    a time, and the suite passes with the mended value. A test importing a module the
    project lacks is not guessed: the error names it, with the settings to change.
    """
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "subclass-flask", root)
    (root / "shipyard.toml").write_text(f'project = "{name}"\n')
    stack = Stack(root, name, 0)
    try:
        done = stack.run("shipyard", "init")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        said = [line for line in done.stdout.splitlines() if line.startswith(("mended", "verif"))]
        assert said == [
            'mended: ITEMS_PER_PAGE = "1" under [init.env] in shipyard.toml  '
            "(ITEMS_PER_PAGE is empty and the code needs a number)",
            'mended: app = "shop:app" under [init] in shipyard.toml  '
            "(found by importing the code in the test image)",
            'mended: extra-test-packages = ["factory-boy"] under [init] in shipyard.toml  '
            "(the tests import factory, not installed)",
            "verified: the app imports, 2 tests collected (no test was run)",
        ]
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
        assert "shop:app" in (root / "compose/docker-compose.yml").read_text()

        test = stack.run("shipyard", "docker-test")
        assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
        suite = ET.parse(root / "results/junit.xml").getroot().find("testsuite")  # noqa: S314 - our own run's file
        assert suite is not None
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")

        adopted = snapshot(root)
        again = stack.run("shipyard", "init", "--no-verify")
        assert again.returncode == 0, again.stderr
        assert snapshot(root) == adopted

        (root / "tests/test_reports.py").write_text("from shop.reports import monthly\n")
        unmended = stack.run("shipyard", "init")
        assert unmended.returncode == 1
        assert "mended" not in unmended.stdout
        error = unmended.stderr[unmended.stderr.index("ERROR:") :]
        assert error.startswith(
            "ERROR: not verified: collecting the tests failed in the test image (pytest exited 2)"
        )
        assert "No module named 'shop.reports'" in error
        assert error.splitlines()[-1] == (
            "TIP: a missing test package: add it to extra-test-packages in the init settings "
            "in shipyard.toml; a missing variable: set it under env; then "
            "'shipyard init --force'"
        )
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
    finally:
        remove_everything(name)


def test_an_app_a_factory_builds_is_found_by_importing_the_code(tmp_path: Path) -> None:
    """No module-level app and no `Flask(...)` call: the factory is found by calling it."""
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "subclass-flask", root)
    (root / "shipyard.toml").write_text(
        f'project = "{name}"\n[init]\nextra-test-packages = ["factory-boy"]\n'
        '[init.env]\nITEMS_PER_PAGE = "1"\n'
    )
    (root / "shop/__init__.py").write_text(
        "import os\n\nfrom flask import Flask\n\n\nclass Shop(Flask):\n    pass\n\n\n"
        "def get_wsgi_app() -> Shop:\n"
        "    app = Shop(__name__)\n"
        '    app.config["ITEMS_PER_PAGE"] = int(os.environ["ITEMS_PER_PAGE"])\n'
        '    app.get("/")(lambda: {"items_per_page": app.config["ITEMS_PER_PAGE"]})\n'
        "    return app\n"
    )
    tests = root / "tests/test_shop.py"
    tests.write_text(
        tests.read_text().replace(
            "from shop import app", "from shop import get_wsgi_app\n\napp = get_wsgi_app()"
        )
    )
    stack = Stack(root, name, 0)
    try:
        done = stack.run("shipyard", "init")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        said = [line for line in done.stdout.splitlines() if line.startswith(("mended", "verif"))]
        assert said == [
            'mended: app = "shop:get_wsgi_app()" under [init] in shipyard.toml  '
            "(found by importing the code in the test image)",
            "verified: the app imports, 2 tests collected (no test was run)",
        ]
        assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
    finally:
        remove_everything(name)


def test_every_template_branch_passes_hadolint_and_compose_config(tmp_path: Path) -> None:
    """Every generated Dockerfile passes hadolint's defaults; every overlay, Compose's own config."""
    commands = []
    for adoption in variants():
        root = tmp_path / adoption.project
        for path, text in plan.rendered(adoption).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        commands.append((root, [str(BIN / "hadolint"), "--no-color", "docker/Dockerfile"]))
        for env in ("dev", "test", "ci", "prod"):
            files = ["-f", "compose/docker-compose.yml", "-f", f"compose/docker-compose.{env}.yml"]
            config = ["--env-file", "env/.env.ci", "--profile", "*", "config", "--quiet"]
            commands.append((root, ["docker", "compose", *files, *config]))

    def failure(command: tuple[Path, list[str]]) -> str:
        root, argv = command
        done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
        return f"{root.name}: {argv}\n{done.stdout}{done.stderr}" if done.returncode else ""

    with ThreadPoolExecutor(4) as pool:
        failures = [f for f in pool.map(failure, commands) if f]
    assert len(commands) == 75 * 5
    assert failures == []


def _task_succeeds(container: str, x: int, timeout: float = 60) -> None:
    """Send jobs.worker.add(x, 1) from inside ``container``; wait for its worker's log to say 'succeeded'."""
    sent = docker(
        "exec",
        container,
        "python",
        "-c",
        f"from jobs.worker import add; print(add.delay({x}, 1).id)",
    ).stdout.strip()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = docker("logs", container).stderr
        if re.search(rf"Task jobs\.worker\.add\[{sent}\] succeeded in \S+: {x + 1}\b", log):
            return
        time.sleep(0.5)
    raise AssertionError(f"task {sent} did not succeed in {timeout}s:\n{log[-3000:]}")


def test_a_celery_worker_runs_tasks_in_dev_as_the_host_user_and_in_prod(tmp_path: Path) -> None:
    """Init finds the Celery app; its worker runs a task in dev and prod.

    In dev the worker runs as the host user (a UID that is not 1000, as on a
    host whose first user is not 1000: the checkout is that user's), writes in
    the bind mount as them, and restarts when a module changes; in prod it runs
    as 1000 on a read-only root.
    """
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "celery-rabbitmq", root)
    (root / "shipyard.toml").write_text(f'project = "{name}"\n')
    stack = Stack(root, name, 0)
    host_user = {"SHIPYARD_UID": "4321", "SHIPYARD_GID": "4321"}
    worker = f"{name}-dev-worker-1"
    try:
        init = stack.run("shipyard", "init", "--no-verify")
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
        assert re.search(r"workers\s+worker\s+\(a Celery app: jobs.worker:app\)", init.stdout)
        subprocess.run(["chown", "-R", "4321:4321", str(root)], check=True)
        up = stack.run("inv", "bootstrap", env=host_user)
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        assert "worker healthy" in up.stderr
        assert docker("exec", worker, "id", "-u").stdout.strip() == "4321"
        _task_succeeds(worker, 41)
        docker("exec", worker, "sh", "-c", "echo x > /app/written-in-dev")
        assert (root / "written-in-dev").stat().st_uid == 4321

        # A code change restarts the worker, which serves the next task.
        module = root / "jobs/worker.py"
        module.write_text(module.read_text() + "\n# edited\n")
        deadline = time.monotonic() + 30
        while "change detected" not in docker("logs", worker).stderr:
            assert time.monotonic() < deadline, docker("logs", worker).stderr[-2000:]
            time.sleep(0.5)
        _task_succeeds(worker, 42)
        assert stack.run("inv", "dev-down").returncode == 0

        assert stack.run("inv", "env-init", "--env", "prod").returncode == 0
        prod = stack.run("inv", "up", "--env", "prod")
        assert prod.returncode == 0, prod.stdout[-2000:] + prod.stderr[-3000:]
        assert "worker healthy" in prod.stderr
        prod_worker = f"{name}-prod-worker-1"
        assert docker("exec", prod_worker, "id", "-u").stdout.strip() == "1000"
        host = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", prod_worker).stdout)
        assert (host["ReadonlyRootfs"], host["CapDrop"]) == (True, ["ALL"])
        _task_succeeds(prod_worker, 43)
    finally:
        stack.run("inv", "down", "--env", "prod", "--volumes", "--yes")
        stack.run("inv", "down", "--env", "dev", "--volumes", "--yes")
        remove_everything(name)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_an_app_whose_database_is_down_is_unhealthy(tmp_path: Path) -> None:
    """The check init writes asks the app's own /health (which queries PostgreSQL), not a port."""
    stack = uv_fastapi_copy(tmp_path)
    name = stack.name
    app, db = f"{name}-test-app-1", f"{name}-test-db-1"

    def health() -> tuple[str, str]:
        state = json.loads(docker("inspect", "--format", "{{json .State.Health}}", app).stdout)
        return state["Status"], (state["Log"] or [{}])[-1].get("Output", "").strip()

    # A .env folder of the project's own (testdrivenio's layout): bake, which reads
    # a .env where it runs, failed every build with "read .env: is a directory".
    (stack.root / ".env").mkdir()
    (stack.root / ".env/.dev-sample").write_text("FLASK_APP=app.py\n")
    try:
        init = stack.run("shipyard", "init", "--no-verify")
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
        assert re.search(r"health-path\s+/health\s+\(notes/main.py:\d+ routes it", init.stdout)
        up = stack.run("inv", "test-up")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        assert health() == ("healthy", "200")
        docker("stop", db)
        deadline = time.monotonic() + 60
        while health()[0] != "unhealthy":
            assert time.monotonic() < deadline, health()
            time.sleep(0.5)
        assert health()[1] == "500"  # the app answers, but cannot reach its database
    finally:
        stack.run("inv", "test-down")
        remove_everything(name)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_an_app_that_logs_beside_its_code_runs_read_only_in_prod(tmp_path: Path) -> None:
    """pip-flask writes flaskr.log and logs/requests.log: a link into /tmp and a tmpfs in prod.

    What a dev server left in the checkout (its logs, a git-ignored secret file)
    is not in the production image built from that checkout.
    """
    name = f"sy-ad-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "pip-flask", root)
    (root / "shipyard.toml").write_text(f'project = "{name}"\n')
    assert (root / ".gitignore").read_text() == "instance/\n*.sqlite\n"
    for left in ("flaskr.log", "logs/dev.log", "instance/.secret_key", "flaskr/dev.sqlite"):
        (root / left).parent.mkdir(exist_ok=True)
        (root / left).write_text("dev-only\n")
    stack = Stack(root, name, 0)
    app = f"{name}-prod-app-1"
    try:
        init = stack.run("shipyard", "init", "--no-verify")
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
        assert re.search(
            r"writable\s+flaskr.log logs/\s+\(flaskr/__init__.py:\d+ writes", init.stdout
        )
        test = stack.run("nox", "-s", "docker-test")  # the suite writes them in the test image
        assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
        assert stack.run("inv", "env-init", "--env", "prod").returncode == 0
        env_prod = root / "env/.env.prod"
        port = free_port()
        env_prod.write_text(
            re.sub(r"^APP_PORT=.*$", f"APP_PORT={port}", env_prod.read_text(), flags=re.MULTILINE)
        )
        up = stack.run("inv", "up", "--env", "prod")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        host = json.loads(docker("inspect", "--format", "{{json .HostConfig}}", app).stdout)
        assert host["ReadonlyRootfs"] is True
        assert docker("exec", app, "id", "-u").stdout.strip() == "1000"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert json.load(answer) == {"greeting": "hello"}
        assert "flaskr started" in docker("exec", app, "cat", "/app/flaskr.log").stdout
        assert "GET /" in docker("exec", app, "cat", "/app/logs/requests.log").stdout
        written = docker("exec", app, "touch", "/app/elsewhere", check=False)
        assert "Read-only file system" in written.stderr  # the rest of the root stays read-only
        logs = docker("logs", app)
        assert "Control server error" not in logs.stdout + logs.stderr  # gunicorn 25's socket
        image = docker("inspect", "--format", "{{.Config.Image}}", app).stdout.strip()
        listed = docker("run", "--rm", "--entrypoint", "ls", image, "-a", "/app", "/app/logs")
        assert "flaskr.log" in listed.stdout  # the link into /tmp, made by the build
        for left in ("dev.log", "instance", "dev.sqlite"):
            assert left not in listed.stdout, listed.stdout
        found = docker("run", "--rm", "--entrypoint", "find", image, "/app", "-name", "*.sqlite")
        assert found.stdout == ""
    finally:
        stack.run("inv", "down", "--env", "prod", "--volumes", "--yes")
        remove_everything(name)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_two_checkouts_of_one_project_each_test_their_own_code(tmp_path: Path) -> None:
    """One project name, two checkouts with different code, one engine: no run tests the other's.

    While checkout one's run waits for its migrate job (held 8 s), checkout two
    rebuilds, moving the shared tag `<project>:test` to its own code; checkout
    one's suite still runs its own image (its checkout's tag) and passes.
    """
    name = f"sy-co-{uuid.uuid4().hex[:6]}"
    stacks = {}
    for which in ("one", "two"):
        root = tmp_path / which / "notes"
        shutil.copytree(FIXTURES / "uv-fastapi", root)
        pyproject = root / "pyproject.toml"
        prepare = 'prepare = "sleep 8 && alembic upgrade head"\n' if which == "one" else ""
        pyproject.write_text(
            pyproject.read_text()
            + f'\n[tool.shipyard]\nproject = "{name}"\n[tool.shipyard.init]\n{prepare}'
        )
        (root / "notes/which.py").write_text(f'WHICH = "{which}"\n')
        (root / "tests/test_which.py").write_text(
            "from notes.which import WHICH\n\n\n"
            f'def test_this_checkouts_code() -> None:\n    assert WHICH == "{which}"\n'
        )
        stacks[which] = Stack(root, name, 0)
        init = stacks[which].run("shipyard", "init", "--no-verify")
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
    one, two = stacks["one"], stacks["two"]
    run_one: subprocess.Popen[str] | None = None
    try:
        assert two.run("inv", "docker-build", "--env", "test").returncode == 0
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        run_one = subprocess.Popen(
            [str(BIN / "nox"), "-s", "docker-test"],
            cwd=one.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 300
        while f"{name}-test-" not in docker("ps", "--format", "{{.Names}}").stdout:
            assert run_one.poll() is None, run_one.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "checkout one's stack never started"
            time.sleep(0.2)
        # One's image is built and its stack is waiting for the migrate job: move the tag.
        assert two.run("inv", "docker-build", "--env", "test").returncode == 0
        moved = docker("image", "inspect", "--format", "{{.Id}}", f"{name}:test").stdout
        output, _ = run_one.communicate(timeout=600)
        assert run_one.returncode == 0, output[-3000:]
        assert "2 passed" in output
        two_image = docker("image", "inspect", "--format", "{{.Id}}", f"{name}:test").stdout
        assert moved == two_image  # the shared tag was two's while one's suite ran
        both = two.run("nox", "-s", "docker-test")
        assert both.returncode == 0, both.stdout[-3000:] + both.stderr[-3000:]
        # Checkout one's folder is deleted (a CI job's clone): gc removes its tags only.
        tags = {w: f"{name}:test-at-{load_stack(s.root).checkout}" for w, s in stacks.items()}
        shutil.rmtree(one.root)
        said = two.run("inv", "gc")
        assert f"removed image tag {tags['one']} (its checkout {one.root} is gone)" in said.stdout
        listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        assert tags["one"] not in listed
        assert tags["two"] in listed
    finally:
        if run_one is not None and run_one.poll() is None:
            run_one.terminate()  # its own teardown runs on SIGTERM
            run_one.communicate(timeout=120)
        remove_everything(name)
    assert one.leftovers() == {"containers": [], "networks": [], "volumes": []}
