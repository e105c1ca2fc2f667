"""init's templates: the pinned bytes of each fixture project, every branch rendered, YAML that loads."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
import yaml

from shipyard.adopt import plan, render

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/adopt"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = "SHIPYARD_UPDATE_GOLDEN"  # =1 rewrites the pinned files after a deliberate change


def generated(root: Path) -> str:
    """Return every file init writes for ``root``, each under a ``==> path <==`` line."""
    adoption, _, _ = plan.choose(root)
    files = plan.rendered(adoption)
    files[".gitignore"] = render.merged_lines(None, render.GITIGNORE)
    files[".dockerignore"] = render.merged_lines(None, render.DOCKERIGNORE)
    return "".join(f"==> {path} <==\n{text}" for path, text in sorted(files.items()))


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_each_fixture_gets_the_pinned_bytes(fixture: str) -> None:
    """The files init renders for each fixture project are byte for byte those in golden/."""
    pinned = GOLDEN / f"{fixture}.txt"
    text = generated(FIXTURES / fixture)
    if os.environ.get(UPDATE) == "1":
        pinned.write_text(text)
    assert text == pinned.read_text(), f"deliberate? rerun with {UPDATE}=1 and review the diff"


def variants() -> list[render.Adoption]:
    """Return adoptions that between them take every branch of every template."""
    out = []
    kinds = itertools.product(
        ["uv", "poetry", "pip"],
        ["fastapi", "flask", "django", "none"],
        [(), ("postgres",), ("redis",), ("postgres", "redis")],
    )
    for n, (toolchain, framework, services) in enumerate(kinds):
        on = [bool(n >> bit & 1) for bit in range(6)]
        out.append(
            render.Adoption(
                project=f"p{n}",
                settings_file="pyproject.toml",
                python="3.12",
                toolchain=toolchain,
                install=("requirements.txt",) if toolchain == "pip" and on[0] else (),
                install_project=on[1] or toolchain != "pip",
                scm_version=on[2],
                requirement_files=("requirements.txt", "requirements/test.txt")
                if toolchain == "pip"
                else (),
                test_dependencies=("requirements/test.txt", "extra:test")
                if toolchain == "pip"
                else ("group:dev", "extra:test"),
                extra_packages=("uvicorn",) if on[3] else (),
                extra_test_packages=("pytest",) if on[4] else (),
                framework=framework,
                app="app:create_app()" if on[5] else "app:app",
                port=8000,
                services=services,
                prepare="alembic upgrade head" if on[0] else "",
                test_command="pytest -q",
                build_packages=("gcc",) if on[2] else (),
                runtime_packages=("libpq5",) if on[3] else (),
                python_path=("src",) if on[4] else (),
                env={"SECRET_KEY": "x", "GREETING": "hi"} if on[1] else {},
                secrets=("SECRET_KEY",),
                optional_env=("SENTRY_DSN",) if on[5] else (),
                environment={"REDIS_URL": "redis://redis:6379/0"} if "redis" in services else {},
                health_path="/health" if on[5] else "",
            )
        )
    return out


@pytest.mark.parametrize("adoption", variants(), ids=lambda a: a.project)
def test_every_variant_renders_the_same_bytes_twice_and_its_yaml_loads(
    adoption: render.Adoption,
) -> None:
    """No template needs a value it was not given; compose files load with the services expected."""
    files = plan.rendered(adoption)
    assert plan.rendered(adoption) == files
    base = yaml.safe_load(files["compose/docker-compose.yml"])
    expected = {"tests"} | {render.BACKING[s] for s in adoption.services}
    expected |= {"app"} if adoption.serves else set()
    expected |= {"migrate"} if adoption.prepare else set()
    assert set(base["services"]) == expected
    for env in ("dev", "test", "ci", "prod"):
        overlay = yaml.safe_load(files[f"compose/docker-compose.{env}.yml"])
        assert set(overlay["services"]) == expected - {"tests"}
    stages = [
        line.split()[-1]
        for line in files["docker/Dockerfile"].splitlines()
        if line.startswith("FROM")
    ]
    uv = ["uv"] if adoption.toolchain == "uv" else []
    assert stages == [*uv, "tini", "base", "builder", "development", "test", "production"]
