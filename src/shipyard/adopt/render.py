"""The files ``shipyard init`` writes, rendered from one :class:`Adoption` value.

Each file is a Jinja2 template under ``templates/`` (``docker/Dockerfile.jinja``,
``compose/docker-compose.yml.jinja``, ...) that a reader can open and see the
file's shape in; this module holds the value they are rendered from and the
few derived values they share. Pure text in, text out: the same settings
always give the same bytes, which is what makes a second ``init`` change
nothing and ``init --force`` after a settings change regenerate exactly what
the change touches.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from shipyard.adopt import pipelines

UV_IMAGE = "ghcr.io/astral-sh/uv:0.13.9"
POETRY = ("poetry==2.5.1", "poetry-plugin-export==1.10.1")
# Poetry 2.3 and plugin-export 1.10 need Python 3.10: the last releases that run on 3.9.
POETRY_FOR = {"3.9": ("poetry==2.2.1", "poetry-plugin-export==1.9.0")}
# A lock Poetry 1.x wrote is exported by Poetry 1.8: Poetry 2's export of one can
# leave out a locked package behind an extra's markers (uvicorn[standard]'s uvloop).
POETRY_1 = ("poetry==1.8.5", "poetry-plugin-export==1.8.0")
CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
PIP = "pip install --no-cache-dir --disable-pip-version-check"
SERVER_PACKAGES = {
    "fastapi": "uvicorn",
    "litestar": "uvicorn",
    "flask": "gunicorn",
    "django": "gunicorn",
}
ASGI = frozenset({"fastapi", "litestar"})  # served by uvicorn; the rest by gunicorn
# Each backing service init knows: its compose service name (the host the app reaches).
BACKING = {
    "postgres": "db",
    "mariadb": "mariadb",
    "redis": "redis",
    "rabbitmq": "rabbitmq",
    "memcached": "memcached",
    "mongodb": "mongo",
    "elasticsearch": "elasticsearch",
}
# What each backing service's entrypoint writes on a read-only root (its tmpfs).
BACKING_TMPFS = {
    "postgres": "[/tmp, /var/run/postgresql]",
    "mariadb": "[/tmp, /run/mysqld]",
    "redis": "[/tmp]",
    "rabbitmq": "[/tmp]",
    "memcached": "[/tmp]",
    "mongodb": "[/tmp]",
    "elasticsearch": "[/tmp]",
}
OVERLAY_TEMPLATES = {"dev": "dev", "test": "test", "ci": "test", "prod": "prod"}

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    # Dockerfiles, YAML, env files and Python: nothing here is HTML.
    autoescape=False,  # noqa: S701
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["json"] = json.dumps
TEMPLATES.filters["quote"] = shlex.quote


@dataclass(frozen=True)
class Adoption:
    """Everything the generated files depend on (the resolved ``[tool.shipyard.init]``)."""

    project: str
    settings_file: str  # "pyproject.toml" or "shipyard.toml"
    python: str
    toolchain: str  # uv | poetry | pip
    install: tuple[str, ...]  # pip: requirement files for the runtime
    install_project: bool
    scm_version: bool
    requirement_files: tuple[str, ...]  # pip: every requirements file to copy in
    test_dependencies: tuple[str, ...]  # group:G, extra:E, or a requirements file
    extra_packages: tuple[str, ...]  # into the runtime venv (a server the project lacks)
    extra_test_packages: tuple[str, ...]  # into the test venv (pytest, pytest-django)
    framework: str  # fastapi | flask | django | none
    app: str  # module:attr or module:factory()
    port: int
    services: tuple[str, ...]  # postgres, mariadb, redis, rabbitmq, memcached, mongodb, ...
    prepare: str  # one-shot command before start and tests, or ""
    test_command: str
    build_packages: tuple[str, ...]
    runtime_packages: tuple[str, ...]
    python_path: tuple[str, ...]  # where the code is importable from when not installed
    env: Mapping[str, str] = field(default_factory=dict)  # the contract: name -> example
    secrets: tuple[str, ...] = ()
    optional_env: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)  # compose values by name
    health_path: str = ""
    workers: Mapping[str, str] = field(default_factory=dict)  # name -> command (Celery's...)
    writable: tuple[str, ...] = ()  # under /app: "logs/" (a folder) or "app.log" (a file)
    test_setup: tuple[str, ...] = ()  # shell lines the test stage runs as root (CI's steps)
    workspace: tuple[str, ...] = ()  # uv workspace members (folders) beside the root project
    context_ignore: tuple[str, ...] = ()  # the project's own .dockerignore rules, kept
    git_ignore: tuple[str, ...] = ()  # its .gitignore rules, as .dockerignore rules
    manage: str = "manage.py"  # Django's, where it is (src/manage.py)
    poetry_lock: str = ""  # the Poetry version that wrote poetry.lock ("1.8.3"), if known
    # Where shipyard's Dockerfile goes: beside the project's own when it has one there.
    dockerfile: str = "docker/Dockerfile"
    tasks_file: str = "tasks.py"  # shipyard_tasks.py beside a project's own tasks.py
    noxfile: str = "noxfile.py"  # shipyard_noxfile.py beside a project's own noxfile.py
    ci: tuple[str, ...] = ()  # the CI pipelines written: "github", "gitlab"
    ci_install: str = "shipyard"  # what CI pip-installs for shipyard
    ci_branch: str = "main"  # pushes to it run the pipeline and release
    registry: str = ""  # the settings' registry: releases go there unless CI names another
    # pip projects with no requirements file: what pyproject.toml declares, installed
    # before the source (runtime and build backend; the test extras).
    declared: tuple[str, ...] = ()
    declared_test: tuple[str, ...] = ()
    declared_build: bool = False  # the build backend is among `declared`: no build isolation

    @property
    def inv(self) -> str:
        """Return how to call shipyard's tasks (``inv -c shipyard_tasks`` beside the project's)."""
        module = self.tasks_file.removesuffix(".py")
        return "inv" if module == "tasks" else f"inv -c {module}"

    @property
    def nox(self) -> str:
        """Return how to call shipyard's sessions (``nox -f shipyard_noxfile.py`` beside)."""
        return "nox" if self.noxfile == "noxfile.py" else f"nox -f {self.noxfile}"

    @property
    def serves(self) -> bool:
        """Tell whether the project runs an HTTP server (else a test-only stack)."""
        return self.framework != "none" and bool(self.app)

    def server_command(self, *, dev: bool) -> list[str]:
        """Return the command that serves the app (with reload in development)."""
        address = f"0.0.0.0:{self.port}"
        app = self.app
        if self.framework in ASGI:
            factory = ["--factory"] if app.endswith("()") else []
            argv = ["uvicorn", app.removesuffix("()"), *factory]
            argv += ["--host", "0.0.0.0", "--port", str(self.port)]  # noqa: S104
            return [*argv, "--reload"] if dev else argv
        if dev and self.framework == "django":
            return ["python", self.manage, "runserver", address]
        if dev and self.framework == "flask":  # FLASK_APP and --reload: Flask 1.0 and later
            argv = ["env", f"FLASK_APP={app}", "flask", "run", "--reload"]
            return [*argv, "--host", "0.0.0.0", "--port", str(self.port)]  # noqa: S104
        return ["gunicorn", "--bind", address, "--access-logfile", "-", app]

    def health_command(self) -> list[str]:
        """Return a check that the server answers HTTP: its health route, else ``/``.

        The health route must answer below 400; ``/`` anything below 500 (a 404, a
        redirect to a login page, Django's 400 for a host it does not serve): a
        refused connection, a timeout or a server error is unhealthy. It asks for
        ``localhost``, which Django in DEBUG serves (127.0.0.1:8000 drew a
        DisallowedHost traceback in the log at every probe). It reads the body:
        a probe that hung up first left runserver a "Broken pipe" line every 2 s.
        """
        path, below = (self.health_path, 400) if self.health_path else ("/", 500)
        code = (
            "import http.client as h; "
            f"c = h.HTTPConnection('127.0.0.1', {self.port}, timeout=3); "
            f"c.request('GET', {path!r}, headers={{'Host': 'localhost'}}); "
            "r = c.getresponse(); r.read(); s = r.status; "
            f"print(s); "
            f"raise SystemExit(s >= {below})"
        )
        return ["python", "-c", code]

    @property
    def writable_folders(self) -> list[str]:
        """Return the folders the app writes under /app (each a tmpfs in production)."""
        return [w.rstrip("/") for w in self.writable if w.endswith("/")]

    @property
    def writable_files(self) -> dict[str, str]:
        """Return each file the app writes under /app, with where it goes in /tmp instead."""
        return {w: "/tmp/" + w.replace("/", "-") for w in self.writable if not w.endswith("/")}  # noqa: S108 - a tmpfs in prod

    def tmpfs(self) -> str:
        """Return the tmpfs mounts of an app container in production (/tmp, then its folders)."""
        # The app user's (a tmpfs is root's 755 unless told): it writes there as 1000.
        owned = (f'"/app/{f}:uid=1000,gid=1000"' for f in self.writable_folders)
        mounts = ["/tmp", *owned]  # noqa: S108 - a tmpfs
        return "[" + ", ".join(mounts) + "]"

    @property
    def runs_image(self) -> bool:
        """Tell whether any service runs the project's image (app, job or worker)."""
        return self.serves or bool(self.prepare) or bool(self.workers)

    def worker_command(self, name: str, *, dev: bool) -> list[str]:
        """Return a worker's command; in development, restarted by watchfiles on a code change."""
        command = self.workers[name]
        if not dev:
            return command_argv(command)
        target = shlex.join(command_argv(command))
        return ["watchfiles", "--filter", "python", target, "/app"]

    def worker_health(self, name: str) -> list[str]:
        """Return a worker's health check (Celery's ping of this node), or [] for none."""
        argv = command_argv(self.workers[name])
        if "celery" not in {Path(w).name for w in argv[:3]} or "worker" not in argv:
            return []
        app = next(
            (value for flag, value in itertools.pairwise(argv) if flag in {"-A", "--app"}),
            next((w.split("=", 1)[1] for w in argv if w.startswith("--app=")), ""),
        )
        if not app:
            return []
        # The node's default name is celery@<hostname>; one named with -n is pinged among all.
        named = any(w in {"-n", "--hostname"} or w.startswith("--hostname=") for w in argv)
        only = "" if named else " -d celery@$$HOSTNAME"
        return ["CMD-SHELL", f"celery -A {app} inspect ping{only} --timeout 5 > /dev/null"]


