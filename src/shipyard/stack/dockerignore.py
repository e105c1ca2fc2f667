"""What a build context sends to the engine: ``.dockerignore`` as Docker reads it.

BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile in place of
the context's ``.dockerignore`` when there is one (``docker/Dockerfile`` ->
``docker/Dockerfile.dockerignore``): one context, a rule set per image. That is
how ``shipyard init`` keeps a project's own ``.dockerignore`` for its own
images while its test image still gets the tests. Docker's rules: patterns
are paths relative to the context (a leading ``/`` is dropped), ``*`` and
``?`` stay within one path segment, ``**`` spans any number, a pattern that
matches a folder excludes everything below it, ``!`` re-includes, and the
last matching pattern wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path

Pattern = tuple[bool, re.Pattern[str]]  # (re-include?, compiled)


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
            continue
        char = pattern[i]
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        i += 1
    return re.compile(out + "(/.*)?")  # a folder's pattern covers what lies below it


def ignore_file(context: Path, dockerfile: Path | None = None) -> Path:
    """Return the ignore file a build of ``dockerfile`` in ``context`` reads (it may not exist)."""
    if dockerfile is not None:
        own = dockerfile.with_name(dockerfile.name + ".dockerignore")
        if own.is_file():
            return own
    return context / ".dockerignore"


def read(context: Path, dockerfile: Path | None = None) -> list[Pattern]:
    """Return the patterns the build reads, in order ([] without an ignore file)."""
    path = ignore_file(context, dockerfile)
    if not path.is_file():
        return []
    patterns = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        text = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        patterns.append((keep, _compile(text)))
    return patterns


def excluded(path: str, patterns: list[Pattern]) -> bool:
    """Tell whether ``path`` (relative to the context, with ``/``) stays out of the build."""
    result = False
    for keep, regex in patterns:
        if regex.fullmatch(path):
            result = not keep
    return result


def sent_files(
    context: Path, dockerfile: Path | None = None, *, skip: Collection[Path] = ()
) -> Iterator[Path]:
    """Yield every file the context sends to a build (excluded folders are not walked).

    ``skip``: folders not to walk either (the kept test stack mounts them).
    """
    patterns = read(context, dockerfile)
    for folder, dirs, files in os.walk(context):
        here = Path(folder)
        rel = here.relative_to(context).as_posix()
        prefix = "" if rel == "." else rel + "/"
        dirs[:] = [
            d
            for d in sorted(dirs)
            if here / d not in skip
            and (not excluded(prefix + d, patterns) or _reincluded(prefix + d, patterns))
        ]
        for name in sorted(files):
            if not excluded(prefix + name, patterns):
                yield here / name


def _reincluded(folder: str, patterns: list[Pattern]) -> bool:
    """Tell whether a ``!`` pattern may bring back something below an excluded folder."""
    return any(
        keep and regex.pattern.startswith(re.escape(folder + "/")) for keep, regex in patterns
    )
