"""Why a build failed, read from BuildKit's own log: the step, its last lines, the fix.

A failed ``docker buildx bake`` or ``docker build`` ends in a long log whose
one useful part is the failing step: BuildKit marks it ``#N ERROR:``, its
output lines carry the same ``#N``, and ``failed to solve:`` ends the run.
The same log comes from buildx and from the classic client with BuildKit, so
one reader serves both builders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.core.errors import BuildFailed

STEP = re.compile(r"^#(\d+) \[([^\]]+)\] (.+)$")
OUTPUT = re.compile(r"^#(\d+) \d+\.\d+ (.*)$")
FAILED = re.compile(r"^#(\d+) ERROR: (.*)$")
SOLVE = re.compile(r"failed to solve\b.*$")
WRAPPERS = re.compile(  # what BuildKit and gRPC wrap the reason in
    r"^(?:failed to solve(?: with frontend [\w.]+)?: |rpc error: code = \w+ desc = "
    r"|failed to create LLB definition: )+"
)
PARSE = re.compile(r"dockerfile parse error (?:on )?line (\d+): (.*)$")
EXIT = re.compile(r"(?:exit code|returned a non-zero code): (\d+)")
STEP_LINES = 12  # of the failing step's output, shown under the error

# Known causes, found in the failing step's lines or BuildKit's reason: the fix.
CAUSES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), tip)
    for pattern, tip in (
        (
            r"lockfile .*needs to be updated|`--locked` was provided",
            "uv.lock does not match pyproject.toml: run `uv lock`, commit uv.lock, build again",
        ),
        (
            r"poetry\.lock .*(?:changed|not consistent)|run `poetry lock`",
            "poetry.lock does not match pyproject.toml: run `poetry lock`, commit it, build again",
        ),
        (
            r"dockerfile parse error",
            "fix that line of the Dockerfile (an instruction is misspelt or malformed)",
        ),
        (
            r"load metadata for|pull access denied|manifest unknown|failed to resolve source",
            (
                "the base image is not on this engine and could not be pulled: `docker pull` it "
                "where its registry is reachable, or build from an image you have (the FROM "
                "line; for a project `shipyard init` adopted, its python setting)"
            ),
        ),
        (
            r"failed to compute cache key|\"/[^\"]+\": not found|no such file or directory.*COPY",
            (
                "a file the Dockerfile copies is not in the build context: check the path and "
                "the .dockerignore that applies to this Dockerfile"
            ),
        ),
        (
            (
                r"pg_config executable not found|mysql_config|command '(?:gcc|cc|\S+-gcc)'"
                r"|gcc: not found|fatal error: [\w/.+-]+\.h: No such file|pkg-config"
            ),
            (
                "a package is compiled from source and needs system libraries: add the Debian "
                "packages (e.g. build-essential, libpq-dev) to the build stage's apt-get line "
                "(for a project adopted by `shipyard init`: build-packages in its settings, then "
                "`shipyard init --force`)"
            ),
        ),
        (
            r"has no installation candidate|unable to locate package",
            (
                "the image's Debian release has no package by that name (a name from an older "
                "release: netcat is netcat-openbsd, libssl1.1 is libssl3): fix the apt-get line "
                "(for a project `shipyard init` adopted: runtime-packages or build-packages in "
                "its settings, then `shipyard init --force`)"
            ),
        ),
        (
            (
                r"no matching distribution|could not find a version that satisfies|"
                r"no solution found when resolving|not found in the package registry"
            ),
            (
                "no release of a requirement fits this image's Python: check the pin the step "
                "names, or the Python version (python in the init settings, or the FROM line)"
            ),
        ),
        (
            (
                r"certificate[ _]verify[ _]failed|temporary failure in name resolution"
                r"|no such host|connection (?:refused|timed out)|network is unreachable"
            ),
            (
                "the build could not reach the network: behind a proxy, give the build its CA "
                "(SSL_CERT_FILE or the ca-bundle setting) and check that PyPI is reachable"
            ),
        ),
    )
)
DEFAULT_TIP = (
    "the step's last lines are above; fix the command or the files it reads, then build "
    "again (`inv docker-build`)"
)


@dataclass(frozen=True)
class Failure:
    """The failing step of a build, as BuildKit logged it."""

    stage: str  # "test 4/9", "internal", or "" when no step failed (a parse error)
    step: str  # "RUN uv sync --locked", or ""
    lines: tuple[str, ...]  # the step's last output lines
    reason: str  # BuildKit's last word: the exit code, or the parse error


def read(log: str) -> Failure | None:
    """Return the failing step of a BuildKit ``log``, or None when it shows none."""
    steps: dict[str, tuple[str, str]] = {}
    output: dict[str, list[str]] = {}
    failed: tuple[str, str] | None = None
    reason = ""
    for raw in log.splitlines():
        line = raw.rstrip()
        if match := STEP.match(line):
            steps.setdefault(match[1], (match[2], match[3]))
        elif match := FAILED.match(line):
            failed = failed or (match[1], match[2])
        elif match := OUTPUT.match(line):
            output.setdefault(match[1], []).append(match[2])
        if match := SOLVE.search(line):
            reason = WRAPPERS.sub("", match[0])
    if failed is None and not reason:
        return None
    if failed is None:
        return Failure("", "", (), reason)
    stage, step = steps.get(failed[0], ("", ""))
    lines = tuple(output.get(failed[0], [])[-STEP_LINES:])
    return Failure(stage, step, lines, reason or failed[1])


ASSIGNMENTS = re.compile(r"""^RUN\s+(?:\w+=(?:"[^"]*"|'[^']*'|\S*)\s+)+""")


def _short(step: str, width: int = 100) -> str:
    """Return the step as a user knows it: no mounts, no variables set for it, one line."""
    step = re.sub(r"--mount=\S+\s+", "", step)
    step = " ".join(ASSIGNMENTS.sub("RUN ", step).split())
    return step if len(step) <= width else step[: width - 3] + "..."


def explain(log: str, what: str, dockerfile: str = "the Dockerfile") -> BuildFailed | None:
    """Return the error that says why building ``what`` failed, or None for an unread log."""
    failure = read(log)
    if failure is None:
        return None
    text = "\n".join((*failure.lines, failure.reason, failure.step))
    tip = next((tip for pattern, tip in CAUSES if pattern.search(text)), DEFAULT_TIP)
    details = failure.lines
    if parse := PARSE.search(failure.reason):
        message = f"building {what} failed: {dockerfile}, line {parse[1]}: {parse[2]}"
    elif failure.step.startswith("load metadata for "):
        base = failure.step.removeprefix("load metadata for ")
        message = f"building {what} failed: its base image {base} could not be loaded"
        details = (failure.reason,)
    elif failure.step:
        code = EXIT.search(failure.reason)
        exited = f" (exit {code[1]})" if code else ""
        message = f"building {what} failed at [{failure.stage}] {_short(failure.step)}{exited}"
    else:
        message = f"building {what} failed: {failure.reason}"
    return BuildFailed(message, tip=tip, details="\n".join(details))