# Service names init writes itself: a worker may not take one.
RESERVED_SERVICES = frozenset({"app", "migrate", "tests", *BACKING.values()})
WATCHFILES = "watchfiles==1.1.1"  # restarts a worker on a code change in development

# What only a shell understands: globs, expansions, chains, redirections, VAR=value first.
SHELL_SYNTAX = re.compile(r"[*?\[\]$`|;&<>(){}~]|^\w+=")


def command_argv(command: str) -> list[str]:
    """Return a command as exec-form argv: through ``sh -c`` when it needs a shell."""
    return ["sh", "-c", command] if SHELL_SYNTAX.search(command) else shlex.split(command)


def _render(template: str, adoption: Adoption, **values: object) -> str:
    return TEMPLATES.get_template(template).render(a=adoption, **values)


def _groups_and_extras(adoption: Adoption) -> tuple[list[str], list[str], list[str]]:
    groups = [d.split(":", 1)[1] for d in adoption.test_dependencies if d.startswith("group:")]
    extras = [d.split(":", 1)[1] for d in adoption.test_dependencies if d.startswith("extra:")]
    files = [d for d in adoption.test_dependencies if ":" not in d]
    return groups, extras, files


def dockerfile(adoption: Adoption) -> str:
    """Return docker/Dockerfile: base, builder, development, test, production."""
    groups, extras, files = _groups_and_extras(adoption)
    pip_install = (
        "uv pip install --python /opt/venv/bin/python"
        if adoption.toolchain == "uv"
        else f"PIP_CERT={CA_FILE} {PIP}"
    )
    # A requirements/ folder goes in whole; a file elsewhere (src/requirements.txt) alone.
    nested = [f for f in adoption.requirement_files if "/" in f]
    folders = sorted({f.split("/")[0] for f in nested if f.split("/")[0] == "requirements"})
    loose = [f for f in nested if f.split("/")[0] != "requirements"]
    isolation = "--no-build-isolation " if adoption.declared_build else ""
    extra = f"[{','.join(extras)}]" if extras else ""
    return _render(
        "docker/Dockerfile.jinja",
        adoption,
        project_install="--no-deps ."
        if adoption.install or adoption.toolchain == "poetry"
        else f"{isolation}.",
        editable_install="--no-deps -e ."
        if adoption.install and not extras
        else f"{isolation}-e '.{extra}'",
        uv_image=UV_IMAGE,
        poetry=POETRY_1
        if adoption.poetry_lock.startswith("1.")
        else POETRY_FOR.get(adoption.python, POETRY),
        pip_install=pip_install,
        top_requirements=[f for f in adoption.requirement_files if "/" not in f],
        requirement_folders=folders,
        nested_requirements=loose,
        groups=groups,
        extras=extras,
        test_files=files,
        test_sync=[
            "--no-default-groups",
            *(f"--group {g}" for g in groups),
            *(f"--extra {e}" for e in extras),
        ],
        test_command=command_argv(adoption.test_command),
        watchfiles=WATCHFILES,
        writable_steps=[
            *(
                f"mkdir -p {shlex.quote(f)} && chown 1000:1000 {shlex.quote(f)}"
                for f in adoption.writable_folders
            ),
            *(
                (f"mkdir -p {shlex.quote(str(Path(f).parent))} && " if "/" in f else "")
                + f"ln -sfn {t} {shlex.quote(f)}"
                for f, t in adoption.writable_files.items()
            ),
        ],
    )


