"""What ``shipyard init`` finds in an existing project's Python code, with its evidence.

:mod:`shipyard.adopt.detect` reads what the packaging metadata declares; this
module reads the code itself (parsed, never imported or run): the app object and
its framework, the variables it reads, the services it talks to, its migrations.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path

from shipyard.adopt.detect import Found

SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        ".nox",
        ".tox",
        "node_modules",
        "build",
        "dist",
        "docs",
        "site-packages",
        "__pycache__",
        "migrations",
        "results",
        "env",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
TEST_DIRS = frozenset({"tests", "test", "testing"})
POSTGRES_DRIVERS = frozenset({"psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000"})
# Each framework: its distribution, the classes that build an app, factory names by convention.
FRAMEWORK_CLASSES = (
    ("litestar", ("Litestar",), ()),
    ("fastapi", ("FastAPI",), ()),
    ("starlette", ("Starlette",), ()),
    ("flask", ("Flask",), ("create_app", "make_app")),
)
MYSQL_DRIVERS = frozenset(
    {"mysqlclient", "pymysql", "mysql-connector-python", "aiomysql", "asyncmy", "mariadb"}
)
AMQP_CLIENTS = frozenset({"pika", "aio-pika", "aiormq", "rabbitpy"})
MEMCACHED_CLIENTS = frozenset({"pymemcache", "python-memcached", "pylibmc", "aiomcache"})
MONGO_CLIENTS = frozenset(
    {"pymongo", "motor", "mongoengine", "beanie", "odmantic", "flask-pymongo", "djongo"}
)
ELASTICSEARCH_CLIENTS = frozenset(
    {"elasticsearch", "elasticsearch-dsl", "elasticsearch8", "django-elasticsearch-dsl"}
)
# Each service: the clients that mean it, and what in the code means it (Celery needs its
# broker named: kombu and amqp come with every Celery install, whatever the broker).
SERVICE_EVIDENCE = (
    ("postgres", POSTGRES_DRIVERS, r"postgres(ql)?(\+\w+)?://|django\.db\.backends\.postgresql"),
    ("mariadb", MYSQL_DRIVERS, r"mysql(\+\w+)?://|django\.db\.backends\.mysql"),
    ("rabbitmq", AMQP_CLIENTS, r"\b(py)?amqps?://"),
    ("memcached", MEMCACHED_CLIENTS, r"memcache(d)?://|PyMemcacheCache|MemcachedCache"),
    ("mongodb", MONGO_CLIENTS, r"mongodb(\+srv)?://"),
    ("elasticsearch", ELASTICSEARCH_CLIENTS, ""),
)
REDIS_CLIENTS = frozenset({"redis", "celery", "rq", "django-redis", "aioredis", "hiredis"})


def python_files(root: Path, *, tests: bool = False) -> Iterator[Path]:
    """Yield the project's Python files (not tests unless asked, never venvs or caches)."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(part in SKIP_DIRS or part.startswith(".") for part in parts):
            continue
        in_tests = (
            any(part in TEST_DIRS for part in parts)
            or path.name.startswith("test")
            or path.name == "conftest.py"
        )
        if in_tests == tests:
            yield path


