"""Values the project already wrote down for its variables: its env, compose and CI files.

A settings class that requires ``FIRST_SUPERUSER`` with no default fails at
import in a stack that does not set it; the project's ``.env.example``, its
compose file or its CI workflow usually holds a working value. Read, never
run: env files through python-dotenv, compose files and GitHub Actions
workflows as YAML. A file's own examples beat a compose file's values, and
those beat CI's; ``.env`` (a developer's own file, when committed) comes last.
A value that points at a variable (``${X}``) is no value.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from shipyard.adopt.detect import own_dockerfiles
from shipyard.adopt.packages import bookworm_names
from shipyard.core.config import read_toml

# An example value that stands for one, not one: <your-key>, changeme, xxx, ...
PLACEHOLDER = re.compile(r"^<.*>$|change[-_ ]?me|^x{3,}$|your[-_ ]", re.IGNORECASE)
EXAMPLE_FILES = (
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    ".env.defaults",
    "env.example",
    "example.env",
    "sample.env",
)
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
# An environment's example file: .env.dev-sample, .env.development.example (not prod's).
ENV_EXAMPLE = re.compile(r"\.env\.(?!prod)[\w-]*?[-.](sample|example|template)", re.IGNORECASE)


def example_files(root: Path) -> list[tuple[Path, str]]:
    """Return the project's example env files, with how to name each.

    Those at the top, then one environment's (``.env.dev-sample``), then the
    same in the folder above when the project sits in a subfolder of a
    checkout with no Python project at its top (django-on-docker's ``app/``).
    """
    folders = [(root, "")]
    top = root.parent
    if (top / ".git").exists() and not any(
        (top / n).is_file() for n in ("pyproject.toml", "setup.py", "requirements.txt")
    ):
        folders.append((top, "../"))
    found = []
    for folder, prefix in folders:
        named = [folder / n for n in EXAMPLE_FILES]
        named += sorted(p for p in folder.glob(".env.*") if ENV_EXAMPLE.fullmatch(p.name))
        found += [(p, prefix + p.name) for p in named if p.is_file()]
    return found


def _load_yaml(path: Path) -> Any:  # noqa: ANN401 - whatever the file holds
    if not path.is_file():
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError:
        return None


def _pairs(environment: object) -> Iterator[tuple[str, str]]:
    """Yield the literal KEY=value pairs of a compose or CI ``environment``/``env`` section."""
    if isinstance(environment, Mapping):
        items = [(str(k), v) for k, v in environment.items()]
    elif isinstance(environment, list):
        items = [tuple(str(i).split("=", 1)) for i in environment if "=" in str(i)]  # type: ignore[misc]
    else:
        return
    for key, value in items:
        if isinstance(value, str | int | float | bool) and "${" not in str(value):
            yield key, str(value).lower() if isinstance(value, bool) else str(value)


def _compose(root: Path) -> Iterator[tuple[str, str, str]]:
    for name in COMPOSE_FILES:
        data = _load_yaml(root / name)
        services = data.get("services") if isinstance(data, dict) else None
        for service in (services or {}).values():
            if isinstance(service, dict):
                for key, value in _pairs(service.get("environment")):
                    yield key, value, f"{name} ({key})"


def _workflows(root: Path) -> Iterator[tuple[str, str, str]]:
    for path in sorted((root / ".github/workflows").glob("*.y*ml")):
        data = _load_yaml(path)
        if not isinstance(data, dict):
            continue
        sections = [data.get("env")]
        for job in (data.get("jobs") or {}).values():
            if isinstance(job, dict):
                sections.append(job.get("env"))
                sections += [s.get("env") for s in job.get("steps") or [] if isinstance(s, dict)]
        where = path.relative_to(root).as_posix()
        for section in sections:
            for key, value in _pairs(section):
                yield key, value, f"{where} ({key})"


def stated_values(root: Path) -> dict[str, tuple[str, str]]:
    """Return the variables the project's CI sets or its example env file gives a value."""
    found: dict[str, tuple[str, str]] = {}
    for key, value, where in _workflows(root):
        if value and "${" not in value:
            found.setdefault(key, (value, where))
    for path, name in example_files(root):
        for key, example in dotenv_values(path).items():
            if example and "${" not in example and not PLACEHOLDER.search(example):
                found.setdefault(key, (example, name))
    return found


def example_values(root: Path) -> dict[str, tuple[str, str]]:
    """Return each variable's value from the project's own files, with where it was found."""
    found: dict[str, tuple[str, str]] = {}

    def add(key: str, value: str | None, where: str) -> None:
        if value and "${" not in value and key not in found:
            found[key] = (value, where)

    for path, name in example_files(root):
        for key, value in dotenv_values(path).items():
            add(key, value, name)
    for key, value, where in (*_compose(root), *_workflows(root)):
        add(key, value, where)
    for key, value in dotenv_values(root / ".env").items():
        add(key, value, ".env")
    return found


# What runs the suite in a CI line, less the tool that wraps it.
RUNNERS = re.compile(r"^(?:(?:uv|poetry|pipenv|pdm|hatch|rye) run|tox -e \S+ --)\s+")
PYTEST = re.compile(r"(?:^|[\s/])(?:py\.test|pytest)(?:\s|$)|-m pytest\b")


def _ci_jobs(root: Path) -> Iterator[tuple[list[str], str]]:
    """Yield each CI job's lines (its steps' ``run:``, GitLab's ``script:``) and its file."""
    for path in [*sorted((root / ".github/workflows").glob("*.y*ml")), root / ".gitlab-ci.yml"]:
        data = _load_yaml(path)
        if not isinstance(data, dict):
            continue
        gitlab = path.name == ".gitlab-ci.yml"
        jobs = data.values() if gitlab else (data.get("jobs") or {}).values()
        for job in (j for j in jobs if isinstance(j, dict)):
            blocks = [job.get("script")] if gitlab else []
            blocks += [s.get("run") for s in job.get("steps") or [] if isinstance(s, dict)]
            lines = [
                line
                for block in blocks
                for line in _in_folder(
                    block if isinstance(block, list) else str(block or "").splitlines()
                )
            ]
            yield lines, path.relative_to(root).as_posix()


CD = re.compile(r"^cd\s+([\w./-]+?)/?$")
CD_PREFIX = re.compile(r"^cd\s+[\w./-]+\s*&&\s*")


def _in_folder(block: list[Any]) -> Iterator[str]:
    """Yield a script's lines, each run after the block's last ``cd X`` as ``cd X && line``."""
    folder = ""
    for raw in block:
        line = str(raw).strip()
        if match := CD.match(line):
            folder = match[1] if match[1] not in {".", ""} else ""
        yield f"cd {folder} && {line}" if folder and not CD.match(line) else line


def _ci_lines(root: Path) -> Iterator[tuple[str, str]]:
    """Yield (line, where) of every CI job's lines."""
    for lines, where in _ci_jobs(root):
        yield from ((line, where) for line in lines)


def _joined(text: str) -> str:
    """Return ``text`` with backslash-continued lines joined (a Makefile recipe, tox commands)."""
    return re.sub(r"[ \t]*\\\n\s*", " ", text)


def _task_lines(root: Path) -> Iterator[tuple[str, str]]:
    """Yield (line, where) of tox.ini's commands and the Makefile's test target."""
    tox = root / "tox.ini"
    if tox.is_file():
        for line in _joined(tox.read_text(encoding="utf-8", errors="replace")).splitlines():
            yield line.strip().removeprefix("commands =").strip(), "tox.ini"
    makefile = root / "Makefile"
    text = makefile.read_text(encoding="utf-8", errors="replace") if makefile.is_file() else ""
    recipe = False
    for line in _joined(text).splitlines():
        if re.match(r"^tests?\s*:", line):
            recipe = True
        elif recipe and line.startswith("\t"):
            yield line.strip().lstrip("@-"), "Makefile test target"
        else:
            recipe = False


# The suite run by another runner (Django's, unittest's), less coverage's wrapper.
OTHER_RUNNER = re.compile(r"(?:^|\s)(?:\S*manage\.py\s+test|-m\s+(?:unittest|django\s+test))\b")
COVERAGE_RUN = re.compile(r"^(?:python3?\s+-m\s+)?coverage\s+run\s+(?:-\S+\s+)*")


def test_command(root: Path) -> tuple[str, str] | None:
    """Return the project's own test command (as its CI, tox or Makefile runs it), and where.

    A pytest line wins; else a line running Django's or unittest's runner, which
    is how the project's suite is meant to run (its own TEST_RUNNER, its setup).
    """
    lines = [*_ci_lines(root), *_task_lines(root)]
    for line, where in lines:
        if _runs_pytest(line) and (command := _bare(line)):
            return command, where
    for line, where in lines:
        if OTHER_RUNNER.search(line) and not line.startswith("#") and (command := _bare(line)):
            return command, where
    return None


# A CI line that runs the suite inside the project's own compose service.
IN_COMPOSE = re.compile(
    r"^docker(?:-compose|\s+compose)\s+(?:-f\s+\S+\s+)*(?:run|exec)\s+(?:-{1,2}[\w-]+\s+)*[\w.-]+\s+"
)


# tox's substitutions in a command, as the same command reads in the test image.
TOX_SUBSTITUTIONS = (
    (r"\{envpython\}", "python"),
    (r"\{env_?bin_?dir\}/", ""),
    (r"\{(?:toxinidir|tox_root)\}/", ""),
    (r"\{(?:toxinidir|tox_root)\}", "."),
    (r"\s*\{posargs[^}]*\}", ""),
)


def _bare(line: str) -> str:
    """Return a CI line less what wraps it (uv run, docker compose run app), tox's {} read.

    A ``cd X &&`` in front (the job changed folder first) stays in front.
    """
    folder = match[0] if (match := CD_PREFIX.match(line)) else ""
    command = RUNNERS.sub("", IN_COMPOSE.sub("", line.removeprefix(folder)))
    for tox, plain in TOX_SUBSTITUTIONS:
        command = re.sub(tox, plain, command)
    if OTHER_RUNNER.search(command) and not _runs_pytest(command):
        command = COVERAGE_RUN.sub("", command)
        if command.split(maxsplit=1)[0].endswith(".py"):
            command = f"python {command}"  # coverage ran the file
    return folder + command.strip() if command.strip() else ""


# CI lines before the tests that make files the suite needs, and the script named
# for the step before start (full-stack-fastapi-template's scripts/prestart.sh).
FILE_STEP = re.compile(r"^(touch|mkdir|cp|ln)\s+[^|;&<>$`]+$")
PRESTART = re.compile(r"^(?:(?:ba)?sh\s+|python3?\s+)?\S*pre[-_]?start\S*$")


def steps_before_tests(root: Path) -> tuple[list[str], str, str] | None:
    """Return what the CI job running pytest does before it: setup steps, prestart, where.

    Setup steps are file steps and the project's own commands (its console
    scripts: ``flaskbb translations compile``), which make what the suite reads.
    """
    scripts = set(read_toml(root / "pyproject.toml").get("project", {}).get("scripts", {}))
    for lines, where in _ci_jobs(root):
        first = next((i for i, line in enumerate(lines) if _runs_pytest(line)), None)
        if first is None:
            continue
        before = [RUNNERS.sub("", line) for line in lines[:first]]
        prestart = next((line for line in before if PRESTART.match(line)), "")
        steps = [
            line
            for line in before
            if FILE_STEP.match(line) or (line.split()[:1] and line.split()[0] in scripts)
        ]
        return steps, prestart, where
    return None


def _runs_pytest(line: str) -> bool:
    return bool(PYTEST.search(line)) and not line.startswith("#")


# Images of a project's own compose file that mean a backing service init knows.
SERVICE_IMAGES = (
    (re.compile(r"(^|/)(postgres|postgis)"), "postgres"),
    (re.compile(r"(^|/)(mysql|mariadb)"), "mariadb"),
    (re.compile(r"(^|/)(redis|valkey)"), "redis"),
    (re.compile(r"(^|/)rabbitmq"), "rabbitmq"),
    (re.compile(r"(^|/)memcached"), "memcached"),
    (re.compile(r"(^|/)mongo"), "mongodb"),
    (re.compile(r"(^|/)elasticsearch"), "elasticsearch"),
)


def compose_services(root: Path) -> dict[str, str]:
    """Return the backing services the project's own compose files run, with where."""
    found: dict[str, str] = {}
    for name in COMPOSE_FILES:
        data = _load_yaml(root / name)
        services = data.get("services") if isinstance(data, dict) else None
        for key, service in (services or {}).items():
            image = str(service.get("image", "")) if isinstance(service, dict) else ""
            for pattern, kind in SERVICE_IMAGES:
                if pattern.search(image.split(":", 1)[0]):
                    found.setdefault(kind, f"{name}: {key} runs {image}")
    return found


BUILD_TOOLS = re.compile(r"(-dev|^gcc|^g\+\+|^build-essential|^pkg-config|^make|^cmake)$")
SERVERS = re.compile(
    r"\b(?:uvicorn|gunicorn|hypercorn|daphne|granian)\b.*?\s"
    r"([A-Za-z_][\w.]*:[A-Za-z_][\w.]*(?:\(\))?)(?:\s|\"|'|$)"
)


def own_image(root: Path) -> dict[str, tuple[Any, str]]:
    """Return what the project's own Dockerfile says: apt packages, the port, the app."""
    found: dict[str, tuple[Any, str]] = {}
    for path, text in own_dockerfiles(root):
        where = path.relative_to(root).as_posix()
        # Docker drops comment lines inside a continued instruction; so does this.
        joined = re.sub(r"\\\n", " ", re.sub(r"(?m)^[ \t]*#.*\n", "", text))
        for stage in re.split(r"(?im)^\s*FROM\s+", joined)[1:]:
            # Everything a builder stage installs is for building.
            builder = bool(re.match(r"\S+\s+AS\s+\S*(build|compile)", stage, re.IGNORECASE))
            for install in re.findall(r"apt-get\s+install\s+([^&;|\n]+)", stage):
                words = [w for w in install.split() if not w.startswith("-") and "=" not in w]
                names, renamed = bookworm_names(words)
                why = f"{where} installs them{renamed}"
                build = [n for n in names if builder or BUILD_TOOLS.search(n)]
                runtime = [n for n in names if n not in build]
                found.setdefault("build-packages", (build, why))
                found.setdefault("runtime-packages", (runtime, why))
        if port := re.search(r"^\s*EXPOSE\s+(\d+)", joined, re.MULTILINE):
            found.setdefault("port", (int(port.group(1)), f"{where}: EXPOSE {port.group(1)}"))
        for line in re.findall(r"^\s*(?:CMD|ENTRYPOINT)\s+(.+)$", joined, re.MULTILINE):
            flat = line.replace('", "', " ").replace("', '", " ")
            if app := SERVERS.search(flat):
                found.setdefault("app", (app.group(1), f"{where}: {line.strip()[:80]}"))
            if port := re.search(r"(?:--port[ =]|--bind[ =]\S*:|-b +\S*:)(\d+)", flat):
                found.setdefault("port", (int(port.group(1)), f"{where}: {line.strip()[:80]}"))
    return found | {k: v for k, v in procfile(root).items() if k not in found}


# A long-running process of the project's own that is not its web server: a queue's
# worker or scheduler, by the program that runs it.
WORKER_COMMAND = re.compile(
    r"^(?:python\s+(?:-m\s+)?)?(?:\S*/)?"
    r"(?:celery\b.*\b(?:worker|beat)\b|rq\s+worker|rqworker|rqscheduler|dramatiq\b"
    r"|huey_consumer|arq\b|saq\b|procrastinate\b.*\bworker\b"
    r"|\S*manage\.py\s+(?:rqworker|qcluster|run_huey|celery))"
)


def _start_script_command(root: Path, command: str) -> str | None:
    """Return the worker command in the start script a compose command runs, if any.

    cookiecutter-django's pattern: ``command: /start-celeryworker``, a script
    the project's Dockerfile copies there (``COPY ./compose/.../start
    /start-celeryworker``) whose last word is ``exec celery -A ... worker``.
    A development script that wraps it (watchfiles) is passed over for one
    that runs it plainly (the production one).
    """
    target = command.split(maxsplit=1)[0] if command.split() else ""
    for dockerfile, text in own_dockerfiles(root):
        for source, dest in re.findall(r"(?im)^\s*COPY\s+(?:--\S+\s+)*(\S+)\s+(\S+)\s*$", text):
            if dest != target:
                continue
            for base in (root, dockerfile.parent):
                script = base / source
                if not script.is_file():
                    continue
                for raw in script.read_text(encoding="utf-8", errors="replace").splitlines():
                    line = re.sub(r"^\s*exec\s+", "", raw.strip())
                    if WORKER_COMMAND.search(line):
                        return line
    return None


def worker_processes(root: Path) -> dict[str, tuple[str, str]]:
    """Return the project's own worker processes: its Procfile's, then its compose file's."""
    found: dict[str, tuple[str, str]] = {}
    path = root / "Procfile"
    lines = (
        path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []
    )
    for line in lines:
        kind, _, command = line.partition(":")
        kind, command = kind.strip(), command.strip()
        if re.fullmatch(r"[a-z][a-z0-9_-]*", kind) and WORKER_COMMAND.search(command):
            found.setdefault(kind, (command, f"Procfile: {kind}"))
    if found:
        return found
    for name in COMPOSE_FILES:
        data = _load_yaml(root / name)
        services = data.get("services") if isinstance(data, dict) else None
        for key, service in (services or {}).items():
            given = service.get("command") if isinstance(service, dict) else None
            text = shlex.join(map(str, given)) if isinstance(given, list) else given
            if isinstance(text, str) and not WORKER_COMMAND.search(text.strip()):
                text = _start_script_command(root, text.strip())
            if isinstance(text, str) and WORKER_COMMAND.search(text.strip()):
                slug = re.sub(r"[^a-z0-9_-]+", "-", str(key).lower()).strip("-") or "worker"
                found.setdefault(slug, (text.strip(), f"{name}: {key}"))
    return found


# The port may be a number or a placeholder: f"...:{port}/", "...:${PORT}/".
LOCAL_URL = re.compile(
    r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(?:\d+|\{\w*\}|\$\{?\w+\}?))?"
    r"(/[^\s\"',\]]*)"
)


