"""init's plan: settings written once and read back, conflicts refused, nothing written dry."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from shipyard.adopt import findings, keys, plan, render, variables
from shipyard.core.config import load_stack
from shipyard.core.errors import ConfigError
from shipyard.env import envcheck, envfiles
from tests.unit.conftest import write_tree

PASSWORD = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in env/.env.<env>}"
FLASK = {
    "requirements.txt": "flask==3.1.3\npsycopg2-binary\n",
    "requirements-dev.txt": "-r requirements.txt\npytest\n",
    "web/__init__.py": (
        "import os\n"
        "def create_app():\n"
        "    os.environ['SECRET_KEY']\n"
        "    os.environ['DATABASE_URL']\n"
        "    os.getenv('GREETING', 'hi')\n"
    ),
}


def project(root: Path, files: dict[str, str] = FLASK) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_variable_moved_to_optional_env_leaves_the_contract(tmp_path: Path) -> None:
    """Deleting a finding is undone by the next init; moving it to optional-env is not."""
    root = project(tmp_path)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    settings = root / "shipyard.toml"
    text = settings.read_text().replace('GREETING = "hi"\n', "")
    settings.write_text(text.replace("optional-env = []", 'optional-env = ["GREETING"]'))
    plan.init(root, dry=False, force=True, say=lambda _: None)
    data = tomllib.loads(settings.read_text())["init"]
    assert (data["env"], data["optional-env"]) == ({"SECRET_KEY": ""}, ["GREETING"])
    assert "\nGREETING=" not in (root / "env/.env.example").read_text()


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """--dry-run prints the plan and leaves every file as it was."""
    root = project(tmp_path)
    before = tree(root)
    lines: list[str] = []
    steps = plan.init(root, dry=True, force=False, say=lines.append)
    assert tree(root) == before
    assert {s.state for s in steps} == {"new"}
    assert lines[-1] == "dry run: 15 file(s) would change; nothing was written"


def test_settings_are_written_once_and_read_back(tmp_path: Path) -> None:
    """Without pyproject.toml the settings go to shipyard.toml; the second run changes nothing."""
    root = project(tmp_path)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    settings = tomllib.loads((root / "shipyard.toml").read_text())
    assert settings["project"] == tmp_path.name.lower()
    assert settings["init"]["app"] == "web:create_app()"
    assert settings["init"]["extra-packages"] == ["gunicorn"]
    assert settings["init"]["environment"] == {
        "DATABASE_URL": f"postgresql://${{POSTGRES_USER}}:{PASSWORD}@db:5432/${{POSTGRES_DB}}"
    }
    assert settings["init"]["env"] == {"GREETING": "hi", "SECRET_KEY": ""}
    adopted = tree(root)
    lines: list[str] = []
    steps = plan.init(root, dry=False, force=False, say=lines.append)
    assert {s.state for s in steps} == {"same"}
    assert tree(root) == adopted
    assert lines[-1] == "nothing to change: every file is as init would write it"
    assert load_stack(root).sources["project"] == "shipyard.toml"


def test_a_changed_setting_regenerates_with_force(tmp_path: Path) -> None:
    """Edit the settings, init refuses (files differ), --force rewrites exactly those."""
    root = project(tmp_path)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    settings = root / "shipyard.toml"
    settings.write_text(settings.read_text().replace("port = 8000", "port = 9000"))
    with pytest.raises(
        ConfigError,
        match=r"\(a settings change, or an edit of the file\): docker/Dockerfile, compose/docker-compose.yml",
    ):
        plan.init(root, dry=False, force=False, say=lambda _: None)
    steps = plan.init(root, dry=False, force=True, say=lambda _: None)
    assert "EXPOSE 9000" in (root / "docker/Dockerfile").read_text()
    assert sorted(s.path for s in steps if s.state == "differs") == [
        "compose/docker-compose.dev.yml",
        "compose/docker-compose.prod.yml",
        "compose/docker-compose.yml",
        "docker/Dockerfile",
        "env/.env.ci",
        "env/.env.example",
    ]


def test_skip_keeps_the_projects_own_file(tmp_path: Path) -> None:
    """A file under skip is never written: the project's own Makefile stays."""
    root = project(tmp_path, {**FLASK, "Makefile": "all:\n\techo mine\n"})
    (root / "shipyard.toml").write_text('[init]\nskip = ["Makefile"]\n')
    plan.init(root, dry=False, force=False, say=lambda _: None)
    assert (root / "Makefile").read_text() == "all:\n\techo mine\n"


