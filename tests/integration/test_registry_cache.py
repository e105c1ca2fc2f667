"""Layer reuse: after a source-only change, and from a registry on an empty build cache.

The registry is a real registry:2. Neither the classic builder nor buildx's
`docker` driver can export a cache, so with both the cache travels inline in
an image pushed under cache-ref (one tag per image: <ref>:<name>-<tag>).
"""

from __future__ import annotations

import re

import pytest

from tests.integration.realstack import Stack, docker

DEPS_STEP = "uv sync --locked --no-install-project\n"  # the development stage's dependency layer


def step_state(build_log: str, command_tail: str, stage: str) -> str:
    """Return 'CACHED' or 'RUN' for the build step of ``stage`` whose command ends as given."""
    for match in re.finditer(r"^#(\d+) \[([^\]\s]+) [^\]\n]*\] (.*)$", build_log, re.MULTILINE):
        number, step_stage, command = match.groups()
        if step_stage == stage and (command + "\n").endswith(command_tail):
            return "CACHED" if re.search(rf"^#{number} CACHED$", build_log, re.MULTILINE) else "RUN"
    steps = "\n".join(m.group(0) for m in re.finditer(r"^#\d+ \[.*$", build_log, re.MULTILINE))
    msg = f"no {stage} step ending in {command_tail!r} among:\n{steps}"
    raise AssertionError(msg)


def test_source_only_change_reuses_the_dependency_layers(stack: Stack) -> None:
    """After editing app code, the dependency steps are CACHED and only the source is copied again."""
    first = stack.run("inv", "docker-build", "--target", "test")
    assert first.returncode == 0, first.stderr[-2000:]
    source = stack.root / "app/src/demo/__init__.py"
    source.write_text(source.read_text() + f"\n# edited by {stack.name}\n")
    second = stack.run("inv", "docker-build", "--target", "test")
    assert second.returncode == 0, second.stderr[-2000:]
    assert step_state(second.stderr, DEPS_STEP, "development") == "CACHED"
    assert step_state(second.stderr, "COPY src ./src\n", "development") == "RUN"


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_empty_build_cache_reuses_layers_from_the_registry(
    stack: Stack, registry: str, builder: str
) -> None:
    """CI pushes inline cache; a machine with no build cache at all then builds from it.

    This empties the engine's build cache (`docker builder prune --all`), as a
    fresh CI machine has none: later builds start cold.
    """
    ref = f"{registry}/{stack.name}-{builder}-cache"
    cached = f"{ref}:{stack.name}-test"
    env = {"SHIPYARD_CACHE_REF": ref, "SHIPYARD_BUILDER": builder}
    pushed = stack.run("inv", "docker-build", "--target", "test", "--push-cache", env=env)
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    assert f"docker push {cached}" in pushed.stdout
    if builder == "buildx":  # the docker driver cannot export a cache: said once, not failed
        assert pushed.stderr.count("driver cannot export a build cache") == 1

    docker("rmi", "--force", f"{stack.name}:test", cached)
    # An engine that built much before (other projects' images) takes minutes to empty.
    docker("builder", "prune", "--all", "--force", timeout=900)

    fresh = stack.run("inv", "docker-build", "--target", "test", env=env)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert f"importing cache manifest from {cached}" in fresh.stderr
    assert step_state(fresh.stderr, DEPS_STEP, "development") == "CACHED"
    assert step_state(fresh.stderr, "COPY tests ./tests\n", "test") == "CACHED"
