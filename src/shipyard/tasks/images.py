"""Tasks that build images: ``docker-build``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from invoke.context import Context

from shipyard.core.errors import ShipyardError
from shipyard.tasks._edge import shipyard_task, workspace
from shipyard.tasks._lazy import lazy

if TYPE_CHECKING:
    from shipyard.deploy import registry
    from shipyard.env import envops, scan
    from shipyard.stack import builds
else:
    builds = lazy("shipyard.stack.builds")
    registry = lazy("shipyard.deploy.registry")
    envops = lazy("shipyard.env.envops")
    scan = lazy("shipyard.env.scan")

__all__ = ["docker_build", "image_scan_secrets", "promote", "push"]


@shipyard_task(
    help={
        "env": "only this environment's images (repeatable; default: every environment)",
        "service": "only the image this service runs",
        "target": "only images built from this Dockerfile stage",
        "no_cache": "rebuild every layer",
        "push_cache": "share the layers through cache-ref (CI); default: only read them",
    },
    iterable=["env"],
)
def docker_build(
    c: Context,
    env: list[str] | None = None,
    service: str = "",
    target: str = "",
    no_cache: bool = False,
    push_cache: bool = False,
) -> None:
    """Build the images the compose files declare, tagged <image> and <image>-<git sha>."""
    ws = workspace(c, **{"cache-push": "true" if push_cache else None})
    images = builds.images_of_environments(ws, env or [])
    if service or target:
        images = builds.select(images, service=service, target=target)
    for tag in builds.build_images(ws, images, no_cache=no_cache):
        if not ws.runner.dry:
            print(tag)


@shipyard_task(
    help={
        "image": "an image to scan (repeatable; default: every image the compose files build)",
        "env": "take @secret values from this environment's env files (repeatable; default: all)",
        "secret_env": "also look for the value of this environment variable (repeatable)",
    },
    iterable=["image", "env", "secret_env"],
)
def image_scan_secrets(
    c: Context,
    image: list[str] | None = None,
    env: list[str] | None = None,
    secret_env: list[str] | None = None,
) -> None:
    """Search images' history, config and every layer file for secret values; exit 1 on a hit."""
    ws = workspace(c)
    envs = env or envops.envs_with_files(ws.stack)
    needles = scan.secret_needles(ws, envs, secret_env or [])
    images = image or [i.ref for i in builds.images_of_environments(ws, [])]
    findings = scan.scan_images(ws, images, needles)
    if findings:
        raise ShipyardError(
            f"{len(findings)} secret value(s) found in images",
            details="\n".join(str(f) for f in findings),
            tip="pass secrets with BuildKit --secret mounts ([tool.shipyard.build-secrets]), "
            "never ARG, ENV or COPY",
        )
    print(f"no secret found: {len(needles)} value(s) searched in {len(images)} image(s)")


@shipyard_task(help={"env": "the environment whose images to push (default: prod)"})
def push(c: Context, env: str = "prod") -> None:
    """Push an environment's built images as <registry>/<name>:<git sha>; print each digest."""
    ws = workspace(c)
    for pushed in registry.push(ws, env, builds.images_of_environments(ws, [env])):
        print(pushed.line())


@shipyard_task(
    help={
        "from_": "the commit whose pushed images to promote (the tag 'inv push' printed)",
        "to": "the environment whose tag they get (default: prod)",
    }
)
def promote(c: Context, from_: str, to: str = "prod") -> None:
    """Tag the images pushed for a commit as :<env> in the registry, by digest; no build."""
    ws = workspace(c)
    for pushed in registry.promote(ws, to, builds.images_of_environments(ws, [to]), from_):
        print(pushed.line())