OWN = {
    "Makefile": "test:\n\tpytest -q\n",
    "tasks.py": "def send_welcome(address):\n    return address\n",
    "noxfile.py": "import nox\n",
    "docker/Dockerfile": "FROM python:3.12-slim\n",
    ".dockerignore": "tests/\n",
}


def test_the_projects_own_files_are_kept_and_shipyards_go_beside(tmp_path: Path) -> None:
    """Its Makefile, tasks.py, noxfile.py and Dockerfile stay byte for byte, even with --force."""
    root = project(tmp_path, {**FLASK, **OWN})
    lines: list[str] = []
    steps = plan.init(root, dry=False, force=False, say=lines.append)
    assert {s.path: s.note for s in steps if s.state == "kept"} == {
        "Makefile": "shipyard's is shipyard.mk: 'make -f shipyard.mk dev-up', or 'include shipyard.mk' in it",
        "tasks.py": "shipyard's is shipyard_tasks.py: 'inv -c shipyard_tasks dev-up'",
        "noxfile.py": "shipyard's is shipyard_noxfile.py: 'nox -f shipyard_noxfile.py -s docker-test'",
        "docker/Dockerfile": "shipyard's is docker/shipyard.Dockerfile: compose/ builds from it",
    }
    assert {name: (root / name).read_text() for name in OWN} == OWN
    assert "\tinv -c shipyard_tasks dev-up\n" in (root / "shipyard.mk").read_text()
    assert (root / "shipyard_tasks.py").read_text() == render.tasks_py()
    assert (
        "dockerfile: docker/shipyard.Dockerfile"
        in (root / "compose/docker-compose.yml").read_text()
    )
    rules = (root / "docker/shipyard.Dockerfile.dockerignore").read_text().splitlines()
    assert "env/" in rules
    assert "tests/" not in rules
    assert lines[-1].endswith(
        "then 'nox -f shipyard_noxfile.py -s docker-test' (the suite in its image) and "
        "'inv -c shipyard_tasks bootstrap' (a healthy dev stack)"
    )
    again = plan.init(root, dry=False, force=True, say=lambda _: None)
    assert {s.state for s in again} == {"same", "kept"}
    assert {name: (root / name).read_text() for name in OWN} == OWN


def test_a_hand_edited_generated_file_still_refuses(tmp_path: Path) -> None:
    """A file with init's header that was edited is init's own: refused, then --force replaces it."""
    root = project(tmp_path)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    makefile = root / "Makefile"
    generated = makefile.read_text()
    makefile.write_text(generated + "mine:\n\techo mine\n")
    with pytest.raises(ConfigError, match=r"1 generated file\(s\) differ .*: Makefile"):
        plan.init(root, dry=False, force=False, say=lambda _: None)
    plan.init(root, dry=False, force=True, say=lambda _: None)
    assert makefile.read_text() == generated


def test_settings_written_before_init_are_a_delta_and_the_rest_is_recorded(
    tmp_path: Path,
) -> None:
    """A table the user started overrides what it names; every other finding is written in."""
    root = project(tmp_path, {**FLASK, "pyproject.toml": '[project]\nname = "svc"\n'})
    mine = (
        '[tool.shipyard]\nproject = "svc"\n\n'
        '[tool.shipyard.init]\npython = "3.11"  # ours\n\n'
        '[tool.shipyard.init.env]\nGREETING = "hola"\n'
    )
    (root / "pyproject.toml").write_text('[project]\nname = "svc"\n\n' + mine)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    text = (root / "pyproject.toml").read_text()
    settings = tomllib.loads(text)["tool"]["shipyard"]["init"]
    assert settings["python"] == "3.11"
    assert settings["env"] == {"GREETING": "hola", "SECRET_KEY": ""}
    assert settings["toolchain"] == "pip"
    assert set(settings) == set(keys.INIT_KEYS)
    assert 'python = "3.11"  # ours\n' in text
    assert "GREETING=hola\n" in (root / "env/.env.example").read_text()
    before = tree(root)
    steps = plan.init(root, dry=False, force=False, say=lambda _: None)
    assert {s.state for s in steps} == {"same"}
    assert tree(root) == before


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("toolchain = 'pipenv'", r"toolchain = 'pipenv' is not one of uv, poetry, pip"),
        ("port = '80'", r"port must be a int"),
        ("timout = 3", r"unknown key\(s\) in \[init\] in shipyard.toml: timout"),
        ("services = ['mysql']", r"services: unknown mysql"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, table: str, message: str) -> None:
    """A wrong init setting is one clear error naming the key."""
    root = project(tmp_path)
    (root / "shipyard.toml").write_text(f"[init]\n{table}\n")
    with pytest.raises(ConfigError, match=message):
        plan.init(root, dry=True, force=False, say=lambda _: None)


