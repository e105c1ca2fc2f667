"""Tasks that build images: ``docker-build``."""

from __future__ import annotations

from invoke.context import Context

from shipyard import actions, envops, scan
from shipyard.errors import ShipyardError
from shipyard.tasks._edge import shipyard_task, workspace

__all__ = ["docker_build", "image_scan_secrets"]


@shipyard_task(
    help={
        "target": "one Dockerfile stage (default: every stage an environment runs)",
        "no_cache": "rebuild every layer",
        "push_cache": "share the layers through cache-ref (CI); default: only read them",
    }
)
def docker_build(
    c: Context, target: str = "", no_cache: bool = False, push_cache: bool = False
) -> None:
    """Build Dockerfile targets, tagged <image>:<target> and <image>:<target>-<git sha>."""
    ws = workspace(c, **{"cache-push": "true" if push_cache else None})
    targets = [target] if target else list(ws.stack.build_targets())
    for tag in actions.build(ws, targets, no_cache=no_cache):
        if not ws.runner.dry:
            print(tag)


@shipyard_task(
    help={
        "image": "an image to scan (repeatable; default: every built <image>:<target>)",
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
    images = image or [f"{ws.stack.image}:{target}" for target in ws.stack.build_targets()]
    findings = scan.scan_images(ws, images, needles)
    if findings:
        raise ShipyardError(
            f"{len(findings)} secret value(s) found in images",
            details="\n".join(str(f) for f in findings),
            tip="pass secrets with BuildKit --secret mounts ([tool.shipyard.build-secrets]), "
            "never ARG, ENV or COPY",
        )
    print(f"no secret found: {len(needles)} value(s) searched in {len(images)} image(s)")
