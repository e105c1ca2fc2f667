"""What ``shipyard init`` finds in a project's packaging metadata, each finding with its evidence.

Everything here reads files and returns values; nothing runs or writes. This
module reads what the project declares (pyproject.toml, setup.cfg/setup.py,
requirements, locks, CI); :mod:`shipyard.adopt.code` reads what its Python code
says. The findings are the defaults of ``[tool.shipyard.init]`` (see
:mod:`shipyard.adopt.plan`): a setting the user wrote always wins over what is
found here.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.config import read_toml


# Wheels that compile from source on a slim image: apt packages to build them
# (builder stage only) and what the built module needs at run time.
@dataclass(frozen=True)
class Found:
    """One finding: its value and why (a file and what in it)."""

    value: Any
    evidence: str


def normalize(name: str) -> str:
    """Return a distribution name as PEP 503 compares it (``Flask_SQLAlchemy`` → ...)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return normalize(match.group(0)) if match else None


def setup_cfg(root: Path) -> configparser.ConfigParser:
    """Return the project's setup.cfg, parsed (empty without one)."""
    parser = configparser.ConfigParser(interpolation=None)
    if (root / "setup.cfg").is_file():
        parser.read(root / "setup.cfg", encoding="utf-8")
    return parser


# Where a project says which requirements file it installs: CI, its Makefile, tox, Dockerfiles.
INSTALLERS = (".github/workflows/*.y*ml", ".gitlab-ci.yml", "Makefile", "tox.ini", "*Dockerfile*")
NAMED_REQUIREMENTS = re.compile(
    r"(?:\s-r\s*|--requirement[=\s]\s*|\bCOPY\s+(?:--\S+\s+)*)([\w.-]+(?:/[\w.-]+)*\.txt)\b"
)


def requirement_files(root: Path) -> list[Path]:
    """Return requirements*.txt at the top, under requirements/, and those the project names.

    A file another folder holds (``src/requirements.txt``) counts when the
    project's own CI, Makefile, tox.ini or Dockerfile installs it.
    """
    found = {*root.glob("requirements*.txt"), *root.glob("requirements/*.txt")}
    for pattern in INSTALLERS:
        for path in root.glob(pattern):
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            for name in NAMED_REQUIREMENTS.findall(text):
                named = root / name.removeprefix("./")
                if named.is_file() and "requirements" in named.name:
                    found.add(named)
    return sorted(p for p in found if p.is_file())


RUNTIME_REQUIREMENTS = re.compile(
    r"requirements([-_.](base|prod|production|main|common|app|runtime))?", re.IGNORECASE
)


def is_runtime_requirements(path: Path) -> bool:
    """Tell the runtime's requirements (``requirements.txt``, ``requirements/base.txt``...)."""
    stem = path.stem if path.parent.name != "requirements" else f"requirements-{path.stem}"
    return bool(RUNTIME_REQUIREMENTS.fullmatch(stem))


def is_test_requirements(path: Path) -> bool:
    """Tell a requirements file for tests or development (``requirements-dev.txt``...)."""
    return bool(re.search(r"(dev|test|ci)", path.stem, re.IGNORECASE))


def _requirements_in(path: Path, seen: set[Path] | None = None) -> set[str]:
    seen = seen or set()
    if path in seen or not path.is_file():
        return set()
    seen.add(path)
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        included = re.match(r"\s*-[rc]\s*(\S+)", line)
        if included:
            names |= _requirements_in(path.parent / included.group(1), seen)
        elif name := _requirement_name(line):
            names.add(name)
    return names


@dataclass(frozen=True)
class Declared:
    """What pyproject.toml declares statically: runtime, build backend, test extras."""

    runtime: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    test: tuple[str, ...] = ()


def declared(root: Path, extras: Iterable[str]) -> Declared:
    """Return ``[project]`` dependencies (unless dynamic), build requires and ``extras``' deps."""
    pyproject = read_toml(root / "pyproject.toml")
    project = pyproject.get("project", {})
    if "dependencies" in project.get("dynamic", []):
        return Declared()
    optional = project.get("optional-dependencies", {})
    own = _requirement_name(str(project.get("name", ""))) or "\0"
    test = [
        str(item)
        for extra in extras
        for item in optional.get(extra, [])
        if _requirement_name(str(item)) != own  # `pkg[test]` needs the project itself
    ]
    return Declared(
        tuple(str(item) for item in project.get("dependencies", [])),
        tuple(str(item) for item in pyproject.get("build-system", {}).get("requires", [])),
        tuple(dict.fromkeys(test)),
    )


