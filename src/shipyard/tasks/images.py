"""Tasks that build images: ``docker-build``."""

from __future__ import annotations

from invoke.context import Context

from shipyard import actions
from shipyard.tasks._edge import shipyard_task, workspace

__all__ = ["docker_build"]


@shipyard_task(
    help={
        "target": "one Dockerfile stage (default: every stage an environment runs)",
        "no_cache": "rebuild every layer",
    }
)
def docker_build(c: Context, target: str = "", no_cache: bool = False) -> None:
    """Build Dockerfile targets, tagged <image>:<target> and <image>:<target>-<git sha>."""
    ws = workspace(c)
    targets = [target] if target else list(ws.stack.build_targets())
    for tag in actions.build(ws, targets, no_cache=no_cache):
        if not ws.runner.dry:
            print(tag)