def parse(path: Path) -> ast.Module | None:
    """Return a file's syntax tree, or None when it is not Python this parser reads."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


def module_of(root: Path, path: Path) -> str:
    """Return the dotted module of ``path`` (``src/`` is a layout, not a package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def call_name(node: ast.AST) -> str:
    """Return the last name of what is called or named (``os.getenv`` -> ``getenv``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _factories(trees: list[tuple[Path, ast.Module]], classes: tuple[str, ...]) -> set[str]:
    """Return the project's functions that build an app (``def get_application(): FastAPI()``)."""
    return {
        node.name
        for _, tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(
            isinstance(inner, ast.Call) and call_name(inner.func) in classes
            for inner in ast.walk(node)
        )
    }


def _no_required_arguments(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return len(node.args.args) == len(node.args.defaults) and not node.args.kwonlyargs


def _app_objects(
    root: Path, factory_names: tuple[str, ...], classes: tuple[str, ...]
) -> list[Found]:
    """Return module-level apps (built, or returned by a factory call) and callable factories."""
    trees = [(p, t) for p in python_files(root) if (t := parse(p)) is not None]
    builders = _factories(trees, classes)
    found = []
    for path, tree in trees:
        where = f"{path.relative_to(root).as_posix()}"
        module = module_of(root, path)
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and call_name(node.value.func) in {*classes, *builders}
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                call = call_name(node.value.func)
                shown = "..." if call in classes else f"{call}()"
                found.append(Found(f"{module}:{name}", f"{where}:{node.lineno} {name} = {shown}"))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name in factory_names
                or (node.name in builders and _no_required_arguments(node))
            ):
                found.append(
                    Found(f"{module}:{node.name}()", f"{where}:{node.lineno} def {node.name}()")
                )
    return found


def manage_py(root: Path) -> str:
    """Return where Django's manage.py is: at the top, or in one folder below it (``src/``)."""
    if (root / "manage.py").is_file():
        return "manage.py"
    below = [
        p
        for p in sorted(root.glob("*/manage.py"))
        if p.parent.name not in SKIP_DIRS | TEST_DIRS and not p.parent.name.startswith(".")
    ]
    return f"{below[0].parent.name}/manage.py" if len(below) == 1 else ""


def django_settings(root: Path) -> Found | None:
    """Return the settings module manage.py names, if it is a Django project."""
    manage = manage_py(root)
    if not manage:
        return None
    match = re.search(
        r"DJANGO_SETTINGS_MODULE[\"']\s*,\s*[\"']([\w.]+)",
        (root / manage).read_text(encoding="utf-8", errors="replace"),
    )
    if not match:
        return None
    return Found(match.group(1), f"{manage} sets DJANGO_SETTINGS_MODULE={match.group(1)}")


def framework(root: Path, deps: Mapping[str, str]) -> tuple[Found, Found]:
    """Return the web framework (or ``none``) and its WSGI/ASGI entry point."""
    settings = django_settings(root)
    if "django" in deps and settings:
        package = settings.value.rsplit(".", 1)[0]
        code_root = (root / manage_py(root)).parent
        for candidate in (package, settings.value.split(".", 1)[0]):
            wsgi = code_root.joinpath(*candidate.split("."), "wsgi.py")
            if wsgi.is_file():
                return (
                    Found("django", f"django in {deps['django']}, {manage_py(root)}"),
                    Found(f"{candidate}.wsgi:application", wsgi.relative_to(root).as_posix()),
                )
        return Found("django", "manage.py"), Found(f"{package}.wsgi:application", settings.evidence)
    declared = [f for f in FRAMEWORK_CLASSES if f[0] in deps]
    for name, classes, factories in declared:
        apps = _app_objects(root, factories, classes)
        # A module-level app beats a factory; a shorter module path beats a deeper one.
        apps.sort(key=lambda f: (f.value.endswith("()"), f.value.count("."), f.value))
        if apps:  # the framework whose app the code builds (Litestar may list starlette)
            kind = "fastapi" if name == "starlette" else name
            return Found(kind, f"{name} in {deps[name]}"), apps[0]
    if declared:
        name = declared[0][0]
        kind = "fastapi" if name == "starlette" else name
        return Found(kind, f"{name} in {deps[name]}"), Found("", "no app object found")
    return Found("none", "no FastAPI, Litestar, Flask or Django: a test-only stack"), Found(
        "", "no server"
    )


def imported(tree: ast.Module) -> set[str]:
    """Return the top-level packages a module imports (absolute imports only)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def framework_modules(root: Path, framework: str) -> list[str]:
    """Return the modules that import ``framework``'s package, shallowest first."""
    packages = {framework, "starlette"} if framework == "fastapi" else {framework}
    found = [
        module_of(root, path)
        for path in python_files(root)
        if (tree := parse(path)) is not None and imported(tree) & packages
    ]
    return sorted((m for m in found if m), key=lambda m: (m.count("."), m))


def backing_services(root: Path, deps: Mapping[str, str], names: list[str]) -> Found:
    """Return the backing services a driver, a client, the code or the settings point at."""
    services = []
    reasons = []
    code = _code_text(root)
    for service, clients, pattern in SERVICE_EVIDENCE:
        client = sorted(clients & set(deps))
        if client:
            services.append(service)
            reasons.append(f"{client[0]} in {deps[client[0]]}")
        elif pattern and re.search(pattern, code):
            services.append(service)
            reasons.append(f"a {service} URL or backend in the code")
    if "postgres" in services and "mariadb" in services:  # one SQL database: the driver's
        postgres = _runtime(POSTGRES_DRIVERS, deps) or not _runtime(MYSQL_DRIVERS, deps)
        services.remove("mariadb" if postgres else "postgres")
    broker = "rabbitmq" in services
    client = sorted((REDIS_CLIENTS - ({"celery"} if broker else set())) & set(deps))
    if client:
        services.append("redis")
        reasons.append(f"{client[0]} in {deps[client[0]]}")
    elif any("REDIS" in name for name in names):
        services.append("redis")
        reasons.append("the code reads a REDIS variable")
    order = ("postgres", "mariadb", "redis", "rabbitmq", "memcached", "mongodb", "elasticsearch")
    services.sort(key=order.index)
    return Found(services, "; ".join(reasons) or "no database, broker or cache client")


DEV_SOURCE = re.compile(r"dev|test|\bci\b|group", re.IGNORECASE)


def _runtime(drivers: frozenset[str], deps: Mapping[str, str]) -> bool:
    """Tell whether one of ``drivers`` is a runtime dependency (not a dev/test group or file)."""
    return any(is_runtime(d, deps) for d in drivers)


def is_runtime(name: str, deps: Mapping[str, str]) -> bool:
    """Tell whether ``name`` is a runtime dependency (not only a dev/test group or file)."""
    return name in deps and not DEV_SOURCE.search(deps[name])


def _code_text(root: Path) -> str:
    """Return the code's text, less its comments (a URL commented out is not a service)."""
    return "\n".join(
        re.sub(r"(?m)^\s*#.*$", "", p.read_text(encoding="utf-8", errors="replace"))
        for p in python_files(root)
    )


def prepare_step(
    root: Path, kind: str, app: str = "", deps: Mapping[str, str] | None = None
) -> Found:
    """Return the one-shot step before tests or start (migrations), or ''."""
    if kind == "django":
        manage = manage_py(root) or "manage.py"
        return Found(f"python {manage} migrate --noinput", f"Django: {manage} migrate")
    if (root / "alembic.ini").is_file():
        return Found("alembic upgrade head", "alembic.ini")
    # Flask-Migrate keeps Alembic under migrations/ and runs it through the app.
    if kind == "flask" and app and (root / "migrations/alembic.ini").is_file():
        declared = (deps or {}).get("flask-migrate", "the code")
        where = f"migrations/alembic.ini, flask-migrate in {declared}"
        return Found(f"FLASK_APP={shlex.quote(app)} flask db upgrade", where)
    return Found("", "no migration tool found (an alembic.ini, Flask-Migrate's, or Django)")


# The libraries that run background work: each found as a dependency with no command.
WORKER_LIBRARIES = (
    "celery",
    "rq",
    "dramatiq",
    "huey",
    "arq",
    "saq",
    "apscheduler",
    "procrastinate",
)
# What in the code (or a dependency) says Celery runs periodic tasks: a beat is needed.
BEAT_EVIDENCE = re.compile(
    r"\bbeat_schedule\b|CELERY_?BEAT_SCHEDULE|add_periodic_task|\bperiodic_task\b|crontab\("
)


def celery_apps(root: Path) -> list[str]:
    """Return the Celery apps the code builds at module level (``jobs.worker:app``)."""
    found = [
        f"{module_of(root, path)}:{node.targets[0].id}"
        for path in python_files(root)
        if (tree := parse(path)) is not None and "celery" in imported(tree)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and call_name(node.value.func) == "Celery"
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ]
    return sorted(found, key=lambda app: (app.count("."), app))


def workers(root: Path, deps: Mapping[str, str]) -> Found:
    """Return the worker processes the code implies: Celery's worker, and beat when scheduled."""
    apps = celery_apps(root)
    if not apps:
        libraries = [lib for lib in WORKER_LIBRARIES if lib in deps]
        why = (
            f"{', '.join(libraries)} in the dependencies but no command to run it: "
            "set workers in the init settings"
            if libraries
            else "no Procfile process, compose worker or Celery app"
        )
        return Found({}, why)
    app = apps[0]
    found = {"worker": f"celery -A {app} worker --loglevel=INFO"}
    where = f"a Celery app: {app}"
    if "django-celery-beat" in deps:
        found["beat"] = (
            f"celery -A {app} beat --loglevel=INFO "
            "--scheduler django_celery_beat.schedulers:DatabaseScheduler"
        )
        where += f"; django-celery-beat in {deps['django-celery-beat']}"
    elif match := BEAT_EVIDENCE.search(_code_text(root)):
        # The schedule file goes to /tmp: the production root is read-only.
        found["beat"] = f"celery -A {app} beat --loglevel=INFO --schedule /tmp/celerybeat-schedule"
        where += f"; periodic tasks ({match.group(0).rstrip('(')})"
    return Found(found, where)


HEALTH_ROUTE = re.compile(r"/(?:[\w.-]+/)*(?:healthz?|health[-_]?check|livez|readyz|ping)/?")
ROUTE_DECORATORS = frozenset({"get", "route", "api_route", "head"})


def health_route(root: Path, app: str) -> Found | None:
    """Return the health route the app object itself declares (``@app.get("/health")``)."""
    module, _, attr = app.removesuffix("()").partition(":")
    path = next((p for p in python_files(root) if module_of(root, p) == module), None)
    tree = parse(path) if path else None
    if path is None or tree is None:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ROUTE_DECORATORS
                and isinstance(decorator.func.value, ast.Name)
                and decorator.func.value.id == attr
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
                and isinstance(decorator.args[0].value, str)
                and HEALTH_ROUTE.fullmatch(decorator.args[0].value)
            ):
                where = f"{path.relative_to(root).as_posix()}:{decorator.lineno}"
                return Found(decorator.args[0].value, f"{where} routes it ({node.name})")
    return None