def test_pyproject_gets_the_tables_appended(tmp_path: Path) -> None:
    """With pyproject.toml, [tool.shipyard] and [tool.shipyard.init] are appended, nothing else."""
    root = project(tmp_path, {**FLASK, "pyproject.toml": '[project]\nname = "svc"\n'})
    plan.init(root, dry=False, force=False, say=lambda _: None)
    text = (root / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "svc"\n\n# shipyard:')
    data = tomllib.loads(text)
    assert data["tool"]["shipyard"]["project"] == "svc"
    assert data["tool"]["shipyard"]["init"]["toolchain"] == "pip"
    assert not (root / "shipyard.toml").exists()


def read(names: list[str], *, optional: bool = False) -> list[variables.EnvRead]:
    """Return reads of ``names`` as the code would make them (at app.py:1)."""
    return [variables.EnvRead(n, None, "app.py:1", optional=optional) for n in names]


def test_service_environment_points_variables_at_the_services() -> None:
    """URLs, hosts, ports and credentials of Postgres and Redis, by the names the code reads."""
    names = [
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_USER",
        "DB_PASSWORD",
        "DB_NAME",
        "POSTGRES_DB",
        "CELERY_BROKER_URL",
        "REDIS_HOST",
        "LOG_LEVEL",
    ]
    deps = {"sqlalchemy": "x", "asyncpg": "x"}
    assert findings.service_environment(["postgres", "redis"], read(names), deps) == {
        "DATABASE_URL": f"postgresql+asyncpg://${{POSTGRES_USER}}:{PASSWORD}@db:5432/${{POSTGRES_DB}}",
        "DB_HOST": "db",
        "DB_PORT": "5432",
        "DB_USER": "${POSTGRES_USER}",
        "DB_PASSWORD": PASSWORD,
        "DB_NAME": "${POSTGRES_DB}",
        "POSTGRES_DB": "${POSTGRES_DB}",
        "CELERY_BROKER_URL": "redis://redis:6379/0",
        "REDIS_HOST": "redis",
    }
    # A test-only variable read optionally is how the suite means to run; required, it is wired.
    assert (
        findings.service_environment(["postgres"], read(["TEST_DATABASE_URL"], optional=True), deps)
        == {}
    )
    assert list(findings.service_environment(["postgres"], read(["TEST_DATABASE_URL"]), deps)) == [
        "TEST_DATABASE_URL"
    ]


def test_mongodb_and_elasticsearch_are_wired_and_said_untried(tmp_path: Path) -> None:
    """Written from their public images, their URLs wired, one line saying shipyard never ran them."""
    names = ["MONGODB_URL", "MONGO_HOST", "ELASTICSEARCH_URL", "ES_HOSTS"]
    assert findings.service_environment(["mongodb", "elasticsearch"], read(names), {}) == {
        "MONGODB_URL": "mongodb://mongo:27017",
        "MONGO_HOST": "mongo",
        "ELASTICSEARCH_URL": "http://elasticsearch:9200",
        "ES_HOSTS": "http://elasticsearch:9200",
    }
    root = project(
        tmp_path,
        {
            "requirements.txt": "flask==3.1.3\npymongo\nelasticsearch\n",
            "web/__init__.py": "import os\nfrom flask import Flask\napp = Flask('w')\n"
            "os.environ['MONGODB_URL']\nos.environ['ELASTICSEARCH_URL']\n",
        },
    )
    said: list[str] = []
    plan.init(root, dry=False, force=False, say=said.append)
    assert (
        "  note: shipyard's own tests have never run mongodb (mongo:8) or elasticsearch "
        "(elasticsearch:8.17.0): check the health check and URL of each on the first 'inv dev-up'"
    ) in said
    base = (root / "compose/docker-compose.yml").read_text()
    assert "image: mongo:8" in base
    assert "image: elasticsearch:8.17.0" in base
    assert 'MONGODB_URL: "mongodb://mongo:27017"' in base


def test_generated_env_files_pass_env_check(tmp_path: Path) -> None:
    """The contract marks secrets; CI's committed values are stable and pass the strict rules."""
    root = project(tmp_path)
    plan.init(root, dry=False, force=False, say=lambda _: None)
    example = envfiles.parse_env_file(root / "env/.env.example")
    assert example.secrets == frozenset({"POSTGRES_PASSWORD", "SECRET_KEY"})
    ci = (root / "env/.env.ci").read_text()
    assert render.throwaway(load_stack(root).project, "SECRET_KEY") in ci
    committed = envcheck.check_environment(load_stack(root), "ci", ignored=lambda _: False)
    assert committed == []


def test_optional_variables_are_documented_not_passed(tmp_path: Path) -> None:
    """`.get()` without a default: listed, commented in the contract, never an empty value."""
    files = {
        "requirements.txt": "flask\n",
        "web/__init__.py": (
            "import os\n"
            "def create_app():\n"
            "    os.environ.get('MAIL_USE_TLS') is not None\n"
            "    os.environ['PROJECT_NAME']\n"
        ),
    }
    root = project(tmp_path, files)
    lines: list[str] = []
    plan.init(root, dry=False, force=False, say=lines.append)
    settings = tomllib.loads((root / "shipyard.toml").read_text())["init"]
    assert settings["optional-env"] == ["MAIL_USE_TLS"]
    assert settings["env"] == {"PROJECT_NAME": ""}
    assert "# MAIL_USE_TLS=" in (root / "env/.env.example").read_text().splitlines()
    assert "MAIL_USE_TLS" not in (root / "compose/docker-compose.yml").read_text()
    assert (
        "  note: the code needs PROJECT_NAME and gives no default: set each under env in the "
        "init settings, then 'shipyard init --force'" in lines
    )


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SECRET_KEY", True),
        ("GITHUB_TOKEN", True),
        ("SMTP_PASSWORD", True),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", False),
        ("JWT_ALGORITHM", False),
        ("DB_HOST", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    """PASSWORD, SECRET, TOKEN, KEY make a secret; a name about one (its expiry) does not."""
    assert variables.is_secret(name) is secret


def test_both_pipelines_are_written_and_the_projects_own_gitlab_ci_is_kept(
    tmp_path: Path,
) -> None:
    """A project on GitHub and GitLab: shipyard's workflow, and its pipeline beside the own one."""
    own = "test:\n  script: [pytest]\n"
    root = project(
        tmp_path, {**FLASK, ".github/workflows/tests.yml": "on: push\n", ".gitlab-ci.yml": own}
    )
    lines: list[str] = []
    plan.init(root, dry=False, force=False, say=lines.append)
    settings = tomllib.loads((root / "shipyard.toml").read_text())["init"]
    assert settings["ci"] == ["github", "gitlab"]
    assert "Generated by `shipyard init`" in (root / ".github/workflows/shipyard.yml").read_text()
    assert (root / ".github/workflows/tests.yml").read_text() == "on: push\n"
    assert (root / ".gitlab-ci.yml").read_text() == own
    assert "nox -s docker-test" in (root / "shipyard.gitlab-ci.yml").read_text()
    assert any("include: {local: shipyard.gitlab-ci.yml}" in line for line in lines), lines


def test_ci_none_writes_no_pipeline(tmp_path: Path) -> None:
    root = project(tmp_path, {**FLASK, "shipyard.toml": "[init]\nci = []\n"})
    plan.init(root, dry=False, force=False, say=lambda _: None)
    assert not (root / ".github").exists()
    assert not (root / ".gitlab-ci.yml").exists()


def test_a_project_kept_in_a_subfolder_is_named_not_guessed_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """django-on-docker: compose files at the top, Django in app/: init says where to run."""
    write_tree(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  db:\n    image: postgres:15\n",
            "app/manage.py": "import django\n",
            "app/requirements.txt": "Django==4.2.3\n",
            "app/Dockerfile": "FROM python:3.11.4-slim-buster\n",
            "nginx/Dockerfile": "FROM nginx:1.25\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        plan.init(tmp_path, dry=False, force=False, say=lambda _: None)
    assert caught.value.message == (
        f"no Python project at the top of {tmp_path}: app/ holds its code and dependencies"
    )
    assert (caught.value.tip or "").startswith("run 'shipyard init app': ")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "app",
        "docker-compose.yml",
        "nginx",
    ]  # nothing written
