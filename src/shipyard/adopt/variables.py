"""The environment variables a project's code reads: names, defaults, where, and what they are.

Parsed, never run: ``os.environ[...]``, ``os.getenv``/``os.environ.get``,
django-environ and python-decouple calls, pydantic settings classes (v1 and
v2: inherited settings classes, ``env_prefix``, ``Field(env=...)``,
``validation_alias``), and one level of the project's own helpers (a function
that passes its first argument to one of those, as ``get_env("DATABASE_URL")``
does). A WSGI request's ``environ`` is not the process's: ``HTTP_HOST`` is no
variable to set. How a value is used says whether it is a secret, before its
name does: a value fed to ``int()`` or a boolean parser, declared ``int`` or
``bool``, or with a numeric or boolean default is a setting
(``JWT_TOKEN_MAX_AGE``); one declared ``SecretStr`` is a secret whatever its
name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shipyard.adopt.code import call_name, parse, python_files
from shipyard.env.explain import NOT_THE_SECRET, SWITCHES

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
# Keys of a WSGI/CGI request's environ, which code reads as environ["PATH_INFO"].
REQUEST_KEYS = frozenset(
    {
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_METHOD",
        "REQUEST_URI",
        "SCRIPT_NAME",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_HOST",
        "REMOTE_USER",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "GATEWAY_INTERFACE",
        "AUTH_TYPE",
        "HTTPS",
    }
)
IMPLICIT_READS = (
    (r"dj_database_url\.(config|parse)\(\s*\)", "DATABASE_URL"),
    (r"\benv\.db(_url)?\(\s*\)", "DATABASE_URL"),
    (r"\benv\.cache(_url)?\(\s*\)", "CACHE_URL"),
)
ENVIRON_METHODS = frozenset(
    {"str", "int", "bool", "float", "list", "url", "db", "db_url", "cache", "cache_url", "json"}
)
TYPED_ENVIRON_METHODS = frozenset({"int", "bool", "float"})
# Calls that turn a value into a number or a flag: what they read is no secret.
TYPED_CALLS = frozenset(
    {"int", "float", "bool", "Decimal", "strtobool", "str2bool", "to_bool", "as_bool", "parse_bool"}
)
TYPED_ANNOTATIONS = frozenset(
    {
        "int",
        "float",
        "bool",
        "Decimal",
        "timedelta",
        "PositiveInt",
        "NonNegativeInt",
        "PositiveFloat",
        "conint",
        "confloat",
    }
)
SECRET_ANNOTATIONS = frozenset({"SecretStr", "SecretBytes"})
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
NAME = re.compile(r"[A-Z][A-Z0-9_]*")
TYPED_DEFAULT = re.compile(r"-?\d+(\.\d+)?|true|false|yes|no|on|off", re.IGNORECASE)


@dataclass(frozen=True)
class EnvRead:
    """One variable the code reads, with its default when the code gives one."""

    name: str
    default: str | None
    where: str  # path:line
    optional: bool = False  # read with .get()/getenv() and no default: the code runs without it
    kind: str = ""  # "typed" (a number or a flag), "secret" (declared one), or "" (by name)

    @property
    def secret(self) -> bool:
        """Tell whether the value is a secret: by declaration, then use, then name."""
        return self.kind == "secret" or (self.kind != "typed" and is_secret(self.name))


def is_secret(name: str) -> bool:
    """Tell a secret by its name (PASSWORD, SECRET, TOKEN, KEY), but not its settings."""
    parts = name.upper().split("_")
    if parts[-1] in NOT_THE_SECRET or parts[0] in SWITCHES:
        return False
    return any(word in part for part in parts for word in SECRET_WORDS)


def literal(node: ast.AST | None) -> str | None:
    """Return a constant's text (booleans as ``true``/``false``), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        value = node.value
        return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def _process_environ(node: ast.AST) -> bool:
    """Tell ``os.environ`` or a bare ``environ`` from a request's (``request.environ``)."""
    if isinstance(node, ast.Name):
        return node.id == "environ"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


Access = tuple[ast.AST, ast.AST | None, bool, bool]  # key, default, optional, typed


