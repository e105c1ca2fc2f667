"""What ``init`` finds for each of its settings, with the evidence, from detect and code.

``detect`` reads the packaging (pyproject.toml, requirements, locks) and
``code`` the Python code; this module turns both into one finding per
setting of ``[tool.shipyard.init]`` and wires the variables that point at a
backing service to it (a ``DATABASE_URL`` to the ``db`` service).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shipyard.adopt import (
    code,
    detect,
    evidence,
    ignores,
    packages,
    pipelines,
    pythons,
    render,
    variables,
    versions,
)

PG_PASSWORD = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in env/.env.<env>}"  # noqa: S105 - a reference
PG_URL = f"postgresql://${{POSTGRES_USER}}:{PG_PASSWORD}@db:5432/${{POSTGRES_DB}}"
MARIADB_PASSWORD = "${MARIADB_PASSWORD:?set MARIADB_PASSWORD in env/.env.<env>}"  # noqa: S105
MARIADB_URL = f"mysql://${{MARIADB_USER}}:{MARIADB_PASSWORD}@mariadb:3306/${{MARIADB_DATABASE}}"
RABBITMQ_PASS = "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS in env/.env.<env>}"  # noqa: S105
AMQP_URL = f"amqp://${{RABBITMQ_DEFAULT_USER}}:{RABBITMQ_PASS}@rabbitmq:5672//"
REDIS_URL = "redis://redis:6379/0"
DB = r"(DATABASE|DB|SQLALCHEMY|SQL|POSTGRES|PG|MYSQL|MARIADB)"
# Django's ENGINE setting, read from a variable (django-on-docker's SQL_ENGINE).
DJANGO_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "mariadb": "django.db.backends.mysql",
}
# A broker variable goes to RabbitMQ when there is one (Celery's BROKER_URL), else Redis.
BROKER = r"\w*(BROKER|AMQP|RABBITMQ|CELERY_BROKER)\w*_(URL|URI)"


def postgres_url(deps: Mapping[str, str]) -> str:
    """Return the database URL, with SQLAlchemy's driver when it needs one named."""
    scheme = "postgresql"
    if "sqlalchemy" in deps and not {"psycopg2", "psycopg2-binary"} & set(deps):
        driver = next((d for d in ("psycopg", "asyncpg", "pg8000") if d in deps), None)
        scheme += f"+{driver}" if driver else ""
    return PG_URL.replace("postgresql://", f"{scheme}://")


def mariadb_url(deps: Mapping[str, str]) -> str:
    """Return the MySQL URL, with SQLAlchemy's driver when it is not mysqlclient."""
    scheme = "mysql"
    if "sqlalchemy" in deps and "mysqlclient" not in deps:
        driver = next((d for d in ("pymysql", "aiomysql", "asyncmy") if d in deps), None)
        scheme += f"+{driver}" if driver else ""
    return MARIADB_URL.replace("mysql://", f"{scheme}://")


