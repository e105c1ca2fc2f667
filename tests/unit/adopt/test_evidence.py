"""Values the project wrote down for its variables: env examples, compose, CI, then .env."""

from __future__ import annotations

from pathlib import Path

from shipyard.adopt import detect, evidence, findings, render
from tests.unit.conftest import write_tree

PROJECT = {
    "requirements.txt": "fastapi\n",
    "app/config.py": (
        "import os\n"
        "ADMIN = os.environ['FIRST_SUPERUSER']\n"
        "NAME = os.environ['PROJECT_NAME']\n"
        "SMTP = os.environ['SMTP_HOST']\n"
        "STACK = os.environ['STACK_NAME']\n"
        "KEY = os.environ['SECRET_KEY']\n"
        "UNKNOWN = os.environ['NOBODY_SAYS']\n"
    ),
    ".env.example": "FIRST_SUPERUSER=admin@example.com\nSECRET_KEY=changethis\n",
    "docker-compose.yml": (
        "services:\n"
        "  backend:\n"
        "    environment:\n"
        "      - PROJECT_NAME=Full Stack\n"
        "      - FIRST_SUPERUSER=${FIRST_SUPERUSER}\n"
        "      - SECRET_KEY=${SECRET_KEY?}\n"
    ),
    ".github/workflows/test.yml": (
        "env:\n  SMTP_HOST: localhost\njobs:\n  test:\n    env:\n      PROJECT_NAME: from-ci\n"
    ),
    ".env": "STACK_NAME=local-stack\nFIRST_SUPERUSER=me@home\n",
}


def test_example_values_in_order_of_trust(tmp_path: Path) -> None:
    """An env example beats compose, compose beats CI, .env comes last; ${X} is no value."""
    values = evidence.example_values(write_tree(tmp_path, PROJECT))
    assert values == {
        "FIRST_SUPERUSER": ("admin@example.com", ".env.example"),
        "SECRET_KEY": ("changethis", ".env.example"),
        "PROJECT_NAME": ("Full Stack", "docker-compose.yml (PROJECT_NAME)"),
        "SMTP_HOST": ("localhost", ".github/workflows/test.yml (SMTP_HOST)"),
        "STACK_NAME": ("local-stack", ".env"),
    }


def test_required_values_are_filled_from_them_but_never_a_secret(tmp_path: Path) -> None:
    """The contract gets the project's own values for what the code requires; secrets stay blank."""
    found = findings.findings(write_tree(tmp_path, PROJECT))
    assert found["env"].value == {
        "FIRST_SUPERUSER": "admin@example.com",
        "NOBODY_SAYS": "",
        "PROJECT_NAME": "Full Stack",
        "SECRET_KEY": "",
        "SMTP_HOST": "localhost",
        "STACK_NAME": "local-stack",
    }
    assert "FIRST_SUPERUSER (app/config.py:2, value from .env.example)" in found["env"].evidence


def test_the_projects_own_test_command_from_ci_tox_or_make(tmp_path: Path) -> None:
    """CI first (less the runner that wraps pytest), then tox, then the Makefile's test target."""
    ci = write_tree(
        tmp_path / "ci",
        {
            ".github/workflows/ci.yml": (
                "jobs:\n  test:\n    steps:\n"
                "      - run: pip install -r requirements-dev.txt\n"
                "      - run: |\n          mkdir -p media\n          uv run pytest tests/*.py -x\n"
            ),
            "tox.ini": "[testenv]\ncommands = pytest {posargs}\n",
        },
    )
    assert evidence.test_command(ci) == ("pytest tests/*.py -x", ".github/workflows/ci.yml")
    found = findings.test_command(ci, "")
    assert found.value == "pytest tests/*.py -x"  # a shell's glob: no flag appended
    assert render.command_argv(found.value) == ["sh", "-c", "pytest tests/*.py -x"]
    tox = write_tree(tmp_path / "tox", {"tox.ini": "[testenv]\ncommands = pytest {posargs}\n"})
    assert findings.test_command(tox, "") == detect.Found(
        "pytest -p no:cacheprovider", "tox.ini runs it"
    )
    tox = write_tree(
        tmp_path / "tox-env",
        {
            "tox.ini": "[testenv]\ncommands =\n    {envpython} -m pytest \\\n      --cov humanize "
            "{toxinidir}/tests \\\n      {posargs}\n    {envbindir}/mypy {tox_root}\n"
        },
    )
    assert evidence.test_command(tox) == (
        "python -m pytest --cov humanize tests",
        "tox.ini",
    )
    gitlab = write_tree(
        tmp_path / "gl",
        {".gitlab-ci.yml": "test:\n  script:\n    - poetry run python -m pytest -q\n"},
    )
    assert evidence.test_command(gitlab) == ("python -m pytest -q", ".gitlab-ci.yml")
    assert render.command_argv("python -m pytest -q") == ["python", "-m", "pytest", "-q"]
    assert evidence.test_command(tmp_path / "none") is None