# A health endpoint's path as a script writes it: "/api/v3/status/", "/healthz".
HEALTH_LITERAL = re.compile(
    r"[\"'](/(?:[\w.-]+/)*(?:status|health|healthz|ping|ready|live)\w*/?)[\"']"
)


def _script_health_path(root: Path, line: str) -> str | None:
    """Return the path a HEALTHCHECK's own script requests (healthchecks' fetchstatus.py)."""
    for word in line.split():
        # "$MEALIE_HOME/mealie/scripts/healthcheck.py": the path below a variable's folder.
        path = re.sub(r"^(?:\$\{?\w+\}?/|/app/|\./)", "", word.strip("[]\"',"))
        name = Path(path).name
        if not name.endswith((".py", ".sh")):
            continue
        for script in (root / path, root / name, *sorted(root.glob(f"*/{name}"))):
            if script.is_file():
                text = script.read_text(encoding="utf-8", errors="replace")
                found = LOCAL_URL.search(text) or HEALTH_LITERAL.search(text)
                if found and found.group(1) != "/":
                    return found.group(1)
    return None


def health_path(root: Path) -> tuple[str, str] | None:
    """Return the path the project's own health check requests (Dockerfile, then compose)."""
    for path, text in own_dockerfiles(root):
        joined = re.sub(r"\\\n", " ", text)
        where = f"{path.relative_to(root).as_posix()}: HEALTHCHECK"
        for line in re.findall(r"(?im)^\s*HEALTHCHECK\s+(.+)$", joined):
            if (url := LOCAL_URL.search(line)) and url.group(1) != "/":
                return url.group(1), where
            if scripted := _script_health_path(root, line):
                return scripted, f"{where} runs a script that requests it"
    for name in COMPOSE_FILES:
        data = _load_yaml(root / name)
        services = data.get("services") if isinstance(data, dict) else None
        for key, service in (services or {}).items():
            check = service.get("healthcheck") if isinstance(service, dict) else None
            test = check.get("test") if isinstance(check, dict) else None
            line = " ".join(map(str, test)) if isinstance(test, list) else str(test or "")
            if (url := LOCAL_URL.search(line)) and url.group(1) != "/":
                return url.group(1), f"{name}: {key}'s healthcheck"
    return None


def procfile(root: Path) -> dict[str, tuple[Any, str]]:
    """Return what a Procfile says: the app its ``web:`` process serves, its ``release:`` step."""
    path = root / "Procfile"
    lines = (
        path.read_text(encoding="utf-8", errors="replace").splitlines() if path.is_file() else []
    )
    found: dict[str, tuple[Any, str]] = {}
    for line in lines:
        kind, _, command = line.partition(":")
        command = command.strip()
        if kind.strip() == "web" and (app := SERVERS.search(command)):
            found["app"] = (app.group(1), f"Procfile: web: {command[:80]}")
        elif kind.strip() == "release" and command:
            found["prepare"] = (command, "Procfile: release")
    return found