def _rules(services: list[str], deps: Mapping[str, str]) -> list[tuple[str, str]]:
    """Return (variable pattern, compose value) for every service present, first match wins."""
    rules: list[tuple[str, str]] = []
    engine = next((DJANGO_ENGINES[s] for s in services if s in DJANGO_ENGINES), None)
    if engine and "django" in deps:
        rules.append((rf"{DB}_?ENGINE", engine))
    if "postgres" in services:
        rules += [
            ("POSTGRES_(USER|DB)", "${\\g<0>}"),
            ("POSTGRES_PASSWORD", PG_PASSWORD),
            (rf"\w*{DB}\w*_(URL|URI|DSN)", postgres_url(deps)),
            (rf"{DB}_?(HOST|SERVER|HOSTNAME)", "db"),
            (rf"{DB}_?PORT", "5432"),
            (rf"{DB}_?USER(NAME)?", "${POSTGRES_USER}"),
            (rf"{DB}_?(PASSWORD|PASS)", PG_PASSWORD),
            (rf"{DB}_?(NAME|DATABASE)", "${POSTGRES_DB}"),
        ]
    if "mariadb" in services:
        rules += [
            ("MARIADB_(USER|DATABASE)", "${\\g<0>}"),
            ("MARIADB_(ROOT_)?PASSWORD", "${\\g<0>:?set \\g<0> in env/.env.<env>}"),
            (rf"\w*{DB}\w*_(URL|URI|DSN)", mariadb_url(deps)),
            (rf"{DB}_?(HOST|SERVER|HOSTNAME)", "mariadb"),
            (rf"{DB}_?PORT", "3306"),
            (rf"{DB}_?USER(NAME)?", "${MARIADB_USER}"),
            (rf"{DB}_?(PASSWORD|PASS)", MARIADB_PASSWORD),
            (rf"{DB}_?(NAME|DATABASE|DB)", "${MARIADB_DATABASE}"),
        ]
    if "rabbitmq" in services:
        rules += [
            ("RABBITMQ_DEFAULT_USER", "${RABBITMQ_DEFAULT_USER}"),
            ("RABBITMQ_DEFAULT_PASS", RABBITMQ_PASS),
            (BROKER, AMQP_URL),
            ("(RABBITMQ|AMQP)_HOST", "rabbitmq"),
        ]
    if "redis" in services:
        rules += [
            (
                r"\w*(REDIS|BROKER|CACHE)\w*_(URL|URI|BACKEND|LOCATION)|\w*RESULT_BACKEND",
                REDIS_URL,
            ),
            ("REDIS_HOST", "redis"),
            ("REDIS_PORT", "6379"),
        ]
    if "rabbitmq" in services:
        rules.append(("CELERY_RESULT_BACKEND", "rpc://"))  # no Redis: results over AMQP
    if "memcached" in services:
        rules += [
            (r"\w*(MEMCACHED?|CACHE)\w*_(URL|LOCATION|SERVERS?)", "memcached:11211"),
            ("MEMCACHED?_HOST", "memcached"),
            ("MEMCACHED?_PORT", "11211"),
        ]
    if "mongodb" in services:
        rules += [
            (r"\w*MONGO\w*_(URL|URI|DSN)", "mongodb://mongo:27017"),
            (r"MONGO(DB)?_HOST", "mongo"),
            (r"MONGO(DB)?_PORT", "27017"),
        ]
    if "elasticsearch" in services:
        rules += [
            (r"\w*(ELASTIC(SEARCH)?|ES)\w*_(URL|URI|HOSTS?)", "http://elasticsearch:9200"),
        ]
    return rules


# A URL of a service on localhost (an example value, a code default): the service it means.
LOCAL = r"(?:[^@/\s]*@)?(?:localhost|127\.0\.0\.1)"
LOCAL_URLS = (
    ("redis", re.compile(rf"rediss?://{LOCAL}(?::6379)?(/\d+)?/?")),
    ("postgres", re.compile(rf"postgres(?:ql)?(?:\+\w+)?://{LOCAL}(?::5432)?/\w+")),
    ("mariadb", re.compile(rf"mysql(?:\+\w+)?://{LOCAL}(?::3306)?/\w+")),
    ("rabbitmq", re.compile(rf"amqps?://{LOCAL}(?::5672)?/*")),
)


def local_service_url(value: str, services: list[str], deps: Mapping[str, str]) -> str | None:
    """Return the stack's URL for a localhost URL of a service it runs, else None."""
    for service, pattern in LOCAL_URLS:
        match = pattern.fullmatch(value.strip())
        if service not in services or not match:
            continue
        if service == "redis":
            return f"redis://redis:6379{match.group(1) or '/0'}"
        return {
            "postgres": postgres_url(deps),
            "mariadb": mariadb_url(deps),
            "rabbitmq": AMQP_URL,
        }[service]
    return None


def service_environment(
    services: list[str], reads: Iterable[variables.EnvRead], deps: Mapping[str, str]
) -> dict[str, str]:
    """Return compose values for the variables that point at a backing service.

    A test-only variable the code reads optionally (flasky's ``TEST_DATABASE_URL``
    or ``'sqlite://'``) is how its suite is meant to run: left unset.
    """
    values: dict[str, str] = {}
    rules = _rules(services, deps)
    for name in (r.name for r in reads if not (r.optional and r.name.startswith("TEST_"))):
        for pattern, value in rules:
            if match := re.fullmatch(pattern, name):
                values[name] = match.expand(value) if "\\g<0>" in value else value
                break
    return values


# The values a variable that picks the database takes for each service (``DB=postgres``).
SWITCH_VALUES = {"postgres": ("postgres", "postgresql", "pgsql"), "mariadb": ("mysql", "mariadb")}