def _request_key(owner: ast.AST, key: ast.AST) -> bool:
    """Tell a WSGI request's ``environ['PATH_INFO']`` (a bare ``environ``, a request key).

    ``os.environ['SERVER_NAME']`` is the process's: flasky's config requires it.
    """
    name = literal(key) or ""
    return (
        isinstance(owner, ast.Name)
        and owner.id == "environ"
        and (name in REQUEST_KEYS or name.startswith("HTTP_"))
    )


def _env_access(node: ast.AST) -> Access | None:
    """Return (key, default, optional, typed) of one read of the process environment."""
    if isinstance(node, ast.Subscript) and _process_environ(node.value):
        return None if _request_key(node.value, node.slice) else (node.slice, None, False, False)
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    default: ast.AST | None = node.args[1] if len(node.args) > 1 else None
    default = next((k.value for k in node.keywords if k.arg == "default"), default)
    cast = next((call_name(k.value) for k in node.keywords if k.arg == "cast"), "")
    typed = cast in TYPED_CALLS
    if isinstance(func, ast.Attribute):
        owner = func.value
        request = func.attr == "get" and _request_key(owner, node.args[0])
        if not request and (
            func.attr == "getenv" or (func.attr == "get" and _process_environ(owner))
        ):
            return node.args[0], default, default is None, typed
        if call_name(owner) in {"env", "environ"} and func.attr in ENVIRON_METHODS:
            return node.args[0], default, False, typed or func.attr in TYPED_ENVIRON_METHODS
    elif isinstance(func, ast.Name) and func.id in {"env", "config", "getenv"}:
        return node.args[0], default, False, typed
    return None


def helpers(trees: list[ast.Module]) -> frozenset[str]:
    """Return the project's functions that read the variable named by their first argument."""
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
                continue
            param = node.args.args[0].arg
            for inner in ast.walk(node):
                access = _env_access(inner)
                if access and isinstance(access[0], ast.Name) and access[0].id == param:
                    found.add(node.name)
                    break
    return frozenset(found)


def _typed_arguments(tree: ast.Module) -> set[int]:
    """Return the ids of nodes passed straight to int(), float(), a boolean parser..."""
    return {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and call_name(node.func) in TYPED_CALLS
        for arg in node.args
    }


def _annotation_kind(node: ast.AST | None) -> str:
    names = {call_name(n) for n in ast.walk(node)} if node is not None else set()
    if names & SECRET_ANNOTATIONS:
        return "secret"
    return "typed" if names & TYPED_ANNOTATIONS and "str" not in names else ""