def test_a_ci_line_running_the_suite_in_the_projects_own_compose_service(tmp_path: Path) -> None:
    """`docker compose run django py.test`: the command, less the container it ran in."""
    root = write_tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": (
                "jobs:\n  docker:\n    steps:\n      - run: docker compose build\n"
                "      - run: docker compose run --rm django py.test\n"
            ),
        },
    )
    assert evidence.test_command(root) == ("py.test", ".github/workflows/ci.yml")


def test_a_suite_run_by_djangos_or_unittests_runner(tmp_path: Path) -> None:
    """No pytest line: the runner CI uses, less coverage's wrapper; no pytest added for it."""
    root = write_tree(
        tmp_path / "django",
        {
            ".github/workflows/ci.yml": (
                "jobs:\n  test:\n    steps:\n      - run: pip install -r requirements.txt\n"
                "      - run: coverage run --omit=*/tests/* --source=hc manage.py test\n"
            ),
            "manage.py": "",
            "requirements.txt": "django==6.0\n",
        },
    )
    assert evidence.test_command(root) == ("python manage.py test", ".github/workflows/ci.yml")
    found = findings.findings(root)
    assert found["test-command"].value == "python manage.py test"  # no pytest flag appended
    assert found["extra-test-packages"] == detect.Found([], "the suite's runner is not pytest")
    unit = write_tree(
        tmp_path / "unit",
        {".gitlab-ci.yml": "test:\n  script:\n    - python -m unittest discover -s tests\n"},
    )
    assert evidence.test_command(unit) == ("python -m unittest discover -s tests", ".gitlab-ci.yml")
    both = write_tree(
        tmp_path / "both",
        {"tox.ini": "[testenv]\ncommands =\n    python manage.py test\n    pytest tests\n"},
    )
    assert evidence.test_command(both) == ("pytest tests", "tox.ini")


def test_a_procfile_names_the_app_and_the_release_step(tmp_path: Path) -> None:
    """Heroku's web process serves the app; its release step is the one before start."""
    root = write_tree(
        tmp_path,
        {
            "Procfile": (
                "web: gunicorn config.wsgi:application --bind 0.0.0.0:$PORT\n"
                "worker: celery -A config worker\n"
                "release: python manage.py migrate --noinput && python manage.py check\n"
            ),
        },
    )
    assert evidence.own_image(root) == {
        "app": (
            "config.wsgi:application",
            "Procfile: web: gunicorn config.wsgi:application --bind 0.0.0.0:$PORT",
        ),
        "prepare": (
            "python manage.py migrate --noinput && python manage.py check",
            "Procfile: release",
        ),
    }
    assert render.command_argv(evidence.own_image(root)["prepare"][0])[:2] == ["sh", "-c"]


def test_a_makefile_recipe_continued_over_lines_is_one_command(tmp_path: Path) -> None:
    """CTFd's `make test` spans four lines joined by backslashes: one command, not a dangling one."""
    root = write_tree(
        tmp_path,
        {
            "Makefile": "lint:\n\truff .\n\ntest:\n\tpytest -rf --cov=app \\\n\t\t-W ignore \\\n\t\t-n auto\n"
        },
    )
    assert evidence.test_command(root) == (
        "pytest -rf --cov=app -W ignore -n auto",
        "Makefile test target",
    )


