"""``shipyard init``: bring an existing project in, from what it already says.

Each setting of ``[tool.shipyard.init]`` (``[init]`` in shipyard.toml) is
either written by the user or found by :mod:`~shipyard.adopt.detect` (packaging)
and :mod:`~shipyard.adopt.code` (the code); the first
``init`` writes every finding there, with its evidence as a comment, so the
next ``init`` reads the same values and changes nothing. The generated files
are rendered from those settings alone (:mod:`shipyard.adopt.render`): change a
setting and ``init --force`` regenerates them. No file is replaced without
``--force``; ``--dry-run`` writes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.adopt import code, detect, ignores, notes, render
from shipyard.adopt.findings import findings
from shipyard.adopt.keys import INIT_KEYS, check
from shipyard.core.config import SETTINGS_FILE, project_slug, read_settings
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import display_path

Say = notes.Say
# What marks a file as init's own: the generated header (or, in files from before
# it had one, shipyard's import). Any other file is the project's: never replaced.
GENERATED = (
    "shipyard init",
    "from shipyard.tasks import namespace",
    "from shipyard import sessions",
)
# Where shipyard's file goes when the project has its own in the usual place,
# and how to use it from there.
BESIDE = {
    "Makefile": ("shipyard.mk", "'make -f shipyard.mk dev-up', or 'include shipyard.mk' in it"),
    "tasks.py": ("shipyard_tasks.py", "'inv -c shipyard_tasks dev-up'"),
    "noxfile.py": ("shipyard_noxfile.py", "'nox -f shipyard_noxfile.py -s docker-test'"),
    "docker/Dockerfile": ("docker/shipyard.Dockerfile", "compose/ builds from it"),
    ".gitlab-ci.yml": (
        "shipyard.gitlab-ci.yml",
        "add 'include: {local: shipyard.gitlab-ci.yml}' to .gitlab-ci.yml to run its jobs",
    ),
}


@dataclass(frozen=True)
class Step:
    """One file of the plan and what happens to it."""

    path: str
    text: str
    state: str  # new | same | differs | merge | kept (the project's own: never written)
    note: str = ""


def _chosen(found: detect.Found, own: object, where: str) -> detect.Found:
    """Return the user's setting over the finding: per entry for a table, whole otherwise."""
    if own is None:
        return found
    if isinstance(own, dict) and isinstance(found.value, dict):
        extra = [k for k in found.value if k not in own]
        more = f"; found: {', '.join(extra)} ({found.evidence})" if extra else ""
        return detect.Found(found.value | own, f"{where}{more}")
    return detect.Found(own, where)