def _settings_classes(trees: list[ast.Module]) -> set[str]:
    """Return the names of BaseSettings subclasses, through the project's own bases."""
    bases = {
        node.name: {call_name(b) for b in node.bases}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    found = {"BaseSettings"}
    while grown := {n for n, b in bases.items() if b & found} - found:
        found |= grown
    return found - {"BaseSettings"}


def _keyword(call: ast.AST | None, *names: str) -> str | None:
    if not isinstance(call, ast.Call):
        return None
    return next((literal(k.value) for k in call.keywords if k.arg in names), None)


def _prefix(node: ast.ClassDef) -> str:
    """Return the class's ``env_prefix`` (v1 ``class Config``, v2 ``model_config``)."""
    for item in node.body:
        if isinstance(item, ast.ClassDef) and item.name == "Config":
            for inner in item.body:
                if isinstance(inner, ast.Assign) and call_name(inner.targets[0]) == "env_prefix":
                    return literal(inner.value) or ""
        if isinstance(item, ast.Assign | ast.AnnAssign):
            target = item.targets[0] if isinstance(item, ast.Assign) else item.target
            if call_name(target) == "model_config":
                if isinstance(item.value, ast.Dict):
                    pairs = zip(item.value.keys, item.value.values, strict=True)
                    return next(
                        (literal(v) or "" for k, v in pairs if literal(k) == "env_prefix"), ""
                    )
                return _keyword(item.value, "env_prefix") or ""
    return ""


def settings_fields(
    tree: ast.Module, classes: set[str]
) -> Iterator[tuple[str, ast.AST | None, int, str]]:
    """Yield (variable, default, line, kind) for each field of a pydantic settings class."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name in classes):
            continue
        prefix = _prefix(node).upper()
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            name = item.target.id
            if name == "model_config" or name.startswith("_"):
                continue
            value = item.value
            own = _keyword(value, "env", "validation_alias", "alias")
            if isinstance(value, ast.Call) and call_name(value.func) == "Field":
                default = next((k.value for k in value.keywords if k.arg == "default"), None)
                value = value.args[0] if value.args else default
            yield (
                (own or prefix + name).upper(),
                value,
                item.lineno,
                _annotation_kind(item.annotation),
            )


def _reads(
    tree: ast.Module, own_helpers: frozenset[str]
) -> Iterator[tuple[str, ast.AST | None, int, bool, str]]:
    """Yield (name, default, line, optional, kind) for each read in one module."""
    typed_args = _typed_arguments(tree)
    # `os.environ.get("HOSTS").split(" ")`: None has no .split, so the code requires it.
    dereferenced = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        access = _env_access(node)
        helper = isinstance(node, ast.Call) and node.args and call_name(node.func) in own_helpers
        if access is None and helper and isinstance(node, ast.Call):
            access = node.args[0], node.args[1] if len(node.args) > 1 else None, False, False
        if access is None:
            continue
        key, default, optional, typed = access
        name = literal(key)
        if name is None or not NAME.fullmatch(name):
            continue
        typed = typed or id(node) in typed_args
        text = literal(default)
        typed = typed or (text is not None and bool(TYPED_DEFAULT.fullmatch(text)))
        optional = optional and id(node) not in dereferenced
        yield name, default, getattr(node, "lineno", 0), optional, "typed" if typed else ""


def compared_values(root: Path, variables: Iterable[str] = ()) -> dict[str, list[str]]:
    """Return the literals the code compares each variable with (``getenv("DB") == "postgres"``).

    An attribute named as one of ``variables`` (the settings field that reads
    it: ``settings.DB_ENGINE == "postgres"``) counts as the variable.
    """
    fields = {name.upper(): name for name in variables}
    found: dict[str, list[str]] = {}
    for path in python_files(root):
        for node in ast.walk(parse(path) or ast.Module(body=[], type_ignores=[])):
            if not isinstance(node, ast.Compare):
                continue
            access = _env_access(node.left)
            name = literal(access[0]) if access else None
            if name is None and isinstance(node.left, ast.Attribute):
                name = fields.get(node.left.attr.upper())
            if not name:
                continue
            for other in node.comparators:
                items = other.elts if isinstance(other, ast.List | ast.Tuple | ast.Set) else [other]
                found.setdefault(name, []).extend(v for e in items if (v := literal(e)))
    return found


def env_reads(root: Path) -> list[EnvRead]:
    """Return every variable the (non-test) code reads, first place first, sorted by name."""
    parsed = [(p, t) for p in python_files(root) if (t := parse(p)) is not None]
    trees = [t for _, t in parsed]
    own_helpers = helpers(trees)
    classes = _settings_classes(trees)
    found: dict[str, EnvRead] = {}
    for path, tree in parsed:
        where = path.relative_to(root).as_posix()
        reads = [(n, d, line, False, k) for n, d, line, k in settings_fields(tree, classes)]
        reads += list(_reads(tree, own_helpers))
        text = path.read_text(encoding="utf-8", errors="replace")
        # Libraries that read a variable by convention, not by name in the call.
        for pattern, name in IMPLICIT_READS:
            if match := re.search(pattern, text):
                reads.append((name, None, text.count("\n", 0, match.start()) + 1, True, ""))
        for name, default, line, optional, kind in reads:
            if name in AMBIENT or name in found:
                continue
            value = literal(default)
            # A default the code computes (or None) is not a value for an env file; an
            # empty one is what an unset variable gives already; nor is a bool: set, it
            # would read as the string "false", which is true.
            boolean = isinstance(default, ast.Constant) and isinstance(default.value, bool)
            unset = optional or value == "" or boolean or (default is not None and value is None)
            found[name] = EnvRead(name, value, f"{where}:{line}", optional=unset, kind=kind)
    return [found[k] for k in sorted(found)]
