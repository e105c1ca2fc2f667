"""init's templates: the pinned bytes of each fixture project, every branch rendered, YAML that loads."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
import yaml

from shipyard.adopt import plan, render
from shipyard.stack import images
from shipyard.stack.lintrules import compose_secret_problems
from tests.unit.adopt.variants import variants

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures/adopt"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = "SHIPYARD_UPDATE_GOLDEN"  # =1 rewrites the pinned files after a deliberate change


def generated(root: Path) -> str:
    """Return every file init writes for ``root``, each under a ``==> path <==`` line."""
    steps, _, _ = plan.plan(root)
    return "".join(
        f"==> {s.path} <==\n{s.text}"
        for s in sorted(steps, key=lambda s: s.path)
        if s.state != "kept"
    )


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_each_fixture_gets_the_pinned_bytes(fixture: str) -> None:
    """The files init renders for each fixture project are byte for byte those in golden/."""
    pinned = GOLDEN / f"{fixture}.txt"
    text = generated(FIXTURES / fixture)
    if os.environ.get(UPDATE) == "1":
        pinned.write_text(text)
    assert text == pinned.read_text(), f"deliberate? rerun with {UPDATE}=1 and review the diff"


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
    expected |= set(adoption.workers)
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
    assert stages == [*uv, "tini", "base", "deps", "builder", "development", "test", "production"]


INSTALLS = re.compile(r"pip install|uv sync|poetry export|uv pip install")
OWN_INSTALL = re.compile(r" -e |uv sync --frozen|--no-deps \.| \.( |$)")


@pytest.mark.parametrize("adoption", variants(), ids=lambda a: a.project)
def test_no_dependency_installs_after_the_source_in_the_test_lineage(
    adoption: render.Adoption,
) -> None:
    """deps, development, test: after `COPY . .`, only the project's own install runs.

    A source edit then rebuilds the source layer and that install, never a
    dependency from the network (the builder stage, production's, may differ).
    """
    text = render.dockerfile(adoption)
    lines = images.instructions(text)
    stage, copied, late = "", False, []
    holds_source: dict[str, bool] = {}  # a stage FROM one that copied the source holds it too
    for line in lines:
        if line.startswith("FROM "):
            holds_source[stage] = copied
            stage = line.split()[-1]
            copied = holds_source.get(line.split()[1], False)
            continue
        if stage not in {"deps", "development", "test"}:
            continue
        if line.startswith("COPY") and line.split()[-2:] == [".", "."]:
            copied = True
        elif copied and INSTALLS.search(line) and not OWN_INSTALL.search(line):
            late.append(f"{stage}: {line[:120]}")
    assert late == []


@pytest.mark.parametrize("adoption", variants(), ids=lambda a: a.project)
def test_every_variants_compose_files_pass_the_secret_rules_of_lint(
    adoption: render.Adoption, tmp_path: Path
) -> None:
    """`nox -s lint` on what init wrote finds no secret that could start empty or in git."""
    for name, text in plan.rendered(adoption).items():
        if name.startswith("compose/") and name.endswith(".yml"):
            path = tmp_path / name.replace("/", "-")
            path.write_text(text)
            assert compose_secret_problems(path, frozenset(adoption.secrets)) == [], name


@pytest.mark.parametrize(
    ("python", "pins"),
    [
        ("3.9", "poetry==2.2.1 poetry-plugin-export==1.9.0"),
        ("3.10", "poetry==2.5.1 poetry-plugin-export==1.10.1"),
        ("3.13", "poetry==2.5.1 poetry-plugin-export==1.10.1"),
    ],
)
def test_poetry_is_one_that_runs_on_the_images_python(python: str, pins: str) -> None:
    """Poetry 2.3+ needs Python 3.10: a 3.9 image gets the last Poetry that runs there."""
    adoption = next(a for a in variants() if a.toolchain == "poetry")
    text = render.dockerfile(dataclasses.replace(adoption, python=python))
    assert f"--disable-pip-version-check {pins}\n" in text