def choose(root: Path) -> tuple[render.Adoption, dict[str, detect.Found], bool]:
    """Return the adoption, each setting with where it came from, and whether settings exist."""
    settings_path, tool = read_settings(root)
    init_table = tool.get("init")
    where = (
        f"[init] in {SETTINGS_FILE}"
        if settings_path.name == SETTINGS_FILE
        else "[tool.shipyard.init] in pyproject.toml"
    )
    if init_table is not None and not isinstance(init_table, dict):
        raise ConfigError(
            f"{where} must be a table", tip=f"write it as {where.split(maxsplit=1)[0]}"
        )
    init_table = init_table or {}
    check(init_table, where)
    found = findings(root)
    chosen = {key: _chosen(found[key], init_table.get(key), where) for key in INIT_KEYS}
    # A variable the user lists under optional-env leaves the contract (unless the
    # user's own env table still sets it): a finding is turned off by moving it.
    if "optional-env" in init_table:
        own_env, env = init_table.get("env") or {}, chosen["env"]
        moved = set(chosen["optional-env"].value) - set(own_env)
        kept = {k: v for k, v in env.value.items() if k not in moved}
        chosen["env"] = detect.Found(kept, env.evidence) if kept != env.value else env
    if isinstance(tool.get("project"), str):
        name = detect.Found(tool["project"], f"project in {settings_path.name}")
    else:
        name = detect.project_name(root)
    chosen = {"project": name, **chosen}
    value = {k: v.value for k, v in chosen.items()}
    extras = [d.split(":", 1)[1] for d in value["test-dependencies"] if d.startswith("extra:")]
    static = (
        detect.declared(root, extras)
        if value["toolchain"] == "pip" and not value["install"] and value["install-project"]
        else detect.Declared()
    )
    adoption = render.Adoption(
        project=project_slug(str(value["project"])),
        settings_file=settings_path.name if settings_path.is_file() else SETTINGS_FILE,
        python=str(value["python"]),
        toolchain=value["toolchain"],
        install=tuple(value["install"]),
        install_project=bool(value["install-project"]),
        scm_version=bool(value["scm-version"]),
        # Every requirements file found, and those the settings name (copied in before use).
        requirement_files=tuple(
            dict.fromkeys(
                [
                    *(p.relative_to(root).as_posix() for p in detect.requirement_files(root)),
                    *(
                        f
                        for f in (*value["install"], *value["test-dependencies"])
                        if ":" not in f and (root / f).is_file()
                    ),
                ]
            )
        ),
        test_dependencies=tuple(value["test-dependencies"]),
        extra_packages=tuple(value["extra-packages"]),
        extra_test_packages=tuple(value["extra-test-packages"]),
        framework=value["framework"],
        app=value["app"],
        port=int(value["port"]),
        services=tuple(value["services"]),
        prepare=value["prepare"],
        test_command=value["test-command"],
        build_packages=tuple(value["build-packages"]),
        runtime_packages=tuple(value["runtime-packages"]),
        python_path=tuple(value["python-path"]),
        env={str(k): str(v) for k, v in value["env"].items()},
        secrets=tuple(value["secrets"]),
        optional_env=tuple(value["optional-env"]),
        environment={str(k): str(v) for k, v in value["environment"].items()},
        health_path=value["health-path"],
        writable=tuple(value["writable"]),
        workers={str(k): str(v) for k, v in value["workers"].items() if str(v).strip()},
        test_setup=tuple(value["test-setup"]),
        workspace=tuple(value["workspace"]),
        context_ignore=tuple(value["context-ignore"]),
        git_ignore=tuple(ignores.git_ignores(root, skip=render.GITIGNORE)[0]),
        manage=code.manage_py(root) or "manage.py",
        poetry_lock=detect.poetry_lock_version(root),
        dockerfile=_beside(root, "docker/Dockerfile"),
        tasks_file=_beside(root, "tasks.py"),
        noxfile=_beside(root, "noxfile.py"),
        ci=tuple(value["ci"]),
        declared=(*static.runtime, *static.build) if static.runtime else (),
        declared_test=static.test,
        declared_build=bool(static.runtime and static.build),
        registry=str(tool.get("registry") or "").rstrip("/"),
        ci_install=value["ci-install"],
        ci_branch=value["ci-branch"],
    )
    return adoption, chosen, "init" in tool


def is_generated(text: str) -> bool:
    """Tell whether a file's text is init's (its header), not the project's own."""
    return any(mark in text for mark in GENERATED)


def _projects_own(path: Path) -> bool:
    return path.is_file() and not is_generated(path.read_text(encoding="utf-8", errors="replace"))


def _beside(root: Path, path: str) -> str:
    """Return where init writes ``path``: there, or beside the project's own file."""
    return BESIDE[path][0] if path in BESIDE and _projects_own(root / path) else path


def rendered(adoption: render.Adoption) -> dict[str, str]:
    """Return every generated file by its usual path under the project (merged ones excluded)."""
    return {
        "docker/Dockerfile": render.dockerfile(adoption),
        "docker/Dockerfile.dockerignore": render.dockerignore(adoption),
        "compose/docker-compose.yml": render.compose_base(adoption),
        **{
            f"compose/docker-compose.{env}.yml": render.compose_overlay(adoption, env)
            for env in ("dev", "test", "ci", "prod")
        },
        **(
            {"compose/mariadb-test-databases.sh": render.mariadb_init(adoption)}
            if "mariadb" in adoption.services
            else {}
        ),
        "env/.env.example": render.env_file(adoption, ci=False),
        "env/.env.ci": render.env_file(adoption, ci=True),
        "tasks.py": render.tasks_py(),
        "noxfile.py": render.noxfile_py(),
        "Makefile": render.makefile(adoption),
        **(
            {".github/workflows/shipyard.yml": render.github_workflow(adoption)}
            if "github" in adoption.ci
            else {}
        ),
        **({".gitlab-ci.yml": render.gitlab_pipeline(adoption)} if "gitlab" in adoption.ci else {}),
    }


def toml_value(value: object) -> str:
    """Return ``value`` as TOML (a string, a number, a flag or a list of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    return json.dumps(str(value))


def _setting_line(key: str, found: detect.Found) -> str:
    """Return ``key = value  # evidence`` (the evidence on one line, 150 characters at most)."""
    evidence = re.sub(r"\s+", " ", found.evidence)[:150]
    return f"{key} = {toml_value(found.value)}  # {evidence}"