def dependencies(root: Path) -> dict[str, str]:
    """Return every dependency name the project declares anywhere, with where it was found."""
    found: dict[str, str] = {}

    def add(names: Iterable[object], where: str) -> None:
        for item in names:
            name = _requirement_name(str(item))
            if name:
                found.setdefault(name, where)

    pyproject = read_toml(root / "pyproject.toml")
    project = pyproject.get("project", {})
    add(project.get("dependencies", []), "pyproject.toml [project]")
    for extra, items in project.get("optional-dependencies", {}).items():
        add(items, f"pyproject.toml extra {extra!r}")
    for group, items in pyproject.get("dependency-groups", {}).items():
        add((i for i in items if isinstance(i, str)), f"pyproject.toml group {group!r}")
    poetry = pyproject.get("tool", {}).get("poetry", {})
    add((k for k in poetry.get("dependencies", {}) if k != "python"), "pyproject.toml")
    add(poetry.get("dev-dependencies", {}), "pyproject.toml dev-dependencies")
    add(pyproject.get("tool", {}).get("uv", {}).get("dev-dependencies", []), "[tool.uv]")
    for group, table in poetry.get("group", {}).items():
        add(table.get("dependencies", {}), f"pyproject.toml group {group!r}")
    for path in sorted(requirement_files(root), key=lambda p: not is_runtime_requirements(p)):
        add(_requirements_in(path), path.relative_to(root).as_posix())
    add(_setup_requirements(root), "setup.py/setup.cfg")
    for lock in ("uv.lock", "poetry.lock"):
        data = read_toml(root / lock)
        add((p.get("name", "") for p in data.get("package", [])), lock)
    return found


def _setup_requirements(root: Path) -> list[str]:
    cfg = setup_cfg(root)
    found = []
    if cfg.has_option("options", "install_requires"):
        found += cfg.get("options", "install_requires").splitlines()
    setup_py = root / "setup.py"
    if setup_py.is_file():
        text = setup_py.read_text(encoding="utf-8")
        for block in re.findall(r"(?:install_requires|requires)\s*=\s*\[([^\]]*)\]", text):
            found += re.findall(r"[\"']([^\"']+)[\"']", block)
    return found


def project_name(root: Path) -> Found:
    """Return the project's name and where it came from (the folder's name as a last resort)."""
    pyproject = read_toml(root / "pyproject.toml")
    for table, where in (
        (pyproject.get("project", {}), "pyproject.toml [project].name"),
        (pyproject.get("tool", {}).get("poetry", {}), "pyproject.toml [tool.poetry].name"),
    ):
        if isinstance(table.get("name"), str):
            return Found(table["name"], where)
    cfg = setup_cfg(root)
    if cfg.has_option("metadata", "name"):
        return Found(cfg.get("metadata", "name"), "setup.cfg [metadata] name")
    if (root / "setup.py").is_file():
        match = re.search(
            r"\bname\s*=\s*[\"']([^\"']+)", (root / "setup.py").read_text(encoding="utf-8")
        )
        if match:
            return Found(match.group(1), "setup.py name=")
    return Found(root.name, f"the folder's name: no [project].name in {root.name}/")


def toolchain(root: Path) -> Found:
    """Return uv, poetry or pip, by lock file first, then by what pyproject.toml says."""
    pyproject = read_toml(root / "pyproject.toml")
    reqs = [p for p in requirement_files(root) if is_runtime_requirements(p)]
    evidence = [
        ("uv", "uv.lock" if (root / "uv.lock").is_file() else ""),
        ("poetry", "poetry.lock" if (root / "poetry.lock").is_file() else ""),
        (
            "poetry",
            "[tool.poetry] in pyproject.toml" if "poetry" in pyproject.get("tool", {}) else "",
        ),
        ("pip", reqs[0].relative_to(root).as_posix() if reqs else ""),
        ("pip", next((n for n in ("setup.py", "setup.cfg") if (root / n).is_file()), "")),
        (
            "pip",
            "[project] in pyproject.toml without a lock file" if "project" in pyproject else "",
        ),
    ]
    tool, why = next(((t, w) for t, w in evidence if w), ("pip", "no lock file or metadata: pip"))
    return Found(tool, why)


def poetry_lock_version(root: Path) -> str:
    """Return the Poetry version that wrote poetry.lock (its first line says), or ''."""
    lock = root / "poetry.lock"
    if not lock.is_file():
        return ""
    with lock.open(encoding="utf-8", errors="replace") as handle:
        match = re.search(r"generated by Poetry (\d+\.\d+(?:\.\d+)?)", handle.readline())
    return match.group(1) if match else ""