def _required(name: str) -> str:
    return f"${{{name}:?set {name} in env/.env.<env>}}"


def postgres_variables(project: str) -> dict[str, str]:
    """Return the contract of the database service: user, password (secret), database."""
    return service_variables(project)["postgres"]


def service_variables(project: str) -> dict[str, dict[str, str]]:
    """Return each backing service's own variables (its image reads them), with examples."""
    name = project.replace("-", "_")
    return {
        "postgres": {"POSTGRES_USER": name, "POSTGRES_PASSWORD": "", "POSTGRES_DB": name},
        "mariadb": {
            "MARIADB_USER": name,
            "MARIADB_PASSWORD": "",
            "MARIADB_DATABASE": name,
            "MARIADB_ROOT_PASSWORD": "",
        },
        "rabbitmq": {"RABBITMQ_DEFAULT_USER": name, "RABBITMQ_DEFAULT_PASS": ""},
    }


# The services' own variables that are secrets (generated per environment).
SERVICE_SECRETS = frozenset(
    {"POSTGRES_PASSWORD", "MARIADB_PASSWORD", "MARIADB_ROOT_PASSWORD", "RABBITMQ_DEFAULT_PASS"}
)


def contract(adoption: Adoption) -> dict[str, str]:
    """Return every variable of env/.env.example with its example value, in file order."""
    values: dict[str, str] = {}
    own = service_variables(adoption.project)
    for service in adoption.services:
        values |= own.get(service, {})
    values |= {k: v for k, v in sorted(adoption.env.items()) if k not in values}
    if adoption.serves:
        values["APP_PORT"] = str(adoption.port)
    return values