def test_the_steps_ci_runs_before_the_tests(tmp_path: Path) -> None:
    """File steps and the project's own commands become test-setup, a prestart script prepare."""
    root = write_tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "hc"\n[project.scripts]\nhc = "hc.cli:main"\n',
            ".github/workflows/lint.yml": "jobs:\n  m:\n    steps:\n      - run: touch lint.cfg\n",
            ".github/workflows/ci.yml": (
                "jobs:\n  test:\n    steps:\n"
                "      - run: pip install -r requirements-dev.txt\n"
                "      - run: |\n          touch hc/local_settings.py\n"
                "          mkdir -p media/uploads\n          cp .env.example .env\n"
                "          echo hi > x.txt\n          uv run hc translations compile\n"
                "          uv run bash scripts/prestart.sh\n          uv run pytest -x\n"
                "      - run: touch after.txt\n"
            ),
        },
    )
    assert evidence.steps_before_tests(root) == (
        [
            "touch hc/local_settings.py",
            "mkdir -p media/uploads",
            "cp .env.example .env",
            "hc translations compile",
        ],
        "bash scripts/prestart.sh",
        ".github/workflows/ci.yml",
    )
    found = findings.findings(root)
    assert found["test-setup"] == detect.Found(
        [
            "touch hc/local_settings.py",
            "mkdir -p media/uploads",
            "cp .env.example .env",
            "hc translations compile",
        ],
        ".github/workflows/ci.yml runs them before the tests",
    )
    assert found["prepare"] == detect.Found(
        "bash scripts/prestart.sh", ".github/workflows/ci.yml runs it before the tests"
    )
    assert evidence.steps_before_tests(tmp_path / "none") is None


def test_what_the_projects_own_dockerfile_and_compose_file_say(tmp_path: Path) -> None:
    """Its apt packages (build tools apart), EXPOSE, the app it serves; the images it runs."""
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.11-slim\n"
                "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
                "    gcc libpq-dev libpq5 curl && rm -rf /var/lib/apt/lists/*\n"
                "EXPOSE 8080\n"
                'CMD ["gunicorn", "-b", "0.0.0.0:8080", "svc.wsgi:application"]\n'
            ),
            "docker-compose.yml": (
                "services:\n"
                "  web: {build: .}\n"
                "  db: {image: 'postgis/postgis:16-3.4'}\n"
                "  queue: {image: rabbitmq:3-management}\n"
                "  cache: {image: memcached:alpine}\n"
            ),
            "pytest.ini": "[pytest]\naddopts = -n auto --cov=svc\n",
        },
    )
    assert evidence.own_image(root) == {
        "build-packages": (["gcc", "libpq-dev"], "Dockerfile installs them"),
        "runtime-packages": (["libpq5", "curl"], "Dockerfile installs them"),
        "port": (8080, "Dockerfile: EXPOSE 8080"),
        "app": (
            "svc.wsgi:application",
            'Dockerfile: ["gunicorn", "-b", "0.0.0.0:8080", "svc.wsgi:application"]',
        ),
    }
    assert evidence.compose_services(root) == {
        "postgres": "docker-compose.yml: db runs postgis/postgis:16-3.4",
        "rabbitmq": "docker-compose.yml: queue runs rabbitmq:3-management",
        "memcached": "docker-compose.yml: cache runs memcached:alpine",
    }
    assert detect.pytest_plugins(root) == {
        "pytest-xdist": "-n in pytest.ini's addopts",
        "pytest-cov": "--cov in pytest.ini's addopts",
    }
    found = findings.findings(root)
    assert found["services"].value == ["postgres", "rabbitmq", "memcached"]
    assert found["port"].value == 8080
    assert found["extra-test-packages"].value == ["pytest", "pytest-xdist", "pytest-cov"]


def test_the_tests_own_django_settings_win_over_the_apps(tmp_path: Path) -> None:
    """pytest.ini names config.django.test; the stack sets manage.py's: --ds gives it back."""
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "django==6.0\npytest-django\npytest\n",
            "manage.py": (
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.django.base')\n"
            ),
            "config/django/base.py": "",
            "config/wsgi.py": "",
            "pytest.ini": "[pytest]\nDJANGO_SETTINGS_MODULE = config.django.test\n",
        },
    )
    found = findings.findings(root)
    assert found["environment"].value["DJANGO_SETTINGS_MODULE"] == "config.django.base"
    assert found["test-command"] == detect.Found(
        "pytest -p no:cacheprovider --ds=config.django.test",
        "pytest, without its cache; --ds: pytest.ini",
    )