def workspace_members(root: Path) -> Found:
    """Return the members of the uv workspace ``root`` holds (folders with a pyproject.toml)."""
    workspace = read_toml(root / "pyproject.toml").get("tool", {}).get("uv", {}).get("workspace")
    if not isinstance(workspace, dict):
        return Found([], "no uv workspace")
    excluded = {
        p.resolve() for pattern in workspace.get("exclude", []) for p in root.glob(str(pattern))
    }
    patterns = [str(p).strip("/") for p in workspace.get("members", [])]
    members = sorted(
        path.relative_to(root).as_posix()
        for pattern in patterns
        if pattern not in {"", "."}  # the root itself
        for path in root.glob(pattern)
        if (path / "pyproject.toml").is_file() and path.resolve() not in excluded
    )
    return Found(members, "[tool.uv.workspace] members in pyproject.toml")


SCM_VERSIONS = ("hatch-vcs", "setuptools-scm", "versioningit", "poetry-dynamic-versioning")


def scm_version(root: Path) -> Found:
    """Tell whether the version comes from git (which the build context leaves out)."""
    requires = read_toml(root / "pyproject.toml").get("build-system", {}).get("requires", [])
    plugin = next((n for r in requires if (n := _requirement_name(str(r))) in SCM_VERSIONS), None)
    if plugin:
        return Found(True, f"{plugin} in [build-system] requires: .git is not in the context")  # noqa: FBT003
    return Found(False, "the version is in the project's files")  # noqa: FBT003


def is_package(root: Path, tool: str) -> Found:
    """Tell whether the project itself installs (a build backend), or only its dependencies do."""
    pyproject = read_toml(root / "pyproject.toml")
    if tool == "poetry" and (why := _poetry_installs_nothing(pyproject, root)):
        return Found(False, why)  # noqa: FBT003
    if tool == "uv" and pyproject.get("tool", {}).get("uv", {}).get("package") is False:
        return Found(False, "package = false in [tool.uv]")  # noqa: FBT003
    if "build-system" in pyproject:
        return Found(True, "[build-system] in pyproject.toml")  # noqa: FBT003
    if (root / "setup.py").is_file():
        return Found(True, "setup.py")  # noqa: FBT003
    cfg = setup_cfg(root)
    if cfg.has_section("metadata") or cfg.has_section("options"):
        return Found(True, "setup.cfg [metadata]/[options]")  # noqa: FBT003
    # A setup.cfg of tool sections alone ([flake8], [tool:pytest]) builds nothing.
    return Found(False, "no build backend: the code runs from /app")  # noqa: FBT003


def _poetry_installs_nothing(pyproject: dict[str, Any], root: Path) -> str:
    """Say why Poetry installs no package of the project's (or its build would fail), or ""."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    if poetry.get("package-mode") is False:
        return "package-mode = false in [tool.poetry]"
    name = str(poetry.get("name") or pyproject.get("project", {}).get("name") or "")
    if not name or poetry.get("packages"):
        return ""
    module = re.sub(r"[-.]+", "_", name).lower()
    if any((root / where).exists() for where in (module, f"src/{module}", f"{module}.py")):
        return ""
    return (
        f"Poetry finds no package {module} (no such folder, no packages in [tool.poetry]): "
        "the code runs from /app"
    )


def runtime_requirements(root: Path) -> Found:
    """Return the pip requirement files (or ``.``) holding the runtime dependencies."""
    own = _installed_by_own_image(root)
    if own:
        return own
    reqs = [p for p in requirement_files(root) if is_runtime_requirements(p)]
    prod = [p for p in reqs if re.search(r"(prod|base|main)", p.stem)]
    chosen = prod or [p for p in reqs if p.name == "requirements.txt"] or reqs[:1]
    if chosen:
        return Found([p.relative_to(root).as_posix() for p in chosen], "requirements file(s)")
    return Found([], "none: the project's own metadata (pip install .)")


def _installed_by_own_image(root: Path) -> Found | None:
    """Return the requirements files the project's own Dockerfile installs (not test ones)."""
    for path, text in own_dockerfiles(root):
        named = re.findall(r"(?:\s-r\s*|--requirement[=\s]\s*)([\w./-]+\.txt)\b", text)
        files = [f for n in named if (f := _in_project(root, n)) and not is_test_requirements(f)]
        if files:
            where = path.relative_to(root).as_posix()
            return Found([f.relative_to(root).as_posix() for f in dict.fromkeys(files)],
                         f"the project's own {where} installs it")  # fmt: skip
    return None


def _in_project(root: Path, named: str) -> Path | None:
    """Return the project's file a Dockerfile names (``/tmp/requirements.txt``: its name)."""
    for candidate in (root / named.removeprefix("./").lstrip("/"), root / Path(named).name):
        if candidate.is_file():
            return candidate
    return None


