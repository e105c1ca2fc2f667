"""What ``shipyard init`` finds in an existing project's Python code, with its evidence.

:mod:`shipyard.adopt.detect` reads what the packaging metadata declares; this
module reads the code itself (parsed, never imported or run): the app object and
its framework, the variables it reads, the services it talks to, its migrations.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
# Variables every process has, or that shipyard sets itself: never part of a contract.
AMBIENT = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "PWD",
        "SHELL",
        "TERM",
        "LANG",
        "TZ",
        "CI",
        "TMPDIR",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "DJANGO_SETTINGS_MODULE",
        "PYTEST_CURRENT_TEST",
        "PYTEST_ADDOPTS",
    }
)
IMPLICIT_READS = (
    (r"dj_database_url\.(config|parse)\(\s*\)", "DATABASE_URL"),
    (r"\benv\.db(_url)?\(\s*\)", "DATABASE_URL"),
    (r"\benv\.cache(_url)?\(\s*\)", "CACHE_URL"),
)
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
POSTGRES_DRIVERS = frozenset({"psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000"})
REDIS_CLIENTS = frozenset({"redis", "celery", "rq", "django-redis", "aioredis", "hiredis"})


@dataclass(frozen=True)
class EnvRead:
    """One variable the code reads, with its default when the code gives one."""

    name: str
    default: str | None
    where: str  # path:line
    optional: bool = False  # read with .get()/getenv() and no default: the code runs without it


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


def _parse(path: Path) -> ast.Module | None:
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


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _app_objects(
    root: Path, factory_names: tuple[str, ...], classes: tuple[str, ...]
) -> list[Found]:
    found = []
    for path in python_files(root):
        tree = _parse(path)
        if tree is None:
            continue
        where = f"{path.relative_to(root).as_posix()}"
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and _call_name(node.value.func) in classes
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                found.append(
                    Found(f"{module_of(root, path)}:{name}", f"{where}:{node.lineno} {name} = ...")
                )
            if isinstance(node, ast.FunctionDef) and node.name in factory_names:
                found.append(
                    Found(
                        f"{module_of(root, path)}:{node.name}()",
                        f"{where}:{node.lineno} def {node.name}()",
                    )
                )
    return found


def django_settings(root: Path) -> Found | None:
    """Return the settings module manage.py names, if it is a Django project."""
    manage = root / "manage.py"
    if not manage.is_file():
        return None
    match = re.search(
        r"DJANGO_SETTINGS_MODULE[\"']\s*,\s*[\"']([\w.]+)", manage.read_text(encoding="utf-8")
    )
    if not match:
        return None
    return Found(match.group(1), f"manage.py sets DJANGO_SETTINGS_MODULE={match.group(1)}")


def framework(root: Path, deps: Mapping[str, str]) -> tuple[Found, Found]:
    """Return the web framework (or ``none``) and its WSGI/ASGI entry point."""
    settings = django_settings(root)
    if "django" in deps and settings:
        package = settings.value.rsplit(".", 1)[0]
        for candidate in (package, settings.value.split(".", 1)[0]):
            wsgi = root.joinpath(*candidate.split("."), "wsgi.py")
            if wsgi.is_file():
                return (
                    Found("django", f"django in {deps['django']}, manage.py"),
                    Found(f"{candidate}.wsgi:application", wsgi.relative_to(root).as_posix()),
                )
        return Found("django", "manage.py"), Found(f"{package}.wsgi:application", settings.evidence)
    for name, classes, factories in (
        ("fastapi", ("FastAPI",), ()),
        ("starlette", ("Starlette",), ()),
        ("flask", ("Flask",), ("create_app", "make_app")),
    ):
        if name in deps:
            apps = _app_objects(root, factories, classes)
            # A module-level app beats a factory; a shorter module path beats a deeper one.
            apps.sort(key=lambda f: (f.value.endswith("()"), f.value.count("."), f.value))
            kind = "fastapi" if name == "starlette" else name
            if apps:
                return Found(kind, f"{name} in {deps[name]}"), apps[0]
            return Found(kind, f"{name} in {deps[name]}"), Found("", "no app object found")
    return Found("none", "no FastAPI, Flask or Django: a test-only stack"), Found("", "no server")


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        value = node.value
        return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def _env_call(node: ast.Call) -> tuple[str, ast.AST | None, bool] | None:
    """Return (name, default, optional) of ``os.getenv``, ``env("X")``, ``config("X")``...

    ``os.environ.get("X")`` with no default is optional: the code runs without it.
    """
    func = node.func
    target = ""
    if isinstance(func, ast.Attribute):
        owner = func.value
        owner_name = _call_name(owner)
        if func.attr == "getenv" or (func.attr == "get" and owner_name == "environ"):
            target = "os"
        elif owner_name in {"env", "environ"} and func.attr in {
            "str",
            "int",
            "bool",
            "float",
            "list",
            "url",
            "db",
            "db_url",
            "cache",
            "cache_url",
            "json",
        }:
            target = "environ"
    elif isinstance(func, ast.Name) and func.id in {"env", "config", "getenv"}:
        target = "environ"
    if not target or not node.args:
        return None
    name = _literal(node.args[0])
    if not name or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        return None
    default = node.args[1] if len(node.args) > 1 else None
    for keyword in node.keywords:
        if keyword.arg == "default":
            default = keyword.value
    return name, default, target == "os" and default is None


def _settings_fields(tree: ast.Module) -> Iterator[tuple[str, ast.AST | None, int, bool]]:
    """Yield the fields of pydantic ``BaseSettings`` subclasses (their env names)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            _call_name(b) == "BaseSettings" for b in node.bases
        ):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    name = item.target.id
                    if name != "model_config" and not name.startswith("_"):
                        yield name.upper(), item.value, item.lineno, False


