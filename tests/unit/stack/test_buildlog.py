"""Reading why a build failed from BuildKit's log, as buildx and the classic client print it."""

from __future__ import annotations

import pytest

from shipyard.stack.buildlog import Failure, explain, read

# The shapes seen on Docker Engine 20.10: buildx bake (docker driver), then
# DOCKER_BUILDKIT=1 docker build (no output lines inside its ------ block).
BAKE_RUN = """\
#5 [base 1/2] FROM docker.io/library/python:3.12-slim
#5 CACHED

#6 [base 2/2] RUN echo hello
#6 0.208 hello
#6 DONE 0.3s

#7 [test 4/9] RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev
#7 0.301 Resolved 12 packages in 3ms
#7 0.302 error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.
#7 ERROR: executor failed running [/bin/sh -c uv sync --locked --no-dev]: exit code: 2
------
 > [test 4/9] RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev:
0.302 error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.
------
ERROR: failed to solve: executor failed running [/bin/sh -c uv sync --locked --no-dev]: exit code: 2
"""
CLASSIC_RUN = """\
#6 [test 4/9] RUN pip install -r requirements.txt
#6 sha256:b5d7670b11f7799e68a723f1cb74d3983f17ce78b2c7fae0056f06577b41d1d4
#6 1.180 ERROR: Could not find a version that satisfies the requirement nosuchpkg==9 (from versions: none)
#6 1.181 ERROR: No matching distribution found for nosuchpkg==9
#6 ERROR: executor failed running [/bin/sh -c pip install -r requirements.txt]: exit code: 1
------
 > [test 4/9] RUN pip install -r requirements.txt:
------
executor failed running [/bin/sh -c pip install -r requirements.txt]: exit code: 1
"""
PARSE = (
    "#3 [internal] load .dockerignore\n#3 DONE 0.0s\n"
    "ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend "
    "dockerfile.v0: failed to create LLB definition: dockerfile parse error line 2: unknown "
    "instruction: RUNN\n"
)
BASE = (
    "#4 [internal] load metadata for docker.io/nosuch/image:1\n"
    '#4 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/nosuch/image/'
    'manifests/1": dial tcp: lookup registry-1.docker.io: no such host\n'
    "------\n > [internal] load metadata for docker.io/nosuch/image:1:\n------\n"
)


def test_the_failing_step_its_lines_and_exit_code_are_read() -> None:
    assert read(BAKE_RUN) == Failure(
        "test 4/9",
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev",
        (
            "Resolved 12 packages in 3ms",
            "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.",
        ),
        "executor failed running [/bin/sh -c uv sync --locked --no-dev]: exit code: 2",
    )


def test_a_stale_lock_names_the_step_and_uv_lock() -> None:
    error = explain(BAKE_RUN, "demo:test", "docker/Dockerfile")
    assert error is not None
    assert error.render() == (
        "ERROR: building demo:test failed at [test 4/9] RUN uv sync --locked --no-dev (exit 2)\n"
        "    Resolved 12 packages in 3ms\n"
        "    error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n"
        "TIP: uv.lock does not match pyproject.toml: run `uv lock`, commit uv.lock, build again"
    )


def test_the_classic_builders_log_reads_the_same() -> None:
    error = explain(CLASSIC_RUN, "demo:test")
    assert error is not None
    assert error.message == (
        "building demo:test failed at [test 4/9] RUN pip install -r requirements.txt (exit 1)"
    )
    assert error.details.endswith("ERROR: No matching distribution found for nosuchpkg==9")
    assert error.tip is not None
    assert error.tip.startswith("no release of a requirement fits this image's Python")


def test_a_dockerfile_typo_names_the_file_and_line() -> None:
    error = explain(PARSE, "demo:test", "docker/Dockerfile")
    assert error is not None
    assert error.message == (
        "building demo:test failed: docker/Dockerfile, line 2: unknown instruction: RUNN"
    )
    assert error.details == ""


def test_a_base_image_that_cannot_be_pulled_is_named() -> None:
    error = explain(BASE, "demo:test")
    assert error is not None
    assert error.message == (
        "building demo:test failed: its base image docker.io/nosuch/image:1 could not be loaded"
    )
    assert error.tip is not None
    assert error.tip.startswith("the base image is not on this engine and could not be pulled")


@pytest.mark.parametrize(
    ("line", "tip"),
    [
        ("fatal error: Python.h: No such file or directory", "needs system libraries"),
        ("Error: pg_config executable not found.", "needs system libraries"),
        ("SSL: CERTIFICATE_VERIFY_FAILED", "could not reach the network"),
        ("Because nosuch was not found in the package registry", "no release of a requirement"),
        ("E: Package 'netcat' has no installation candidate", "netcat is netcat-openbsd"),
        ("E: Unable to locate package libssl1.1", "Debian release has no package"),
        ("Segmentation fault", "the step's last lines are above"),
    ],
)
def test_known_causes_get_their_fix(line: str, tip: str) -> None:
    log = f"#9 [base 3/5] RUN make\n#9 2.000 {line}\n#9 ERROR: exit code: 1\n"
    error = explain(log, "demo:dev")
    assert error is not None
    assert error.tip is not None
    assert tip in error.tip


def test_a_log_with_no_failed_step_is_not_explained() -> None:
    assert read("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.") is None
    assert explain("", "demo:dev") is None
