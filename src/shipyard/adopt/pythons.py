"""Which Python init builds with, within the Linux wheels of the project's pins.

The project's own word first (``.python-version``, its Dockerfile), else the
newest its metadata and CI allow up to the default.

A pin a year old of a C extension (``multidict==6.0.4``) has wheels for the
Pythons of its year only; on a newer Python pip builds it from source, and a
slim image has no compiler. So init keeps to the Pythons every pin has a wheel
for: the files a lock lists (uv.lock, poetry.lock) say it without a network;
a requirements file's ``name==version`` pins are looked up on the package index
(the standard JSON simple API, PEP 691: PyPI, or ``PIP_INDEX_URL``), once per
set of pins (kept in shipyard's cache). An index that cannot be reached
constrains nothing; ``PIP_NO_INDEX`` skips the look-up.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from shipyard.adopt.detect import (
    Found,
    metadata_text,
    normalize,
    own_dockerfiles,
    requirement_files,
    setup_cfg,
)
from shipyard.core import cache
from shipyard.core.config import read_toml

# Python versions shipyard can generate an image for (python:X-slim).
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PYTHON = "3.12"

DEFAULT_INDEX = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
WHEEL_PARTS = 5
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([\w.!+-]+)\s*(?:#.*)?$")

# A project's pin ("multidict 6.0.4") and the files its release has.
Files = dict[str, list[str]]
Fetch = Callable[[str], list[str]]


def pythons(files: Iterable[str]) -> frozenset[str] | None:
    """Return the Pythons of PYTHONS a release has a glibc Linux wheel for.

    None when it constrains nothing: a pure-Python wheel, or no CPython Linux
    wheel at all (an sdist builds, or not, on every Python alike).
    """
    found: set[str] = set()
    for name in files:
        if _release_of(name) is None:
            continue
        tags, abi, platform = name[: -len(".whl")].split("-")[-3:]
        platforms = platform.split(".")
        if "any" in platforms:
            return None
        if not any(p.startswith(("manylinux", "linux")) for p in platforms):
            continue
        for tag in tags.split("."):
            minor = re.fullmatch(r"cp3(\d+)", tag)
            if not minor:
                continue
            least = int(minor.group(1))
            if abi == "abi3":  # the stable ABI: this Python and every later one
                found |= {v for v in PYTHONS if int(v.split(".")[1]) >= least}
            else:
                found.add(f"3.{least}")
    ours = found & set(PYTHONS)  # wheels for old Pythons only: every one of ours compiles it
    return frozenset(ours) if ours else None


def limits(root: Path, fetch: Fetch | None = None) -> dict[str, frozenset[str]]:
    """Return each pin that has Linux wheels for some Pythons only, with those Pythons."""
    releases = _locked(root)
    if releases is None:
        releases = _looked_up(_pins(root), fetch)
    found = {}
    for pin, files in releases.items():
        allowed = pythons(files)
        if allowed is not None:
            found[pin] = allowed
    return found


def _locked(root: Path) -> Files | None:
    """Return the files uv.lock or poetry.lock lists per release; None without such a lock."""
    if (root / "uv.lock").is_file():
        packages = read_toml(root / "uv.lock").get("package", [])
        return {
            f"{p.get('name')} {p.get('version')}": [
                str(w.get("url") or w.get("filename") or "").rsplit("/", 1)[-1]
                for w in p.get("wheels", [])
            ]
            for p in packages
            if isinstance(p, dict)
        }
    if (root / "poetry.lock").is_file():
        lock = read_toml(root / "poetry.lock")
        old = lock.get("metadata", {}).get("files", {})  # poetry < 1.2 kept them here
        return {
            f"{p.get('name')} {p.get('version')}": [
                str(f.get("file", ""))
                for f in p.get("files") or old.get(p.get("name"), [])
                if isinstance(f, dict)
            ]
            for p in lock.get("package", [])
            if isinstance(p, dict)
        }
    return None


def _pins(root: Path) -> dict[str, str]:
    """Return the ``name==version`` pins of the project's requirements files (no markers)."""
    pins = {}
    for path in requirement_files(root):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = PIN.match(line)
            if match:
                pins[normalize(match.group(1))] = match.group(2)
    return pins


def _index() -> str | None:
    if os.environ.get("PIP_NO_INDEX", "").lower() in {"1", "true", "yes", "on"}:
        return None
    for name in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if os.environ.get(name):
            return os.environ[name].rstrip("/")
    return DEFAULT_INDEX


def _looked_up(pins: dict[str, str], fetch: Fetch | None) -> Files:
    """Return the files of each pinned release, from the cache or the index."""
    index = _index()
    if not pins or index is None:
        return {}
    key = cache.digest([index, *sorted(f"{n}=={v}" for n, v in pins.items())])
    kept = cache.read("wheels", key)
    if kept is not None:
        return dict(json.loads(kept))
    read = fetch or (lambda name: _simple(index, name))

    def release(name: str) -> list[str] | None:
        try:
            files = read(name)
        except (OSError, ValueError):  # unreachable index, unknown project: no constraint
            return None
        return [f for f in files if _release_of(f) == (name, _version(pins[name]))]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = dict(zip(pins, pool.map(release, pins), strict=True))
    files = {f"{n} {pins[n]}": found for n, found in answers.items() if found is not None}
    if len(files) == len(pins):  # an answer with holes is not kept
        cache.write("wheels", key, json.dumps(files))
    return files