def env_reads(root: Path) -> list[EnvRead]:
    """Return every variable the (non-test) code reads, first place first, sorted by name."""
    found: dict[str, EnvRead] = {}
    for path in python_files(root):
        tree = _parse(path)
        if tree is None:
            continue
        where = path.relative_to(root).as_posix()
        reads: list[tuple[str, ast.AST | None, int, bool]] = list(_settings_fields(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (call := _env_call(node)):
                reads.append((call[0], call[1], node.lineno, call[2]))
            elif (
                isinstance(node, ast.Subscript)
                and _call_name(node.value) == "environ"
                and (name := _literal(node.slice))
            ):
                reads.append((name, None, node.lineno, False))
        text = path.read_text(encoding="utf-8", errors="replace")
        # Libraries that read a variable by convention, not by name in the call.
        for pattern, name in IMPLICIT_READS:
            if match := re.search(pattern, text):
                reads.append((name, None, text.count("\n", 0, match.start()) + 1, True))
        for name, default, line, optional in reads:
            if name in AMBIENT or name in found:
                continue
            value = _literal(default)
            # A default the code computes (or None) is not a value for an env file.
            unset = optional or (default is not None and value is None)
            found[name] = EnvRead(name, value, f"{where}:{line}", optional=unset)
    return [found[k] for k in sorted(found)]


# A name ending in one of these is about a secret, not the secret (TOKEN_EXPIRE_MINUTES).
NOT_THE_SECRET = frozenset(
    {
        "MINUTES",
        "HOURS",
        "SECONDS",
        "DAYS",
        "TTL",
        "EXPIRE",
        "EXPIRES",
        "LENGTH",
        "SIZE",
        "URL",
        "HOST",
        "PORT",
        "NAME",
        "USER",
        "PREFIX",
        "FILE",
        "PATH",
        "ID",
        "ALGORITHM",
    }
)


def is_secret(name: str) -> bool:
    """Tell a secret by its name (PASSWORD, SECRET, TOKEN, KEY), but not its settings."""
    parts = name.upper().split("_")
    if parts[-1] in NOT_THE_SECRET:
        return False
    return any(word in part for part in parts for word in SECRET_WORDS)


def backing_services(root: Path, deps: Mapping[str, str], reads: list[EnvRead]) -> Found:
    """Return postgres/redis when a driver, a client or the settings point at them."""
    services = []
    reasons = []
    driver = sorted(POSTGRES_DRIVERS & set(deps))
    code = _code_text(root)
    if driver:
        services.append("postgres")
        reasons.append(f"{driver[0]} in {deps[driver[0]]}")
    elif re.search(r"postgres(ql)?(\+\w+)?://|django\.db\.backends\.postgresql", code):
        services.append("postgres")
        reasons.append("a postgresql URL or backend in the code")
    client = sorted(REDIS_CLIENTS & set(deps))
    if client:
        services.append("redis")
        reasons.append(f"{client[0]} in {deps[client[0]]}")
    elif any("REDIS" in r.name for r in reads):
        services.append("redis")
        reasons.append("the code reads a REDIS variable")
    return Found(services, "; ".join(reasons) or "no database or cache client")


def _code_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in python_files(root))


def prepare_step(root: Path, kind: str) -> Found:
    """Return the one-shot step before tests or start (migrations), or ''."""
    if kind == "django":
        return Found("python manage.py migrate --noinput", "Django: manage.py migrate")
    if (root / "alembic.ini").is_file():
        return Found("alembic upgrade head", "alembic.ini")
    return Found("", "no migrations found (alembic.ini, manage.py)")