def switches(
    root: Path, services: list[str], derived: Mapping[str, str], read: Iterable[str] = ()
) -> dict[str, str]:
    """Return the variables the code compares with a service's name, set to that name.

    A project that runs on SQLite unless ``DB == "postgres"`` (or a settings
    field it ``read``: ``settings.DB_ENGINE == "postgres"``) gets it set to
    ``postgres`` when the stack runs PostgreSQL: else the database init wired
    is never used.
    """
    found = {}
    for name, values in variables.compared_values(root, read).items():
        for service in services:
            pick = next((v for v in values if v.lower() in SWITCH_VALUES.get(service, ())), None)
            if pick and name not in derived and name not in found:
                found[name] = pick
    return found


NO_CACHE = "-p no:cacheprovider"  # /app is not the test user's to write .pytest_cache in


def test_command(root: Path, manage: str) -> detect.Found:
    """Return the suite's command: the project's own (CI, tox, Makefile), else pytest.

    ``manage``: a Django project's manage.py when it declares no pytest: its
    suite is Django's runner's (``tests.py`` modules pytest would not collect).
    """
    own = evidence.test_command(root)
    if own is None and manage:
        return detect.Found(f"python {manage} test", "Django's own runner: no pytest declared")
    if own is None:
        return detect.Found(f"pytest {NO_CACHE}", "pytest, without its cache")
    command, where = own
    pytest = evidence.PYTEST.search(command)
    if pytest and NO_CACHE not in command and not render.SHELL_SYNTAX.search(command):
        command = f"{command} {NO_CACHE}"
    return detect.Found(command, f"{where} runs it")


def _test_settings(root: Path, command: detect.Found, app_settings: str) -> detect.Found:
    """Give pytest the settings module its own ini names, over the app's in the environment.

    pytest-django takes DJANGO_SETTINGS_MODULE from the environment before the
    ini file; the stack sets the app's (manage.py's) there, so a project whose
    tests have settings of their own (pytest.ini: ``config.django.test``) gets
    them back through ``--ds``, which wins over both.
    """
    named = detect.pytest_option(root, "DJANGO_SETTINGS_MODULE")
    if not named or not evidence.PYTEST.search(command.value) or "--ds" in command.value:
        return command
    value, where = named[0]
    if value.strip() == app_settings:
        return command
    return detect.Found(
        f"{command.value} --ds={value.strip()}", f"{command.evidence}; --ds: {where}"
    )


def _prestart(setup: tuple[list[str], str, str] | None) -> detect.Found | None:
    """Return the prestart script the CI runs before the tests, as the prepare step."""
    if not setup or not setup[1]:
        return None
    return detect.Found(setup[1], f"{setup[2]} runs it before the tests")


def test_setup(setup: tuple[list[str], str, str] | None) -> detect.Found:
    """Return CI's setup steps before the tests (run as the suite's user, UID 1000)."""
    if not setup or not setup[0]:
        return detect.Found([], "no setup step before the tests in CI")
    return detect.Found(setup[0], f"{setup[2]} runs them before the tests")


def _with_own(found: detect.Found, own: tuple[list[str], str] | None) -> detect.Found:
    """Return the packages found, plus those the project's own Dockerfile installs."""
    if not own or not own[0]:
        return found
    extra = [p for p in own[0] if p not in found.value]
    return detect.Found([*found.value, *extra], f"{found.evidence}; {', '.join(extra)}: {own[1]}")


def _with_compose(found: detect.Found, compose: Mapping[str, str]) -> detect.Found:
    """Return the services found, plus those the project's own compose file runs."""
    extra = [s for s in compose if s not in found.value]
    if not extra:
        return found
    order = list(render.BACKING)
    services = sorted([*found.value, *extra], key=order.index)
    if {"postgres", "mariadb"} <= set(services):  # one SQL database: the one it runs
        services.remove("mariadb" if "postgres" in compose else "postgres")
    where = "; ".join([found.evidence, *(compose[s] for s in extra)])
    return detect.Found(services, where)


# Stores a client library alone does not make needed: the variable the code reads for one.
OPTIONAL_STORES = {"mongodb": re.compile(r"MONGO"), "elasticsearch": re.compile(r"ELASTIC")}