def _version(text: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        return text


def _release_of(wheel: str) -> tuple[str, str] | None:
    """Return a wheel file's project and version (``multidict-6.0.4-cp311-...whl``)."""
    parts = wheel.split("-")  # name-version[-build]-python-abi-platform.whl
    return (
        (normalize(parts[0]), _version(parts[1]))
        if wheel.endswith(".whl") and len(parts) >= WHEEL_PARTS
        else None
    )


def _simple(index: str, name: str) -> list[str]:
    """Return every file name the index lists for project ``name`` (PEP 691 JSON)."""
    url = f"{index}/{name}/"  # the user's own index setting: http(s), or file: for a mirror
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        listing = json.load(response)
    return [str(f.get("filename", "")) for f in listing.get("files", []) if isinstance(f, dict)]


def _versions(spec: str) -> list[str]:
    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return list(PYTHONS)
    return [v for v in PYTHONS if allowed.contains(f"{v}.0")] or list(PYTHONS)


def _declared(root: Path) -> tuple[list[str], list[str]]:
    """Return the Pythons the metadata allows, and what said so (empty when nothing does)."""
    pyproject = read_toml(root / "pyproject.toml")
    spec = pyproject.get("project", {}).get("requires-python")
    poetry_python = (
        pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
    )
    cfg = setup_cfg(root)
    if cfg.has_option("options", "python_requires"):
        spec = spec or cfg.get("options", "python_requires")
    if isinstance(spec, str):
        return _versions(spec), [f"requires-python {spec!r}"]
    if isinstance(poetry_python, str):
        caret = re.match(r"\^(3\.\d+)", poetry_python)
        spec = f">={caret.group(1)}" if caret else poetry_python.replace(" ", "")
        return _versions(spec), [f"[tool.poetry] python {poetry_python!r}"]
    return list(PYTHONS), []


def python_version(root: Path, wheels: Mapping[str, frozenset[str]] | None = None) -> Found:
    """Return the Python to build with: pinned files, the project's own image, then metadata.

    ``wheels`` maps pins to the Pythons they have Linux wheels for
    (:func:`shipyard.adopt.wheels.limits`): the choice keeps within them.
    """
    for name in (".python-version", "runtime.txt"):
        path = root / name
        if path.is_file():
            match = re.search(r"(3\.\d+)", path.read_text(encoding="utf-8"))
            if match:
                return Found(match.group(1), f"{name} says {match.group(1)}")
    pipfile = root / "Pipfile"  # TOML, but only this line matters here
    text = pipfile.read_text(encoding="utf-8", errors="replace") if pipfile.is_file() else ""
    pinned = re.search(r'^\s*python_version\s*=\s*"(3\.\d+)', text, re.MULTILINE)
    if pinned:
        return Found(pinned.group(1), f"Pipfile's python_version says {pinned.group(1)}")
    candidates, reasons = _declared(root)
    own = _dockerfile_python(root)
    if own and own.value in candidates:  # the image the project already builds and runs
        return own
    classified = sorted(
        set(re.findall(r"Programming Language :: Python :: (3\.\d+)", metadata_text(root)))
    )
    if classified and set(classified) & set(candidates):
        candidates = [v for v in candidates if v in classified]
        reasons.append("classifiers")
    tested = _ci_versions(root)
    if tested and set(tested) & set(candidates):
        candidates = [v for v in candidates if v in tested]
        reasons.append("CI's python-version")
    short = sorted(pin for pin, has in (wheels or {}).items() if _choice(candidates) not in has)
    fits = [v for v in candidates if all(v in has for has in (wheels or {}).values())]
    if short and fits:
        candidates = fits
        reasons.append(f"the Linux wheels of {', '.join(short[:3])}")
    if not reasons:
        return Found(DEFAULT_PYTHON, f"nothing says; {DEFAULT_PYTHON} by default")
    chosen = _choice(candidates)
    return Found(
        chosen,
        f"the newest of {', '.join(PYTHONS)} up to {DEFAULT_PYTHON} allowed by "
        + " and ".join(reasons),
    )


def _choice(candidates: list[str]) -> str:
    """Return the newest allowed Python up to the default (else the oldest allowed).

    Locks a year old rarely have wheels for the newest Python, and building
    them needs compilers.
    """
    settled = [v for v in candidates if PYTHONS.index(v) <= PYTHONS.index(DEFAULT_PYTHON)]
    return settled[-1] if settled else (candidates or [DEFAULT_PYTHON])[0]


OWN_FROM = re.compile(
    r"^\s*FROM\s+(?:--\S+\s+)*(?:docker\.io/)?(?:library/)?python:(3\.\d+)", re.IGNORECASE
)


def _dockerfile_python(root: Path) -> Found | None:
    """Return the Python of the project's own Dockerfile (``FROM python:3.10-slim``)."""
    for path, text in own_dockerfiles(root):
        for number, line in enumerate(text.splitlines(), 1):
            match = OWN_FROM.match(line)
            if match and match.group(1) in PYTHONS:
                where = f"{path.relative_to(root).as_posix()}:{number}"
                return Found(match.group(1), f"{where} FROM python:{match.group(1)}")
    return None


def _ci_versions(root: Path) -> list[str]:
    """Return the Pythons the project's GitHub workflows test on (matrix lists too)."""
    found: set[str] = set()

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, str(name))
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str | float) and (
            key in {"python-version", "python", "python-versions"}
            or (key in {"image", "container"} and "python" in str(node))
        ):
            found.update(re.findall(r"(?<![\d.])(3\.\d+)\b(?!t)", str(node)))

    for path in sorted(root.glob(".github/workflows/*.y*ml")):
        try:
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue
    return sorted(found & set(PYTHONS), key=PYTHONS.index)