def test_dependencies(root: Path, tool: str) -> Found:
    """Return where the test dependencies live: ``group:G``, ``extra:E`` or a requirements file."""
    pyproject = read_toml(root / "pyproject.toml")
    wanted = ("test", "tests", "testing", "dev")
    found: list[str] = []
    groups = set(pyproject.get("dependency-groups", {}))
    if pyproject.get("tool", {}).get("uv", {}).get("dev-dependencies"):
        groups.add("dev")  # uv's older spelling of the dev group
    if tool == "poetry":
        groups |= set(pyproject.get("tool", {}).get("poetry", {}).get("group", {}))
        if pyproject.get("tool", {}).get("poetry", {}).get("dev-dependencies"):
            groups.add("dev")
    found += [f"group:{g}" for g in wanted if g in groups]
    extras = set(pyproject.get("project", {}).get("optional-dependencies", {}))
    cfg = setup_cfg(root)
    if cfg.has_section("options.extras_require"):
        extras |= set(cfg.options("options.extras_require"))
    found += [f"extra:{e}" for e in wanted if e in extras]
    notes = []
    if tool == "pip":
        files = requirement_files(root)
        chosen = [p for p in files if is_test_requirements(p)]
        if not any("pytest" in _requirements_in(p) for p in chosen):
            # By content: the file (and its -r includes) that holds the test tools,
            # whatever it is called (requirements/local.txt).
            holder = next(
                (
                    p
                    for p in files
                    if "pytest" in _requirements_in(p) and not is_runtime_requirements(p)
                ),
                None,
            )
            if holder:
                chosen.append(holder)
                notes.append("by content: it (or a file it includes) holds pytest")
        found += [p.relative_to(root).as_posix() for p in chosen]
    where = "; ".join([", ".join(found), *notes]) if found else "none declared"
    return Found(found, where)


def own_dockerfiles(root: Path) -> list[tuple[Path, str]]:
    """Return the project's own Dockerfiles with their text (not shipyard's, not ignore files)."""
    paths = [*root.glob("Dockerfile*"), *root.glob("*.Dockerfile"), *root.glob("docker/**/*")]
    # cookiecutter-django's and testdrivenio's layout: compose/<env>/<service>/Dockerfile,
    # beside an nginx or node one: only those built FROM a Python image are the app's.
    python = [p for p in root.glob("compose/**/*ockerfile*") if _from_python(p)]
    found = []
    for path in sorted(p for p in {*paths, *python} if p.is_file() and "ockerfile" in p.name):
        text = path.read_text(encoding="utf-8", errors="replace")
        # shipyard's own are rendered from these very settings: no evidence.
        if "Generated by `shipyard init`" not in text and ".dockerignore" not in path.name:
            found.append((path, text))
    return found


def _from_python(path: Path) -> bool:
    """Tell whether a Dockerfile builds FROM a Python image (python:3.11-slim, ...)."""
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return bool(re.search(r"(?im)^\s*FROM\s+(?:--\S+\s+)*\S*python", text))


def metadata_text(root: Path) -> str:
    """Return the packaging metadata's text: pyproject.toml, setup.cfg, setup.py."""
    return "".join(
        (root / name).read_text(encoding="utf-8")
        for name in ("pyproject.toml", "setup.cfg", "setup.py")
        if (root / name).is_file()
    )


PLUGINS = (("-n", "pytest-xdist"), ("--numprocesses", "pytest-xdist"), ("--cov", "pytest-cov"))


def pytest_option(root: Path, key: str) -> list[tuple[str, str]]:
    """Return (value, file) of a pytest ini option in each file that sets it."""
    sources = []
    for name, section in (
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        if (root / name).is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(root / name, encoding="utf-8")
            except configparser.Error:
                continue
            if parser.has_option(section, key):
                sources.append((parser.get(section, key), name))
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        options = read_toml(pyproject).get("tool", {}).get("pytest", {}).get("ini_options", {})
        if key in options:
            value = options[key]
            sources.append(
                (" ".join(value) if isinstance(value, list) else str(value), "pyproject.toml")
            )
    return sources


def pytest_plugins(root: Path) -> dict[str, str]:
    """Return plugins the project's pytest options need (``-n`` -> pytest-xdist), with where."""
    sources = pytest_option(root, "addopts")
    found: dict[str, str] = {}
    for addopts, where in sources:
        words = addopts.split()
        for flag, plugin in PLUGINS:
            if any(w == flag or w.startswith(f"{flag}=") for w in words):
                found.setdefault(plugin, f"{flag} in {where}'s addopts")
    return found