def _needed(services: detect.Found, reads: list[variables.EnvRead]) -> detect.Found:
    """Leave out a store whose every variable the code reads only when it is set."""
    kept, notes = list(services.value), []
    for service, pattern in OPTIONAL_STORES.items():
        named = [r.name for r in reads if pattern.search(r.name)]
        if service in kept and named and all(r.optional for r in reads if r.name in named):
            kept.remove(service)
            notes.append(f"{service} left out: the code reads {', '.join(named)} only when set")
    return detect.Found(kept, "; ".join([services.evidence, *notes]))


def _server(root: Path, deps: Mapping[str, str], kind: str) -> detect.Found:
    """Return the production server to add: one the project lacks, or has for development only.

    The production image installs the runtime dependencies alone: a uvicorn
    only in the dev group is not there, and the container crash-loops. It is
    added at the version the lock pins, when there is one.
    """
    server = render.SERVER_PACKAGES.get(kind)
    if not server:
        return detect.Found([], "no server to add")
    if code.is_runtime(server, deps):
        return detect.Found([], f"{server} is a dependency")
    version = versions.locked_version(root, server)
    pinned = f"{server}=={version}" if version else server
    if server in deps:
        why = f"{server} is a development dependency only ({deps[server]}): the image needs it"
        return detect.Found([pinned], why)
    return detect.Found([pinned], f"{server} is not a dependency")


def _app(kind: str, app: detect.Found, image: Mapping[str, Any]) -> detect.Found:
    """Return the app; when reading found the framework but none, the one its own image serves."""
    return (
        detect.Found(*image["app"]) if kind != "none" and not app.value and "app" in image else app
    )


def _beat_in_tmp(command: str) -> str:
    """Return a Celery beat command with its schedule file in /tmp (the prod root is read-only).

    Beat writes ``celerybeat-schedule`` in its working folder unless told: in
    production that is a read-only /app, in development the user's checkout.
    """
    words = command.split()
    beat = "celery" in command and "beat" in words
    told = any(w.split("=")[0] in {"-s", "--schedule", "-S", "--scheduler"} for w in words)
    return f"{command} --schedule /tmp/celerybeat-schedule" if beat and not told else command


def _how_it_runs(root: Path, deps: Mapping[str, str], app: str) -> dict[str, detect.Found]:
    """Return what the app writes beside its code, its workers and its health route."""
    own = {
        k: (_beat_in_tmp(command), where)
        for k, (command, where) in evidence.worker_processes(root).items()
    }
    workers = (
        detect.Found(
            {(f"{k}-worker" if k in render.RESERVED_SERVICES else k): v[0] for k, v in own.items()},
            "; ".join(v[1] for v in own.values()),
        )
        if own
        else code.workers(root, deps)
    )
    checked = evidence.health_path(root)
    health = (
        detect.Found(*checked)
        if checked
        else (code.health_route(root, app) if app else None)
        or detect.Found("", "no health route found: GET / must answer (any status below 500)")
    )
    return {"writable": code.writable_paths(root), "workers": workers, "health-path": health}