def secret_names(adoption: Adoption) -> list[str]:
    """Return the contract's secrets (the database password and the named ones)."""
    own = service_variables(adoption.project)
    names = [k for s in adoption.services for k in own.get(s, {}) if k in SERVICE_SECRETS]
    return names + [s for s in adoption.secrets if s not in names and s in adoption.env]


def throwaway(project: str, key: str) -> str:
    """Return CI's committed value for a secret: stable per project and key, never reused."""
    digest = hashlib.sha256(f"{project}:{key}".encode()).hexdigest()[:16]
    return f"ci-throwaway-{digest}"


def app_environment(adoption: Adoption) -> dict[str, str]:
    """Return what the app's containers see: its own variables by reference, then the derived."""
    values = {
        key: _required(key) if key in adoption.secrets else f"${{{key}?}}"
        for key in sorted(adoption.env)
    }
    return values | dict(adoption.environment)


# Init's own prepare step for Django: migrating the main database.
DJANGO_MIGRATE = re.compile(r"python \S*manage\.py migrate(?: --no-?input)?")


def tests_skip_prepare(adoption: Adoption) -> bool:
    """Tell whether the suite waits for no prepare step: Django's plain migrate.

    Django's runner and pytest-django make a test database of their own (and
    migrate it, unless told not to), so migrating the main one serves no test:
    on a project with hundreds of migrations it was most of a test run.
    """
    return adoption.framework == "django" and bool(DJANGO_MIGRATE.fullmatch(adoption.prepare))


