from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.env.envfiles import parse_env_file
from shipyard.stack import dockerignore, lintrules
from shipyard.stack.lintrules import (
    compose_problems,
    compose_secret_problems,
    dockerfile_problems,
    template_problems,
)


def test_compose_rules_health_checks_and_conditions() -> None:
    """Services need health checks; dependencies need conditions; jobs and profiles are exempt."""
    model = {
        "services": {
            "db": {"healthcheck": {"test": ["CMD", "true"]}},
            "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
            "api": {
                "healthcheck": {"test": ["CMD", "true"]},
                "depends_on": {
                    "db": {"condition": "service_started"},
                    "migrate": {"condition": "service_completed_successfully"},
                },
            },
            "worker": {"healthcheck": {"disable": True}},
            "tests": {"profiles": ["tests"]},
        }
    }
    assert compose_problems(model, "dev") == [
        "dev: 'api' depends on 'db' without 'condition: service_healthy' "
        "(or service_completed_successfully for a job)",
        "dev: service 'worker' has no health check",
    ]


def test_compose_secret_rules(tmp_path: Path) -> None:
    """Literal secrets and secret variables without `:?` are found; safe forms pass."""
    path = tmp_path / "docker-compose.yml"
    path.write_text(
        "services:\n"
        "  db:\n"
        "    environment:\n"
        "      POSTGRES_PASSWORD: hunter2\n"
        "      POSTGRES_USER: ${POSTGRES_USER:?set it}\n"
        "      DSN_PASS: ${DB_PASS}\n"
        "  api:\n"
        "    environment:\n"
        "      - API_TOKEN=${API_TOKEN:-dev}\n"
        "      - STRIPE_KEY=${STRIPE_KEY:?set it}\n"
        "      - DEBUG=1\n"
        # About a secret, not one (init leaves them out of its secrets too).
        "      - JWT_TOKEN_PREFIX=${JWT_TOKEN_PREFIX}\n"
        "      - ACCESS_TOKEN_EXPIRE_MINUTES=${ACCESS_TOKEN_EXPIRE_MINUTES:-30}\n"
        "      - POSTGRES_PASSWORD_FILE=${POSTGRES_PASSWORD_FILE:-/run/secrets/pw}\n"
    )
    assert compose_secret_problems(path, frozenset({"DB_PASS"})) == [
        f"{path}: api.environment.API_TOKEN reads $API_TOKEN without ':?': "
        "a missing value would start the stack with an empty secret",
        f"{path}: db.environment.POSTGRES_PASSWORD is a literal secret: "
        "use ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in env/.env.<env>}",
        f"{path}: db.environment.DSN_PASS reads $DB_PASS without ':?': "
        "a missing value would start the stack with an empty secret",
    ]


def test_repository_compose_files_are_clean() -> None:
    """The compose files of this repository pass the secret rules."""
    root = Path(__file__).resolve().parents[3]
    secrets = parse_env_file(root / "env/.env.example").secrets
    assert secrets == {"POSTGRES_PASSWORD"}
    for path in sorted((root / "compose").glob("*.yml")):
        assert compose_secret_problems(path, secrets) == [], path


def test_dockerfile_secret_args(tmp_path: Path) -> None:
    """ARG/ENV with secret names are named with their line; ordinary ones pass."""
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\nARG PYTHON_VERSION\nARG NPM_TOKEN\nENV API_KEY=abc\nENV PATH=/x\n")
    assert [
        p.split(": ", 1)[0] + ": " + p.split(": ", 1)[1][:18] for p in dockerfile_problems(path)
    ] == [
        f"{path}:3: ARG NPM_TOKEN look",
        f"{path}:4: ENV API_KEY looks ",
    ]


def test_template_drift(tmp_path: Path) -> None:
    """A template that lost or gained keys against the contract."""
    contract = tmp_path / ".env.example"
    template = tmp_path / ".env.prod.example"
    contract.write_text("A=1\nB=2\n")
    template.write_text("A=1\nC=3\n")
    assert template_problems(parse_env_file(contract), parse_env_file(template)) == [
        f"{template}: B is missing (the contract has it)",
        f"{template}:2: C is not in the contract",
    ]


def test_a_context_that_sends_env_files_is_flagged(tmp_path: Path) -> None:
    """env/ inside the context and not in .dockerignore: named with the line to add."""
    (tmp_path / "env").mkdir()
    assert lintrules.context_problem(tmp_path, tmp_path / "env") == (
        f"{tmp_path}: the build context sends env/.env.dev (and every env file) to the engine: "
        f"add 'env/' to {tmp_path}/.dockerignore"
    )
    (tmp_path / ".dockerignore").write_text(".git\nenv/\n")
    assert lintrules.context_problem(tmp_path, tmp_path / "env") is None
    (tmp_path / ".dockerignore").write_text("env/\n!env/.env.dev\n")  # re-included: flagged again
    assert lintrules.context_problem(tmp_path, tmp_path / "env") is not None
    assert lintrules.context_problem(tmp_path / "app", tmp_path / "env") is None  # outside


def test_a_dockerfiles_own_ignore_file_wins_over_the_contexts(tmp_path: Path) -> None:
    """BuildKit reads docker/Dockerfile.dockerignore in place of .dockerignore: so does lint."""
    (tmp_path / "env").mkdir()
    dockerfile = tmp_path / "docker/Dockerfile"
    dockerfile.parent.mkdir()
    (tmp_path / ".dockerignore").write_text("env/\n")
    assert lintrules.context_problem(tmp_path, tmp_path / "env", dockerfile) is None
    (tmp_path / "docker/Dockerfile.dockerignore").write_text(".git\n")
    assert lintrules.context_problem(tmp_path, tmp_path / "env", dockerfile) == (
        f"{tmp_path}: the build context sends env/.env.dev (and every env file) to the engine: "
        f"add 'env/' to {tmp_path}/docker/Dockerfile.dockerignore"
    )
    assert lintrules.context_problem(tmp_path, tmp_path / "env") is None  # other images


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        ("env/", "env/.env.dev", True),
        ("**/__pycache__", "a/b/__pycache__/x.pyc", True),
        ("*.md\n!README.md", "README.md", False),
        ("/results", "results/junit.xml", True),
        ("docs/*.txt", "docs/sub/a.txt", False),
        (".env.*", ".env.prod", True),
    ],
)
def test_dockerignore_patterns(tmp_path: Path, patterns: str, path: str, out: bool) -> None:
    """Docker's rules: segments, **, folders cover what is below, `!` re-includes, last wins."""
    (tmp_path / ".dockerignore").write_text(patterns + "\n")
    assert dockerignore.excluded(path, dockerignore.read(tmp_path)) is out