def findings(root: Path) -> dict[str, detect.Found]:
    """Return what the project says for every init setting, each with its evidence."""
    deps = detect.dependencies(root)
    tool = detect.toolchain(root)
    kind, app = code.framework(root, deps)
    installs = detect.is_package(root, tool.value)
    reads = variables.env_reads(root)
    # With the project's own compose file's: what runs (one SQL database).
    services = _with_compose(
        _needed(code.backing_services(root, deps, [r.name for r in reads]), reads),
        evidence.compose_services(root),
    )
    build, runtime = packages.system_packages(deps, root)
    image = evidence.own_image(root)
    setup = evidence.steps_before_tests(root)
    app = _app(kind.value, app, image)
    found = {
        "python": pythons.python_version(root, pythons.limits(root)),
        "toolchain": tool,
        "install": detect.runtime_requirements(root)
        if tool.value == "pip"
        else detect.Found([], f"{tool.value} installs from its lock"),
        "install-project": installs,
        "scm-version": detect.scm_version(root),
        "test-dependencies": detect.test_dependencies(root, tool.value),
        "framework": kind,
        "app": app,
        "port": detect.Found(*image["port"])
        if "port" in image
        else detect.Found(8000, "shipyard's default"),
        "services": services,
        "prepare": _prestart(setup)
        or (detect.Found(*image["prepare"]) if "prepare" in image else None)
        or code.prepare_step(root, kind.value, app.value, deps),
        "test-command": test_command(
            root, code.manage_py(root) if kind.value == "django" and "pytest" not in deps else ""
        ),
        "test-setup": test_setup(setup),
        "context-ignore": ignores.context_ignores(root),
        "workspace": detect.workspace_members(root)
        if tool.value == "uv"
        else detect.Found([], f"{tool.value}: no uv workspace"),
        "build-packages": _with_own(build, image.get("build-packages")),
        "runtime-packages": _with_own(runtime, image.get("runtime-packages")),
    }
    found["extra-packages"] = _server(root, deps, kind.value)
    pytest = bool(evidence.PYTEST.search(found["test-command"].value))
    test_missing = [p for p in ("pytest",) if p not in deps and pytest]
    if kind.value == "django" and "pytest-django" not in deps and pytest:
        test_missing.append("pytest-django")
    plugins = {k: v for k, v in detect.pytest_plugins(root).items() if k not in deps}
    test_missing += list(plugins) if pytest else []
    found["extra-test-packages"] = detect.Found(
        test_missing,
        "not declared: " + ", ".join(test_missing) + "".join(f"; {v}" for v in plugins.values())
        if test_missing
        else ("declared" if pytest else "the suite's runner is not pytest"),
    )
    # Where the code imports from: src/, or the folder manage.py is in (Django in src/).
    manage = code.manage_py(root) if kind.value == "django" else ""
    top = manage.rpartition("/")[0] or ("src" if (root / "src").is_dir() else "")
    path = [f"/app/{top}", "/app"] if top else ["/app"]
    found["python-path"] = (
        detect.Found([], "the project is installed into the venv")
        if installs.value
        else detect.Found(path, "the project is not installed: its code runs from /app")
    )
    derived = service_environment(services.value, reads, deps)
    module = code.django_settings(root) if kind.value == "django" else None
    if module:
        derived["DJANGO_SETTINGS_MODULE"] = module.value
        found["test-command"] = _test_settings(root, found["test-command"], module.value)
    derived |= switches(root, services.value, derived, [r.name for r in reads])
    # Optional variables (no default, code runs without) stay unset unless secret: an
    # empty value is not the same as none (`os.environ.get("X") is not None`).
    passed = [r for r in reads if r.name not in derived]
    # Read optionally with no default, but set by CI or the project's example env
    # file: the suite may need it (a test asserting it, a URL built from it), so it
    # is passed. One with a default of the code's (a False) keeps it.
    stated = evidence.stated_values(root)
    contract = {
        r.name: r.default or ""
        for r in passed
        if not r.optional or r.secret or (r.name in stated and r.default is None)
    }
    optional = [r.name for r in passed if r.name not in contract]
    contract = {
        k: v
        for k, v in contract.items()
        if k not in {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
    }
    where = {r.name: r.where for r in reads}
    secret = {r.name for r in reads if r.secret}
    # A required value the code gives no default: the project's own examples, compose or CI.
    examples = evidence.example_values(root)
    for key in [k for k, v in contract.items() if not v and k not in secret and k in examples]:
        contract[key], source = examples[key]
        where[key] += f", value from {source}"
    # A value pointing at a service on the developer's machine points at the stack's.
    for key, value in list(contract.items()):
        if key not in derived and (wired := local_service_url(value, services.value, deps)):
            derived[key] = wired
            where[key] += f", {value} on localhost is the stack's service"
            del contract[key]
    found["env"] = detect.Found(
        contract,
        "; ".join(f"{k} ({where[k]})" for k in contract) or "the code reads no variable",
    )
    found["optional-env"] = detect.Found(
        optional,
        "the code runs without them (a default it computes, or .get() and none): not passed "
        "(move one to env to pass it)"
        if optional
        else "none",
    )
    found["secrets"] = detect.Found(
        [k for k in contract if k in secret],
        "SecretStr, or a PASSWORD/SECRET/TOKEN/KEY name not read as a number or a flag",
    )
    found["environment"] = detect.Found(
        derived,
        "; ".join(f"{k} ({where.get(k, 'Django')})" for k in derived)
        or "no variable points at a backing service",
    )
    found |= _how_it_runs(root, deps, found["app"].value) | pipelines.findings(root)
    found["skip"] = detect.Found([], "write every file")
    return found