def settings_text(chosen: Mapping[str, detect.Found], *, own_file: bool, has_table: bool) -> str:
    """Return the settings init adds: every finding, its evidence as a comment."""
    prefix = "" if own_file else "tool.shipyard."
    lines = [
        "",
        "# shipyard: what `shipyard init` found; edit a value, then run",
        "# `shipyard init --force` to regenerate docker/, compose/ and env/ from it.",
    ]
    if not has_table:
        if not own_file:
            lines.append("[tool.shipyard]")
        project = chosen["project"]
        lines.append(f"project = {toml_value(project.value)}  # {project.evidence}")
    lines.append(f"[{prefix}init]")
    tables = []
    for key in INIT_KEYS:
        found = chosen[key]
        if isinstance(found.value, dict):
            tables.append((key, found))
            continue
        lines.append(_setting_line(key, found))
    for key, found in tables:
        lines.append(f"[{prefix}init.{key}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in found.value.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def plan(root: Path) -> tuple[list[Step], dict[str, detect.Found], render.Adoption]:
    """Return the steps of an init, the settings chosen, and the adoption rendered."""
    adoption, chosen, has_init = choose(root)
    skip = set(chosen["skip"].value)
    steps = []
    for usual, text in rendered(adoption).items():
        if usual in skip:
            continue
        path = _beside(root, usual)
        if path != usual:
            steps.append(Step(usual, "", "kept", f"shipyard's is {path}: {BESIDE[usual][1]}"))
        if usual == "docker/Dockerfile.dockerignore":  # beside the Dockerfile it serves
            path = f"{adoption.dockerfile}.dockerignore"
        target = root / path
        if not target.exists():
            steps.append(Step(path, text, "new"))
        elif (old := target.read_text(encoding="utf-8", errors="replace")) == text:
            steps.append(Step(path, text, "same"))
        elif is_generated(old):
            steps.append(Step(path, text, "differs"))
        else:
            note = "the project's own (no `shipyard init` header); shipyard's is not written"
            steps.append(Step(path, "", "kept", note))
    target = root / ".gitignore"
    old_ignore = target.read_text(encoding="utf-8") if target.is_file() else None
    new = render.merged_lines(old_ignore, render.GITIGNORE)
    steps.append(
        Step(".gitignore", new, "same" if new == old_ignore else ("merge" if old_ignore else "new"))
    )
    steps += _settings_step(root, chosen, has_init=has_init)
    return steps, chosen, adoption


def _settings_step(root: Path, chosen: Mapping[str, detect.Found], *, has_init: bool) -> list[Step]:
    """Return the step that records the findings in the settings file, if it changes."""
    settings_path, tool = read_settings(root)
    own_file = settings_path.name == SETTINGS_FILE or not settings_path.is_file()
    old = settings_path.read_text(encoding="utf-8") if settings_path.is_file() else ""
    if has_init:
        recorded = record_missing(old, chosen, tool["init"], own_file=own_file)
        return [Step(settings_path.name, recorded, "merge")] if recorded != old else []
    text = settings_text(chosen, own_file=own_file, has_table=bool(tool))
    if not settings_path.is_file():
        settings_path = root / SETTINGS_FILE
    new = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + text
    return [Step(settings_path.name, new, "merge" if old else "new")]


def _insert_after(text: str, table: str, lines: list[str]) -> str | None:
    """Return ``text`` with ``lines`` right under the ``[table]`` header (None without one)."""
    header = re.compile(rf"^\[\s*{re.escape(table)}\s*\][ \t]*(#[^\n]*)?\n", re.MULTILINE)
    match = header.search(text)
    if not match:
        return None
    return text[: match.end()] + "".join(f"{line}\n" for line in lines) + text[match.end() :]


def record_missing(
    text: str, chosen: Mapping[str, detect.Found], own: Mapping[str, Any], *, own_file: bool
) -> str:
    """Return the settings with every finding the user did not set written in, with evidence.

    A table the user started before init keeps what they wrote; the rest of the
    findings go under it, so the next init reads them back and changes nothing.
    """
    table = "init" if own_file else "tool.shipyard.init"
    scalars = [
        _setting_line(key, found)
        for key, found in chosen.items()
        if key in INIT_KEYS and key not in own and not isinstance(found.value, dict)
    ]
    if scalars:
        found = "# found by `shipyard init`: edit a value, then run `shipyard init --force`"
        text = _insert_after(text, table, [found, *scalars]) or text
    for key in (k for k in INIT_KEYS if isinstance(chosen[k].value, dict)):
        mine = own.get(key)
        entries = [
            f"{k} = {toml_value(v)}"
            for k, v in chosen[key].value.items()
            if not isinstance(mine, dict) or k not in mine
        ]
        if mine is None:
            text += "".join(f"{line}\n" for line in [f"[{table}.{key}]", *entries])
        elif isinstance(mine, dict) and entries:
            text = _insert_after(text, f"{table}.{key}", entries) or text
    return text


MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", SETTINGS_FILE)


def _looks_like_python(root: Path) -> bool:
    if any((root / name).is_file() for name in MARKERS):
        return True
    return next(root.glob("*.py"), None) is not None or next(root.glob("*/*.py"), None) is not None


def _projects_below(root: Path) -> list[str]:
    """Return the subfolders holding the Python project when the top holds none of it.

    django-on-docker keeps its compose files at the top and Django, its
    requirements and Dockerfile in ``app/``: adopted from the top, init found
    no framework and wrote a stack with nothing to run.
    """
    if any((root / name).is_file() for name in MARKERS) or next(root.glob("*.py"), None):
        return []
    return sorted(
        folder.name
        for folder in root.iterdir()
        if folder.is_dir()
        and not folder.name.startswith(".")
        and any((folder / name).is_file() for name in (*MARKERS, "manage.py"))
    )


def _check_folder(root: Path) -> None:
    """Stop, saying where to look, unless ``root`` is a folder holding a Python project."""
    if not root.is_dir():
        raise ConfigError(
            f"{root} is not a folder", tip="give the project's folder: shipyard init PATH"
        )
    if not _looks_like_python(root):
        raise ConfigError(
            f"no Python project in {root}: no pyproject.toml, setup.py, requirements file "
            "or .py file",
            tip="run 'shipyard init' in (or with the path of) the folder holding the project",
        )
    if below := _projects_below(root):
        folder = display_path(root / below[0])
        raise ConfigError(
            f"no Python project at the top of {root}: "
            + ", ".join(f"{name}/" for name in below)
            + " holds its code and dependencies",
            tip=f"run 'shipyard init {folder}': shipyard adopts a project from the folder "
            "holding them (its compose/ and env/ go there)",
        )


def init(root: Path, *, dry: bool, force: bool, say: Say) -> list[Step]:
    """Show the findings, then write what is missing; return the steps taken (or planned)."""
    _check_folder(root)
    if (root / "pyproject.toml").is_file() and (root / SETTINGS_FILE).is_file():
        say(f"settings: {SETTINGS_FILE} (it wins over [tool.shipyard] in pyproject.toml)")
    steps, chosen, adoption = plan(root)
    say(f"shipyard init {root}")
    width = max(len(k) for k in chosen)
    for key, found in chosen.items():
        value = found.value if not isinstance(found.value, dict) else ", ".join(found.value) or "-"
        shown = " ".join(map(str, value)) if isinstance(value, list) else toml_value(value)
        shown = shown.strip('"')
        say(f"  {key:<{width}}  {shown or '-'}  ({found.evidence})")
    notes.missing_values(chosen, say)
    notes.own_containers(root, say)
    notes.other_versions(
        root, next((s.text for s in steps if s.path == "compose/docker-compose.yml"), ""), say
    )
    conflicts = [s for s in steps if s.state == "differs"]
    if conflicts and not force:
        names = ", ".join(s.path for s in conflicts)
        raise ConfigError(
            f"{len(conflicts)} generated file(s) differ from what the settings give now (a "
            f"settings change, or an edit of the file): {names}",
            tip="run 'shipyard init --force' to replace them, or list them under "
            "skip in the init settings to keep your own; nothing was written",
        )
    verb = {
        "new": "create",
        "differs": "replace",
        "merge": "add to",
        "same": "unchanged",
        "kept": "keep",
    }
    for step in steps:
        would = "would " if dry and step.state not in {"same", "kept"} else ""
        note = f"  ({step.note})" if step.note else ""
        say(f"  {would}{verb[step.state]:<9} {step.path}{note}")
    changes = [s for s in steps if s.state not in {"same", "kept"}]
    if dry:
        say(f"dry run: {len(changes)} file(s) would change; nothing was written")
        return steps
    for step in changes:
        target = root / step.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.text, encoding="utf-8")
    notes.stale_env_files(
        root,
        say,
        replaced=any(s.path == "env/.env.example" and s.state == "differs" for s in changes),
    )
    if changes:
        say(
            f"wrote {len(changes)} file(s). Next: add shipyard to the project's dev "
            f"dependencies, then '{adoption.nox} -s docker-test' (the suite in its image) and "
            f"'{adoption.inv} bootstrap' (a healthy dev stack)"
        )
    else:
        say("nothing to change: every file is as init would write it")
    return steps