def _needs(adoption: Adoption, *, job: bool, tests: bool = False) -> list[tuple[str, str]]:
    """Return what the app, its one-shot job or the tests wait for, with the condition."""
    needs = [(BACKING[s], "service_healthy") for s in BACKING if s in adoption.services]
    if adoption.prepare and not job and not (tests and tests_skip_prepare(adoption)):
        needs.append(("migrate", "service_completed_successfully"))
    return needs


def compose_base(adoption: Adoption) -> str:
    """Return compose/docker-compose.yml: the app, its job, its backing services, the tests."""
    return _render(
        "compose/docker-compose.yml.jinja",
        adoption,
        environment=app_environment(adoption),
        needs=_needs(adoption, job=False),
        job_needs=_needs(adoption, job=True),
        test_needs=_needs(adoption, job=False, tests=True),
        prepare=command_argv(adoption.prepare),
        variables=service_variables(adoption.project),
        required=_required,
    )


def compose_overlay(adoption: Adoption, env: str) -> str:
    """Return compose/docker-compose.<env>.yml for dev, test, ci or prod."""
    template = f"compose/docker-compose.{OVERLAY_TEMPLATES[env]}.yml.jinja"
    if env == "prod":
        backing: object = {BACKING[s]: BACKING_TMPFS[s] for s in adoption.services}
    else:
        backing = [BACKING[s] for s in adoption.services]
    return _render(template, adoption, env=env, backing=backing)


def env_file(adoption: Adoption, *, ci: bool) -> str:
    """Return env/.env.example (the contract) or env/.env.ci (committed throwaway values)."""
    return _render(
        "env/env.ci.jinja" if ci else "env/env.example.jinja",
        adoption,
        contract=contract(adoption),
        secrets=secret_names(adoption),
        throwaway=throwaway,
    )


def mariadb_init(adoption: Adoption) -> str:
    """Return the script that lets the app's MariaDB user make test databases."""
    return _render("compose/mariadb-test-databases.sh.jinja", adoption)


def tasks_py() -> str:
    """Return tasks.py: shipyard's task collection and nothing else."""
    return TEMPLATES.get_template("tasks.py.jinja").render()


def noxfile_py() -> str:
    """Return noxfile.py: docker-build and docker-test from shipyard."""
    return TEMPLATES.get_template("noxfile.py.jinja").render()


def github_workflow(adoption: Adoption) -> str:
    """Return .github/workflows/shipyard.yml: lint, docker-test, and release on GitHub."""
    return _render(
        "ci/github.yml.jinja", adoption, uses=pipelines.uses, runner_python=pipelines.RUNNER_PYTHON
    )


def gitlab_pipeline(adoption: Adoption) -> str:
    """Return .gitlab-ci.yml: the same jobs for a GitLab shell runner with Docker."""
    return _render("ci/gitlab.yml.jinja", adoption)


def makefile(adoption: Adoption) -> str:
    """Return the Makefile shim: one line a target, each delegating to inv or nox."""
    return _render("Makefile.jinja", adoption)


def dockerignore(adoption: Adoption) -> str:
    """Return <Dockerfile>.dockerignore: what shipyard's builds leave out of the context."""
    return _render("docker/Dockerfile.dockerignore.jinja", adoption)


# The lines init adds to the project's .gitignore: a header comment, then rules.
GITIGNORE = tuple(TEMPLATES.get_template("gitignore.jinja").render().splitlines())


def merged_lines(existing: str | None, block: tuple[str, ...]) -> str:
    """Return ``existing`` with the lines of ``block`` it lacks appended (order kept)."""
    text = existing or ""
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in block[1:] if line not in have]
    if not missing:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + ("\n" if text else "") + "\n".join([block[0], *missing]) + "\n"
