"""No secret lands in an image, and the scanner proves it can see one that does."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.realstack import Stack

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def ca_bundle() -> Path:
    """Return the CA bundle this machine's builds need (a proxy's CA), or the system one."""
    for variable in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        if os.environ.get(variable) and Path(os.environ[variable]).is_file():
            return Path(os.environ[variable])
    return SYSTEM_BUNDLE


@pytest.fixture(scope="module")
def canaries() -> dict[str, str]:
    return {
        "CANARY_CA": f"shipyard-canary-ca-{uuid.uuid4().hex}",
        "UV_INDEX_PRIVATE_PASSWORD": f"shipyard-canary-pw-{uuid.uuid4().hex}",
    }


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_every_image_built_with_canary_secrets_holds_none(
    stack: Stack, canaries: dict[str, str], builder: str
) -> None:
    """Canaries passed the supported way (BuildKit secrets), every step re-run: zero hits."""
    bundle = stack.root / "ca-with-canary.pem"
    # PEM allows text outside the certificates, so TLS still works with the canary inside.
    bundle.write_text(ca_bundle().read_text() + f"\n# {canaries['CANARY_CA']}\n")
    env = {**canaries, "SHIPYARD_CA_BUNDLE": str(bundle), "SHIPYARD_BUILDER": builder}
    dry = stack.run("inv", "--dry", "docker-build", env=env)  # shows the secret flags
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "id=uv_index_password,env=UV_INDEX_PRIVATE_PASSWORD" in dry.stdout + dry.stderr
    # Relative on docker build's command line; absolute in a bake definition (bake runs
    # from the definition's folder).
    assert re.search(r"id=ca,src=\S*\bca-with-canary\.pem", dry.stdout + dry.stderr)
    built = stack.run("inv", "docker-build", "--no-cache", env=env)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    scan = stack.run(
        "inv",
        "image-scan-secrets",
        "--secret-env",
        "CANARY_CA",
        "--secret-env",
        "UV_INDEX_PRIVATE_PASSWORD",
        env=env,
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
    assert scan.stdout.strip().endswith("in 4 image(s)")  # dev, test, production, proxy
    assert "no secret found" in scan.stdout


def test_scanner_finds_a_build_arg_leak(
    stack: Stack, canaries: dict[str, str], tmp_path: Path
) -> None:
    """The control: a secret passed as ARG is found in history, config and a layer file."""
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.13-slim\nARG TOKEN\nENV LEAKED=${TOKEN}\nRUN echo "$TOKEN" > /leaked.txt\n'
    )
    image = f"{stack.name}:leaky"
    built = subprocess.run(
        [
            "docker",
            "build",
            "--build-arg",
            f"TOKEN={canaries['CANARY_CA']}",
            "--tag",
            image,
            str(tmp_path),
        ],
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    scan = stack.run(
        "inv", "image-scan-secrets", "--image", image, "--secret-env", "CANARY_CA", env=canaries
    )
    assert scan.returncode == 1
    found = [line.strip() for line in scan.stderr.splitlines() if "$CANARY_CA found in" in line]
    assert f"{image}: $CANARY_CA found in docker history" in found
    assert f"{image}: $CANARY_CA found in docker inspect" in found
    assert any(line.endswith(": leaked.txt") for line in found), found
    assert any(".json" in line and "docker save" in line for line in found), found
    assert (
        canaries["CANARY_CA"] not in scan.stdout + scan.stderr
    )  # the report never shows the value