FILE_HANDLERS = frozenset(
    {"FileHandler", "RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler"}
)


def _relative_file(node: ast.AST | None) -> str | None:
    """Return a string literal naming a file under the working directory, else None."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    path = node.value.strip()
    if not path or path.startswith(("/", "~", ".", "$")) or "{" in path or ":" in path:
        return None
    return path if re.fullmatch(r"[\w./-]+", path) else None


def _written_by(node: ast.AST) -> str | None:
    """Return the file a logging handler, basicConfig or a LOGGING dict writes, if literal."""
    if isinstance(node, ast.Call):
        name = call_name(node.func)
        keyword = next((k.value for k in node.keywords if k.arg == "filename"), None)
        if name in FILE_HANDLERS:
            return _relative_file(node.args[0] if node.args else keyword)
        if name == "basicConfig":
            return _relative_file(keyword)
    if isinstance(node, ast.Dict):  # Django's LOGGING: {"filename": "debug.log", ...}
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "filename":
                return _relative_file(value)
    return None


def writable_paths(root: Path) -> Found:
    """Return what the app writes beside its code: a file's folder (``logs/``), or the file."""
    found: dict[str, str] = {}
    for path in python_files(root):
        tree = parse(path)
        for node in ast.walk(tree) if tree else ():
            if written := _written_by(node):
                folder, _, _ = written.partition("/")
                entry = f"{folder}/" if "/" in written else written
                where = f"{path.relative_to(root).as_posix()}:{getattr(node, 'lineno', 0)}"
                found.setdefault(entry, f"{where} writes {written}")
    if not found:
        return Found([], "no log file or other write beside the code found")
    return Found(list(found), "; ".join(found.values()))
