"""An environment, resolved once at the edge: files, env files, project name and images.

Compose owns the model. ``docker compose --profile '*' config --format json``
over an environment's files and env files gives every service as Compose
merges them (overlays, ``!reset``/``!override``, ``include:``, ``extends:``,
interpolation, ``${BUILD_TARGET:-development}``). The images to build are the
services' ``build:`` sections, one build per ``image:`` name: services that
share an image (an API and its worker) share the build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core import cache
from shipyard.core.compose import compose_command, job_services
from shipyard.core.config import Stack
from shipyard.core.engine import Engine
from shipyard.core.errors import CommandFailed, ConfigError, tail
from shipyard.core.workspace import Workspace, display_path
from shipyard.env import envcheck, envfiles, modelcache

ALL_PROFILES = "*"
_STAGE = re.compile(
    r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE | re.MULTILINE
)


def project_name(stack: Stack, env: str, run_id: str | None = None) -> str:
    """Return ``<project>-<env>``, or ``<project>-<env>-<run id>`` for a throwaway run."""
    stack.check_env(env)
    return f"{stack.project}-{env}" + (f"-{run_id}" if run_id else "")


def dockerfile_stages(path: Path) -> list[tuple[str, str | None]]:
    """Return each ``FROM <base> [AS <name>]`` of a Dockerfile as ``(base, name)``."""
    return [(m.group(1), m.group(2)) for m in _STAGE.finditer(path.read_text(encoding="utf-8"))]


@dataclass(frozen=True)
class Image:
    """One image to build: a ``build:`` section and the ``image:`` name Compose runs."""

    ref: str
    context: Path
    dockerfile: Path
    target: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # ``--secret`` specs from the services' build.secrets
    services: tuple[str, ...] = ()

    @property
    def repository(self) -> str:
        """Return the name without its tag (a registry's ``host:port/`` stays)."""
        name, _, tag = self.ref.rpartition(":")
        return name if name and "/" not in tag else self.ref

    @property
    def tag(self) -> str:
        """Return the tag (``latest`` when the name has none, as Docker reads it)."""
        return self.ref[len(self.repository) + 1 :] or "latest"

    def tags(self, sha: str | None = None, checkout: str | None = None) -> list[str]:
        """Return the tags a build gets: the name Compose runs, one per commit, one per checkout."""
        return (
            [self.ref]
            + ([f"{self.repository}:{self.tag}-{sha}"] if sha else [])
            + ([self.at(checkout)] if checkout else [])
        )

    def at(self, checkout: str) -> str:
        """Return the tag this checkout's build also gets, which no other checkout overwrites."""
        return f"{self.repository}:{self.tag}-at-{checkout}"

    def same_build(self, other: Image) -> bool:
        """Tell whether ``other`` builds the same thing (services sharing one image)."""
        return (self.context, self.dockerfile, self.target, dict(self.args), self.secrets) == (
            other.context,
            other.dockerfile,
            other.target,
            dict(other.args),
            other.secrets,
        )


@dataclass(frozen=True)
class Environment:
    """One environment of the stack, as Compose merged it; never re-checked below the edge."""

    name: str
    project: str
    files: tuple[Path, ...]
    env_files: tuple[Path, ...]
    services: Mapping[str, Any]
    images: tuple[Image, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    top_level: Mapping[str, Any] = field(default_factory=dict)  # networks, volumes as declared

    def compose(
        self,
        engine: Engine,
        *args: str,
        project: str | None = None,
        extra_files: Sequence[Path] = (),
    ) -> list[str]:
        """Return compose argv for this environment.

        ``up`` starts the services of the chosen profiles; every other command
        (``ps``, ``logs``, ``down``...) sees all of them, so status and
        teardown cover a profile's containers too.
        """
        profiles = self.profiles if args[:1] == ("up",) else (ALL_PROFILES,)
        return compose_command(
            engine,
            *args,
            project=project or self.project,
            files=[*self.files, *extra_files],
            env_files=self.env_files,
            profiles=profiles,
        )

    @property
    def started(self) -> frozenset[str]:
        """Return the services ``up`` starts: those with no profile, or a chosen one."""
        chosen = set(self.profiles)
        return frozenset(
            name
            for name, spec in self.services.items()
            if not (spec or {}).get("profiles") or chosen & set(spec["profiles"])
        )

    @property
    def started_images(self) -> tuple[Image, ...]:
        """Return the images of the services ``up`` starts (not a test profile's image)."""
        return tuple(image for image in self.images if self.started & set(image.services))

    @property
    def jobs(self) -> frozenset[str]:
        """Return the one-shot jobs: services others wait for to complete successfully."""
        return job_services(self.services)

    def image_of(self, service: str) -> Image | None:
        """Return the image ``service`` is built from, if it is built here."""
        return next((image for image in self.images if service in image.services), None)


def _secret_specs(build: Mapping[str, Any], declared: Mapping[str, Any]) -> tuple[str, ...]:
    specs = []
    for entry in build.get("secrets") or []:
        source = str(entry.get("source") if isinstance(entry, dict) else entry)
        spec = declared.get(source) or {}
        if spec.get("file"):
            specs.append(f"id={source},src={spec['file']}")
        elif spec.get("environment"):
            specs.append(f"id={source},env={spec['environment']}")
    return tuple(specs)


def _image(name: str, spec: Mapping[str, Any], declared: Mapping[str, Any]) -> Image:
    build = spec["build"]
    ref = spec.get("image")
    if not ref:
        raise ConfigError(
            f"service {name!r} has a build: section but no image: name",
            tip=f"give it one, e.g. 'image: {name}:development' in the overlay that builds it: "
            "shipyard tags what it builds with that name, and Compose runs it",
        )
    if "dockerfile_inline" in build:
        raise ConfigError(
            f"service {name!r} uses build.dockerfile_inline", tip="put the Dockerfile in a file"
        )
    context = Path(str(build.get("context", ".")))
    dockerfile = (context / str(build.get("dockerfile") or "Dockerfile")).resolve()
    if not dockerfile.is_file():
        raise ConfigError(
            f"service {name!r} builds from {display_path(dockerfile)}, which does not exist",
            tip="fix build.dockerfile (it is relative to build.context), or write the "
            "Dockerfile ('shipyard init' generates one)",
        )
    target = build.get("target")
    stages = [stage for _, stage in dockerfile_stages(dockerfile) if stage]
    if target and target not in stages:
        raise ConfigError(
            f"service {name!r} builds target {target!r}, but {display_path(dockerfile)} "
            f"has no such stage (stages: {', '.join(stages) or 'none'})",
            tip=f"add 'FROM ... AS {target}' to the Dockerfile, or change build.target",
        )
    args = {str(k): str(v) for k, v in (build.get("args") or {}).items() if v is not None}
    secrets = _secret_specs(build, declared)
    return Image(str(ref), context, dockerfile, target, args, secrets, (name,))


def images_of(model: Mapping[str, Any]) -> tuple[Image, ...]:
    """Return the images that the services of a merged Compose model build, one per name."""
    found: dict[str, Image] = {}
    declared = model.get("secrets") or {}
    for name, spec in sorted((model.get("services") or {}).items()):
        if not (spec or {}).get("build"):
            continue
        image = _image(name, spec, declared)
        seen = found.get(image.ref)
        if seen is None:
            found[image.ref] = image
        elif not seen.same_build(image):
            raise ConfigError(
                f"services {seen.services[0]!r} and {name!r} both run {image.ref} "
                "but build it differently",
                tip="give one of them another image: name, or the same build: section",
            )
        else:
            found[image.ref] = Image(
                seen.ref,
                seen.context,
                seen.dockerfile,
                seen.target,
                seen.args,
                seen.secrets,
                (*seen.services, name),
            )
    return tuple(found.values())


def read_model(ws: Workspace, name: str, files: Sequence[Path], env_files: Sequence[Path]) -> Any:  # noqa: ANN401 - JSON
    """Ask Compose for the merged model of every profile (a query: runs under --dry too)."""
    argv = compose_command(
        ws.engine,
        "config",
        "--format",
        "json",
        project=project_name(ws.stack, name),
        files=files,
        env_files=env_files,
        profiles=(ALL_PROFILES,),
    )
    key = modelcache.model_key(argv, files, env_files)
    name_in_cache = "model-" + cache.digest([str(Path.cwd()), *argv])[:16]
    if (kept := cache.read(name_in_cache, key)) is not None:
        return json.loads(kept)
    try:
        text = ws.runner.run(argv, capture=True, query=True).stdout or "{}"
        model = json.loads(text)
    except CommandFailed as exc:
        # An empty, partial or stale env file: shipyard's own check names every key
        # and its fix, where Compose prints one interpolation error per use.
        problems = envcheck.check_environment(ws.stack, name, ignored=lambda _path: None)
        envcheck.raise_for(name, [p for p in problems if p.rule in envcheck.BEFORE_COMPOSE])
        raise ConfigError(
            f"Compose cannot read the {name} stack's files",
            details=tail(exc.stderr or exc.stdout, 10),
            tip="fix what Compose says above; 'docker compose config' shows the same",
        ) from None
    cache.write(name_in_cache, key, text)
    return model


def stand_in_env_files(stack: Stack, name: str) -> tuple[Path, ...]:
    """Return the template that stands in for an env file not created yet.

    Enough to read the model (image names, build targets) under ``--dry`` and
    for builds: ``env/.env.<env>.example``, else the contract.
    """
    for path in (stack.env_dir / f".env.{name}.example", stack.env_dir / envfiles.EXAMPLE):
        if path.is_file():
            return (path,)
    return ()


def env_files(ws: Workspace, name: str, *, create: bool = True) -> tuple[Path, ...]:
    """Return the env files of ``name``; ``create`` makes ``.env.<env>`` from the example.

    Under ``--dry`` (or without ``create``) a missing file is not written, and
    its template stands in for it.
    """
    stack = ws.stack
    if create:
        _, notice = envfiles.ensure_env_file(stack, name, dry=ws.runner.dry)
        if notice:
            ws.say(notice)
    files = envfiles.layer_files(stack, name)
    if files:
        envfiles.layered(files)  # a malformed line stops us before Compose misreads it
        return tuple(files)
    return stand_in_env_files(stack, name)


def resolve(
    ws: Workspace, name: str, *, profiles: Sequence[str] = (), create: bool = True
) -> Environment:
    """Resolve environment ``name`` once: check it, prepare its env files, read Compose's model.

    ``create=False`` (builds) reads the model without writing a missing env file.
    """
    stack = ws.stack
    project = project_name(stack, name)
    files = stack.compose_files(name)
    found_env_files = env_files(ws, name, create=create)
    model = read_model(ws, name, files, found_env_files)
    services = model.get("services") or {}
    known = sorted({p for spec in services.values() for p in (spec or {}).get("profiles") or []})
    unknown = [p for p in profiles if p not in known]
    if unknown:
        raise ConfigError(
            f"the {name} stack has no profile {', '.join(map(repr, unknown))}",
            tip=(
                f"use one of them, e.g. 'inv up --env {name} --profile {known[0]}'"
                f" (profiles there: {', '.join(known)})"
                if known
                else "this stack's compose files declare no profiles: leave --profile out"
            ),
        )
    return Environment(
        name=name,
        project=project,
        files=tuple(files),
        env_files=found_env_files,
        services=services,
        images=images_of(model),
        networks=tuple(sorted(model.get("networks") or {})),
        volumes=tuple(sorted(model.get("volumes") or {})),
        profiles=tuple(profiles),
        top_level={kind: model.get(kind) or {} for kind in ("networks", "volumes")},
    )


def _example_service(environment: Environment) -> str:
    """Return a service worth scaling in an example: one that is built here, if any."""
    built = [service for image in environment.images for service in image.services]
    return next(iter(built or environment.services), "worker")


def scale_args(environment: Environment, scales: Sequence[str]) -> list[str]:
    """Turn ``worker=3`` values into ``--scale`` arguments, checking each one."""
    args = []
    for item in scales:
        service, _, count = item.partition("=")
        if service not in environment.services or not count.isdigit():
            raise ConfigError(
                f"cannot scale {item!r}: "
                + (
                    f"the {environment.name} stack has no service {service!r}"
                    if service not in environment.services
                    else "the replica count must be a whole number"
                ),
                tip=f"write SERVICE=N, e.g. --scale {_example_service(environment)}=3",
            )
        if int(count) > 1 and (
            held := _fixed_host_ports(environment.services[service], int(count))
        ):
            fits = ", ".join(f"{port} fits {n} replica{'s' if n > 1 else ''}" for port, n in held)
            raise ConfigError(
                f"cannot scale {service} to {int(count)}: its host port {fits}",
                tip="publish no host port (or a range as wide as the replicas, e.g. "
                '"8001-8003:8000") in its compose file, or scale a service that publishes none',
            )
        args += ["--scale", f"{service}={int(count)}"]
    return args


def _fixed_host_ports(spec: Mapping[str, Any] | None, replicas: int) -> list[tuple[str, int]]:
    """Return the host ports (or ranges) of ``spec`` too few for ``replicas``, and their room."""
    held = []
    for port in (spec or {}).get("ports") or []:
        published = str(port.get("published") or "") if isinstance(port, Mapping) else ""
        first, _, last = published.partition("-")
        room = int(last or first) - int(first) + 1 if first.isdigit() else replicas
        if room < replicas:
            held.append((published, room))
    return held
