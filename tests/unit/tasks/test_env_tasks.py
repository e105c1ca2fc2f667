"""The env tasks against invoke's MockContext and real files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from invoke.context import MockContext
from invoke.exceptions import Exit
from invoke.runners import Result

from shipyard.env.envfiles import read_env_file
from shipyard.tasks import env, images

CONTRACT = "USER=demo\n# @secret\nPASSWORD=change-me\n"
GIT_IGNORED = "git -C . check-ignore --quiet env/.env.{env}"
DEV = (
    "docker compose --project-name demo-app-dev --file compose/docker-compose.yml "
    "--file compose/docker-compose.dev.yml --env-file env/.env.dev"
)


@pytest.fixture
def contract(project: Path) -> Path:
    (project / "env/.env.example").write_text(CONTRACT)
    return project


def test_env_init_generates_secrets_0600(
    contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new developer's env file: the contract with a fresh secret, owner-only."""
    env.env_init(MockContext())
    target = contract / "env/.env.dev"
    values = read_env_file(target)
    assert values["USER"].value == "demo"
    assert values["PASSWORD"].value not in {None, "", "change-me"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert (
        capsys.readouterr().out
        == f"created {target} (mode 0600): review it, secrets are freshly generated\n"
    )


def test_env_init_never_overwrites_without_force(
    contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing file is kept; --force replaces it."""
    target = contract / "env/.env.dev"
    target.write_text("USER=mine\nPASSWORD=mine-too\n")
    with pytest.raises(Exit) as caught:
        env.env_init(MockContext())
    assert caught.value.code == 1
    assert capsys.readouterr().err == (
        "ERROR: env/.env.dev exists already\n"
        "TIP: keep it, or run 'inv env-init --env dev --force' to start over (its values are lost)\n"
    )
    assert target.read_text() == "USER=mine\nPASSWORD=mine-too\n"
    c = MockContext(run=Result(""), repeat=True)  # no data volume: nothing to warn about
    env.env_init(c, force=True)
    assert read_env_file(target)["USER"].value == "demo"
    assert capsys.readouterr().err == ""


def test_env_init_prod_uses_its_own_template(contract: Path) -> None:
    """Prod is made from .env.prod.example, whose @secret placeholders get real values."""
    (contract / "env/.env.prod.example").write_text("USER=prod\n# @secret\nPASSWORD=<generated>\n")
    env.env_init(MockContext(), env="prod")
    values = read_env_file(contract / "env/.env.prod")
    assert values["USER"].value == "prod"
    assert "<" not in (values["PASSWORD"].value or "<")


def test_env_check_reports_every_problem(
    contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Problems of all environments at once, then exit 1; clean ones say ok."""
    (contract / "env/.env.ci").write_text("USER=demo\nPASSWORD=change-me\n")
    (contract / "env/.env.dev").write_text("USER=demo\nPASSWORD=local-value\nUSR=x\n")
    c = MockContext(run={GIT_IGNORED.format(env="dev"): Result(exited=0)})
    with pytest.raises(Exit) as caught:
        env.env_check(c)
    assert caught.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "ERROR: 2 problem(s) in the env files",
        "    env/.env.ci:2: secret PASSWORD is the example's own value: set a real value "
        "('inv env-init --env ci --force' generates them)",
        "    env/.env.dev:3: USR is not in the contract: did you mean USER?",
        "TIP: fix each line above, then run 'inv env-check' again",
    ]


def test_env_check_json_for_scripts(contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: every environment with its problems (rule, where, message) on stdout; exit 1."""
    (contract / "env/.env.ci").write_text("USER=demo\nPASSWORD=change-me\n")
    (contract / "env/.env.dev").write_text("USER=demo\nPASSWORD=local-value\n")
    c = MockContext(run={GIT_IGNORED.format(env="dev"): Result(exited=0)})
    with pytest.raises(Exit):
        env.env_check(c, json=True)
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "ci": [
            {
                "rule": "placeholder",
                "where": "env/.env.ci:2",
                "message": "secret PASSWORD is the example's own value: set a real value "
                "('inv env-init --env ci --force' generates them)",
            }
        ],
        "dev": [],
    }
    assert err.splitlines() == [
        "ERROR: 1 problem(s) in the env files",
        "TIP: fix each problem listed, then run 'inv env-check' again",
    ]


def test_env_check_one_clean_environment(
    contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--env checks one; a git-ignored file with secrets is fine."""
    (contract / "env/.env.dev").write_text("USER=demo\nPASSWORD=local-value\n")
    c = MockContext(run={GIT_IGNORED.format(env="dev"): Result(exited=0)})
    env.env_check(c, env="dev")
    assert capsys.readouterr().out == "dev: ok\n"


def test_env_explain_json(contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Values from Compose's own model, sources from the files, secrets redacted, JSON for scripts."""
    (contract / "compose/docker-compose.yml").write_text(
        "services:\n  api:\n    image: demo-app:development\n    environment:\n"
        "      USER: ${USER:?x}\n      PASSWORD: ${PASSWORD:?x}\n"
    )
    (contract / "env/.env.dev").write_text("USER=demo\nPASSWORD=local-value-123\n")
    model = {
        "services": {
            "api": {
                "image": "demo-app:development",
                "environment": {"USER": "demo", "PASSWORD": "local-value-123"},
            }
        }
    }
    c = MockContext(
        run={
            f"{DEV} --profile '*' config --format json": Result(json.dumps(model)),
            "docker image inspect --format '{{json .Config.Env}}' demo-app:development": Result(
                exited=1
            ),
        }
    )
    env.env_explain(c, key="PASSWORD", json=True)
    out = capsys.readouterr().out
    assert "local-value-123" not in out
    assert json.loads(out)["variables"] == [
        {
            "service": "api",
            "key": "PASSWORD",
            "value": "<redacted, 15 chars>",
            "secret": True,
            "source": "environment in compose/docker-compose.yml <- PASSWORD from env/.env.dev:2",
            "chain": [
                {"source": "the shell", "value": None, "wins": False},
                {"source": "env/.env.dev:2", "value": "<redacted, 15 chars>", "wins": True},
            ],
        }
    ]


def test_env_explain_unknown_key(contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key no service sees is an error with a tip."""
    (contract / "env/.env.dev").write_text("USER=demo\nPASSWORD=local-value-123\n")
    c = MockContext(run={f"{DEV} --profile '*' config --format json": Result('{"services": {}}')})
    with pytest.raises(Exit):
        env.env_explain(c, key="NOPE")
    assert capsys.readouterr().err == (
        "ERROR: no service of the dev stack sees NOPE\nTIP: run 'inv env-explain --env dev' to list every variable\n"
    )


def test_scan_needs_the_image(contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Scanning an image that is not there says so and how to build it."""
    c = MockContext(run={"docker image inspect ghost:1": Result(exited=1)})
    with pytest.raises(Exit):
        images.image_scan_secrets(c, image=["ghost:1"])
    assert capsys.readouterr().err == (
        "ERROR: image ghost:1 does not exist\nTIP: build it first: 'inv docker-build'\n"
    )


def test_scan_refuses_an_unset_variable(contract: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--secret-env of an unset variable is a mistake, not an empty search."""
    with pytest.raises(Exit):
        images.image_scan_secrets(MockContext(), image=["x:1"], secret_env=["SHIPYARD_NOT_SET_X"])
    assert (
        "ERROR: $SHIPYARD_NOT_SET_X is unset or shorter than 8 characters"
        in capsys.readouterr().err
    )