def test_a_django_project_in_a_subfolder_as_its_ci_runs_it(tmp_path: Path) -> None:
    """manage.py and requirements in src/, CI changing folder first and setting a variable."""
    root = write_tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": (
                "env:\n  CLIENT_ID: ci-client\njobs:\n  test:\n    steps:\n"
                "      - run: pip install -r src/requirements.txt\n"
                "      - run: |\n          cd src/\n          python manage.py test\n"
            ),
            "requirements-dev.txt": "flake8\n",
            "src/requirements.txt": "Django==5.0.9\nmysqlclient==2.2.7\n",
            "src/manage.py": (
                "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site_conf.settings')\n"
            ),
            "src/site_conf/__init__.py": "",
            "src/site_conf/settings.py": "import os\nCLIENT_ID = os.getenv('CLIENT_ID')\n",
            "src/site_conf/wsgi.py": "application = None\n",
        },
    )
    found = findings.findings(root)
    assert found["install"].value == ["src/requirements.txt"]
    assert (found["framework"].value, found["app"].value) == (
        "django",
        "site_conf.wsgi:application",
    )
    assert found["test-command"].value == "cd src && python manage.py test"
    assert found["prepare"].value == "python src/manage.py migrate --noinput"
    assert found["python-path"].value == ["/app/src", "/app"]
    assert found["services"].value == ["mariadb"]
    assert "default-libmysqlclient-dev" in found["build-packages"].value
    # Read with getenv() and no default, but CI sets it for the suite: passed, CI's value.
    assert found["env"].value["CLIENT_ID"] == "ci-client"
    assert "CLIENT_ID" not in found["optional-env"].value


def test_an_optional_variable_the_example_env_file_sets_is_passed(tmp_path: Path) -> None:
    """WEB_URL read with .get(), given in .env.example: passed; a <placeholder> is no value."""
    root = write_tree(
        tmp_path,
        {
            ".env.example": "WEB_URL=http://localhost:8000\nSENTRY_DSN=<your-dsn>\n",
            "app/settings.py": (
                "import os\nWEB = os.environ.get('WEB_URL')\nDSN = os.environ.get('SENTRY_DSN')\n"
            ),
        },
    )
    found = findings.findings(root)
    assert found["env"].value == {"WEB_URL": "http://localhost:8000"}
    assert found["optional-env"].value == ["SENTRY_DSN"]


def test_a_store_the_code_reads_only_when_set_is_left_out(tmp_path: Path) -> None:
    """A pymongo dependency, but MONGO_URL has a False default: no mongodb service."""
    optional = write_tree(
        tmp_path / "optional",
        {
            "requirements.txt": "pymongo==4.10\npsycopg==3.2\n",
            "app/settings.py": "import os\nMONGO = os.environ.get('MONGO_URL', False)\n",
        },
    )
    found = findings.findings(optional)["services"]
    assert found.value == ["postgres"]
    assert found.evidence.endswith("mongodb left out: the code reads MONGO_URL only when set")
    required = write_tree(
        tmp_path / "required",
        {
            "requirements.txt": "pymongo==4.10\n",
            "app/settings.py": "import os\nMONGO = os.environ['MONGO_URL']\n",
        },
    )
    assert findings.findings(required)["services"].value == ["mongodb"]


def test_a_url_in_a_comment_is_no_service(tmp_path: Path) -> None:
    """A configuration file's commented-out alternatives start nothing."""
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "app/config.py": (
                "# SQLALCHEMY_DATABASE_URI = 'postgresql://forum@localhost/forum'\n"
                "#   'mysql+pymysql://forum@localhost/forum'\n"
                "SQLALCHEMY_DATABASE_URI = 'sqlite://'\n"
            ),
        },
    )
    assert findings.findings(root)["services"].value == []


def test_apt_packages_of_older_debian_releases_get_bookworms_names(tmp_path: Path) -> None:
    """fastapi-realworld installs netcat (bullseye): bookworm has only netcat-openbsd."""
    root = write_tree(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.9.10-slim\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends netcat\n"
        },
    )
    assert evidence.own_image(root)["runtime-packages"] == (
        ["netcat-openbsd"],
        "Dockerfile installs them; netcat is netcat-openbsd on bookworm",
    )
