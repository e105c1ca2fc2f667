"""The processes an adopted project runs beside its app, and the checks that say it is healthy."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import threading
from pathlib import Path

import pytest
import yaml

from shipyard.adopt import (
    code,
    detect,
    evidence,
    findings,
    packages,
    plan,
    pythons,
    render,
    variables,
)
from shipyard.core.errors import ConfigError
from tests.unit.adopt.variants import variants
from tests.unit.conftest import write_tree

CELERY = "from celery import Celery\n\napp = Celery('jobs')\n"


def test_a_celery_app_in_the_code_gives_a_worker(tmp_path: Path) -> None:
    """The shallowest module-level Celery app; beat only with periodic tasks."""
    write_tree(
        tmp_path,
        {
            "jobs/__init__.py": "",
            "jobs/worker.py": CELERY,
            "tests/test_jobs.py": CELERY,
            "other.py": "celery = Celery('x')\n",  # no import of celery: not an app
        },
    )
    found = code.workers(tmp_path, {"celery": "requirements.txt"})
    assert found == detect.Found(
        {"worker": "celery -A jobs.worker:app worker --loglevel=INFO"},
        "a Celery app: jobs.worker:app",
    )
    (tmp_path / "jobs/schedule.py").write_text("app.conf.beat_schedule = {}\n")
    assert code.workers(tmp_path, {"celery": "requirements.txt"}).value["beat"] == (
        "celery -A jobs.worker:app beat --loglevel=INFO --schedule /tmp/celerybeat-schedule"
    )
    deps = {"celery": "requirements.txt", "django-celery-beat": "requirements.txt"}
    assert (
        code.workers(tmp_path, deps)
        .value["beat"]
        .endswith("--scheduler django_celery_beat.schedulers:DatabaseScheduler")
    )


def test_a_queue_library_with_no_command_is_named(tmp_path: Path) -> None:
    """RQ in the dependencies, no command anywhere: init says which setting to write."""
    write_tree(tmp_path, {"app.py": "import rq\n"})
    found = code.workers(tmp_path, {"rq": "requirements.txt", "flask": "requirements.txt"})
    assert found.value == {}
    assert found.evidence.startswith("rq in the dependencies but no command")


def test_the_projects_own_processes_win(tmp_path: Path) -> None:
    """A Procfile's worker processes (not web or release), else a compose file's workers."""
    write_tree(
        tmp_path,
        {
            "Procfile": "web: gunicorn app:app\nrelease: flask db upgrade\n"
            "worker: celery -A app.celery worker -l info\nclock: python clock.py\n"
            "rq: rq worker --url $REDIS_URL high low\n",
            "docker-compose.yml": "services:\n  celeryworker:\n    command: celery -A x worker\n",
            "jobs/worker.py": CELERY,
        },
    )
    assert evidence.worker_processes(tmp_path) == {
        "worker": ("celery -A app.celery worker -l info", "Procfile: worker"),
        "rq": ("rq worker --url $REDIS_URL high low", "Procfile: rq"),
    }
    assert findings.findings(tmp_path)["workers"].value == {
        "worker": "celery -A app.celery worker -l info",
        "rq": "rq worker --url $REDIS_URL high low",
    }
    (tmp_path / "Procfile").unlink()
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  web:\n    command: gunicorn app:app\n"
        "  Celery_Beat:\n    command: [celery, -A, proj, beat, -l, INFO]\n"
        "  starter:\n    command: /start-celeryworker\n"  # a script of their image: not ours
        "  queue:\n    command: python manage.py rqworker default\n"
    )
    assert evidence.worker_processes(tmp_path) == {
        "celery_beat": ("celery -A proj beat -l INFO", "docker-compose.yml: Celery_Beat"),
        "queue": ("python manage.py rqworker default", "docker-compose.yml: queue"),
    }


def adoption(**changes: object) -> render.Adoption:
    return dataclasses.replace(variants()[0], **changes)  # type: ignore[arg-type]


def test_a_celery_worker_is_pinged_by_its_node_name_and_restarted_in_development() -> None:
    """`celery inspect ping` of this container's node; watchfiles restarts it in development."""
    a = adoption(
        workers={
            "worker": "celery -A jobs.worker:app worker --loglevel=INFO",
            "named": "celery --app=proj worker -n one@%h",
            "beat": "celery -A proj beat",
            "rq": "rq worker --url $REDIS_URL",
        }
    )
    assert a.worker_health("worker") == [
        "CMD-SHELL",
        "celery -A jobs.worker:app inspect ping -d celery@$$HOSTNAME --timeout 5 > /dev/null",
    ]
    assert a.worker_health("named") == [
        "CMD-SHELL",
        "celery -A proj inspect ping --timeout 5 > /dev/null",
    ]
    assert a.worker_health("beat") == a.worker_health("rq") == []
    assert a.worker_command("rq", dev=False) == ["sh", "-c", "rq worker --url $REDIS_URL"]
    assert a.worker_command("worker", dev=True) == [
        "watchfiles",
        "--filter",
        "python",
        "celery -A jobs.worker:app worker --loglevel=INFO",
        "/app",
    ]
    assert a.worker_command("rq", dev=True)[3] == "sh -c 'rq worker --url $REDIS_URL'"


def test_every_overlay_runs_the_worker_from_the_right_image() -> None:
    """Base: production image, its own check; dev: the source and the host user; prod: hardened."""
    a = adoption(workers={"worker": "celery -A jobs.worker:app worker"})
    base = yaml.safe_load(render.compose_base(a))["services"]["worker"]
    assert base["image"].endswith(":production")
    assert base["command"] == ["celery", "-A", "jobs.worker:app", "worker"]
    assert base["healthcheck"]["test"][0] == "CMD-SHELL"
    dev = yaml.safe_load(render.compose_overlay(a, "dev"))["services"]["worker"]
    assert dev["image"].endswith(":development")
    assert dev["user"] == "${SHIPYARD_UID:-1000}:${SHIPYARD_GID:-1000}"
    assert dev["volumes"] == [{"type": "bind", "source": "..", "target": "/app"}]
    prod = yaml.safe_load(render.compose_overlay(a, "prod"))["services"]["worker"]
    assert (prod["read_only"], prod["restart"]) == (True, "unless-stopped")
    assert "watchfiles==" in render.dockerfile(a)
    assert "watchfiles" not in render.dockerfile(adoption(workers={}))
    beat = yaml.safe_load(render.compose_base(adoption(workers={"beat": "celery -A p beat"})))
    assert beat["services"]["beat"]["healthcheck"] == {"disable": True}


def test_a_health_route_from_the_projects_check_or_the_app_object(tmp_path: Path) -> None:
    """The project's own HEALTHCHECK or compose check first; else a health route of the app."""
    write_tree(
        tmp_path,
        {
            "svc/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"
            "@router.get('/ping')\ndef p(): ...\n"  # another object's route: not the app's
            "@app.get('/api/healthz')\nasync def healthz(): ...\n",
        },
    )
    assert code.health_route(tmp_path, "svc.main:app") == detect.Found(
        "/api/healthz", "svc/main.py:5 routes it (healthz)"
    )
    assert code.health_route(tmp_path, "svc.main:other") is None
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    healthcheck:\n"
        '      test: ["CMD", "curl", "-f", "http://localhost:8000/up"]\n'
    )
    assert evidence.health_path(tmp_path) == ("/up", "docker-compose.yml: web's healthcheck")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nHEALTHCHECK --interval=5s \\\n"
        "  CMD wget -qO- http://127.0.0.1:8000/health/ || exit 1\n"
    )
    assert evidence.health_path(tmp_path) == ("/health/", "Dockerfile: HEALTHCHECK")


def _run_check(check: list[str]) -> tuple[int, str]:
    """Run the check's Python code here (what `python -c` would), return its exit and output."""
    assert check[:2] == ["python", "-c"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(check[2], {})  # noqa: S102 - the generated check, run as the container would
    except SystemExit as done:
        return int(done.code or 0), out.getvalue().strip()
    except OSError as error:  # what python -c would die of: a traceback, exit 1
        return 1, type(error).__name__
    return 0, out.getvalue().strip()


@pytest.mark.parametrize(
    ("path", "status", "healthy"),
    [("", 404, True), ("", 302, True), ("", 500, False), ("/h", 200, True), ("/h", 404, False)],
)
def test_the_health_check_wants_an_http_answer(path: str, status: int, healthy: bool) -> None:
    """The generated check against a real server answering ``status``, then against none."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(status)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check = adoption(health_path=path, port=port).health_command()
        assert _run_check(check) == (0 if healthy else 1, str(status))
        assert asked == [path or "/"]
    finally:
        server.shutdown()
        server.server_close()
    assert _run_check(adoption(health_path="", port=port).health_command()) == (
        1,
        "ConnectionRefusedError",
    )


def test_a_worker_may_not_take_a_name_init_gives_a_service(tmp_path: Path) -> None:
    """A user's worker called db (or 'My Worker') is refused before anything is written."""
    write_tree(
        tmp_path,
        {
            "app.py": "x = 1\n",
            "shipyard.toml": '[init.workers]\ndb = "celery -A app worker"\n',
        },
    )
    with pytest.raises(ConfigError, match=r"workers: db cannot name a service"):
        plan.choose(tmp_path)
    (tmp_path / "shipyard.toml").write_text('[init.workers]\nqueue = ""\n')
    assert plan.choose(tmp_path)[0].workers == {}  # "" drops a worker


def test_what_the_app_writes_beside_its_code(tmp_path: Path) -> None:
    """Log files named by literal relative paths: a handler, basicConfig, Django's LOGGING."""
    write_tree(
        tmp_path,
        {
            "app/log.py": "import logging\nfrom logging.handlers import RotatingFileHandler\n"
            "logging.FileHandler('app.log')\n"
            "RotatingFileHandler(filename='logs/app.log')\n"
            "logging.basicConfig(filename='/var/log/x.log')\n"  # absolute: not beside the code
            "logging.FileHandler(f'{name}.log')\n",  # not a literal
            "site/settings.py": "LOGGING = {'handlers': {'f': {'filename': 'var/debug.log'}}}\n",
            "tests/test_x.py": "import logging\nlogging.FileHandler('test.log')\n",
        },
    )
    found = code.writable_paths(tmp_path)
    assert found == detect.Found(
        ["app.log", "logs/", "var/"],
        "app/log.py:3 writes app.log; app/log.py:4 writes logs/app.log; "
        "site/settings.py:1 writes var/debug.log",
    )
    a = adoption(writable=tuple(found.value))
    assert (a.writable_folders, a.writable_files) == (["logs", "var"], {"app.log": "/tmp/app.log"})
    production = render.dockerfile(a).split("AS production")[1]
    assert (
        "RUN mkdir -p logs && chown 1000:1000 logs \\\n"
        "    && mkdir -p var && chown 1000:1000 var \\\n"
        "    && ln -sfn /tmp/app.log app.log\n"
    ) in production
    prod = yaml.safe_load(render.compose_overlay(a, "prod"))["services"]
    assert prod["app"]["tmpfs"] == [
        "/tmp",
        "/app/logs:uid=1000,gid=1000",
        "/app/var:uid=1000,gid=1000",
    ]
    write_tree(tmp_path, {"shipyard.toml": 'project = "w"\n[init]\nwritable = ["../etc/"]\n'})
    with pytest.raises(ConfigError, match=r"writable: \.\./etc/ is not a path under the project"):
        plan.choose(tmp_path)


def test_a_suite_that_starts_its_own_containers_is_named(tmp_path: Path) -> None:
    """Testcontainers in the dev dependencies: init says those tests need the host's engine."""
    write_tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "tc"\nversion = "0"\ndependencies = []\n'
            '[dependency-groups]\ndev = ["pytest", "testcontainers[postgres]>=4"]\n',
            "tc/__init__.py": "",
        },
    )
    said: list[str] = []
    plan.init(tmp_path, dry=True, force=False, say=said.append)
    notes = [line for line in said if "containers of its own" in line]
    assert notes == [
        "  note: the suite starts containers of its own (testcontainers (pyproject.toml group "
        "'dev')); inside the test image there is no Docker engine, so those tests fail there "
        "('docker' not found): run them on the host with 'pytest', and give docker-test the "
        "rest (deselect them in test-command, e.g. -m 'not docker', or -k)"
    ]


def test_a_worker_whose_compose_command_is_a_start_script(tmp_path: Path) -> None:
    """cookiecutter-django's /start-celeryworker: the command is read from the script copied there."""
    write_tree(
        tmp_path,
        {
            "docker-compose.yml": "services:\n"
            "  celeryworker:\n    command: /start-celeryworker\n"
            "  flower:\n    command: /start-flower\n",
            "compose/local/Dockerfile": "FROM python:3.12\n"
            "COPY ./compose/local/celery/worker/start /start-celeryworker\n"
            "COPY ./compose/local/celery/flower/start /start-flower\n",
            "compose/local/celery/worker/start": "#!/bin/bash\nset -o errexit\n\n"
            "exec watchfiles --filter python celery.__main__.main --args '-A config worker'\n",
            "compose/production/Dockerfile": "FROM python:3.12\n"
            "COPY --chown=django:django ./compose/production/worker/start /start-celeryworker\n",
            "compose/production/worker/start": "#!/bin/bash\n\nexec celery -A config.celery_app worker -l INFO\n",
            "compose/local/celery/flower/start": "exec celery -A config flower\n",
        },
    )
    assert evidence.worker_processes(tmp_path) == {
        "celeryworker": (
            "celery -A config.celery_app worker -l INFO",
            "docker-compose.yml: celeryworker",
        ),
    }


def test_a_server_declared_for_development_only_goes_into_the_production_image(
    tmp_path: Path,
) -> None:
    """Uvicorn in the dev group alone: added to extra-packages at the lock's version."""
    write_tree(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "s"\nversion = "0"\ndependencies = ["fastapi"]\n'
            '[dependency-groups]\ndev = ["uvicorn", "pytest"]\n',
            "uv.lock": 'version = 1\n[[package]]\nname = "uvicorn"\nversion = "0.34.0"\n',
            "s/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    assert findings.findings(tmp_path)["extra-packages"] == detect.Found(
        ["uvicorn==0.34.0"],
        "uvicorn is a development dependency only (pyproject.toml group 'dev'): the image needs it",
    )
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "s"\nversion = "0"\ndependencies = ["fastapi", "uvicorn"]\n'
    )
    assert findings.findings(tmp_path)["extra-packages"].value == []


def test_an_example_value_on_localhost_points_at_the_stacks_service() -> None:
    """redis://127.0.0.1:6379/0 in a sample env file means the stack's Redis."""
    deps = {"psycopg2": "requirements.txt", "sqlalchemy": "requirements.txt"}
    local = findings.local_service_url
    assert local("redis://127.0.0.1:6379/2", ["redis"], deps) == "redis://redis:6379/2"
    assert local("redis://localhost", ["redis"], deps) == "redis://redis:6379/0"
    assert local("redis://localhost", ["postgres"], deps) is None  # no Redis in the stack
    assert local("postgresql://u:p@localhost:5432/app", ["postgres"], deps) == findings.PG_URL
    assert local("redis://cache.internal:6379/0", ["redis"], deps) is None
    assert findings.service_environment(
        ["redis"], [variables.EnvRead("CELERY_RESULT_BACKEND", None, "app.py:1")], deps
    ) == {"CELERY_RESULT_BACKEND": "redis://redis:6379/0"}


def test_a_beat_from_the_project_keeps_its_schedule_in_tmp(tmp_path: Path) -> None:
    """Beat writes its schedule where it runs: /app is read-only in prod, the checkout in dev."""
    write_tree(
        tmp_path,
        {
            "Procfile": "beat: celery -A app.celery beat -l info\n"
            "dbbeat: celery -A app beat --scheduler django_celery_beat.schedulers:DatabaseScheduler\n"
            "own: celery -A app beat -s /var/run/beat\n",
        },
    )
    assert findings.findings(tmp_path)["workers"].value == {
        "beat": "celery -A app.celery beat -l info --schedule /tmp/celerybeat-schedule",
        "dbbeat": "celery -A app beat --scheduler django_celery_beat.schedulers:DatabaseScheduler",
        "own": "celery -A app beat -s /var/run/beat",
    }


def test_flask_migrate_is_the_prepare_step(tmp_path: Path) -> None:
    """migrations/alembic.ini with a Flask app: `flask db upgrade` through the app."""
    write_tree(
        tmp_path,
        {
            "requirements.txt": "flask\nflask-migrate\n",
            "migrations/alembic.ini": "[alembic]\n",
            "web/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
        },
    )
    assert findings.findings(tmp_path)["prepare"] == detect.Found(
        "FLASK_APP='web:create_app()' flask db upgrade",
        "migrations/alembic.ini, flask-migrate in requirements.txt",
    )


def test_a_dockerfile_under_compose_is_read_when_it_builds_from_python(tmp_path: Path) -> None:
    """compose/local/flask/Dockerfile says the Python; compose/production/nginx's port is not ours."""
    write_tree(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "compose/local/flask/Dockerfile": "FROM python:3.11-slim-buster\nRUN pip install x\n",
            "compose/production/nginx/Dockerfile": "FROM nginx:1.25\nEXPOSE 80\n",
        },
    )
    assert [p.relative_to(tmp_path).as_posix() for p, _ in detect.own_dockerfiles(tmp_path)] == [
        "compose/local/flask/Dockerfile"
    ]
    assert pythons.python_version(tmp_path).value == "3.11"
    assert findings.findings(tmp_path)["port"].value == 8000


def test_pure_python_psycopg_needs_libpq_in_the_production_image(tmp_path: Path) -> None:
    """Psycopg 3 without its binary build loads libpq: prod crashed 'Error loading psycopg'."""
    write_tree(tmp_path, {"requirements.txt": "Django==6.0\npsycopg==3.2.3\n"})
    deps = detect.dependencies(tmp_path)
    assert packages.system_packages(deps, tmp_path)[1] == detect.Found(
        ["libpq5"], "psycopg loads the system's libpq (requirements.txt)"
    )
    (tmp_path / "requirements.txt").write_text("psycopg[binary,pool]==3.2.3\n")
    assert packages.system_packages(detect.dependencies(tmp_path), tmp_path)[1].value == []


def test_a_health_check_script_of_the_projects_gives_its_path(tmp_path: Path) -> None:
    """Healthchecks' HEALTHCHECK runs ./fetchstatus.py, which requests /api/v3/status/."""
    write_tree(
        tmp_path,
        {
            "docker/Dockerfile": "FROM python:3.12-slim\nCOPY docker/fetchstatus.py /app/\n"
            "HEALTHCHECK --interval=60s CMD ./fetchstatus.py\n",
            "docker/fetchstatus.py": 'SITE_ROOT = os.getenv("SITE_ROOT", "")\n'
            'url = SITE_ROOT + "/api/v3/status/"\n',
        },
    )
    assert evidence.health_path(tmp_path) == (
        "/api/v3/status/",
        "docker/Dockerfile: HEALTHCHECK runs a script that requests it",
    )


def test_a_health_script_below_a_variables_folder_with_a_port_placeholder(tmp_path: Path) -> None:
    """Mealie's HEALTHCHECK runs $MEALIE_HOME/mealie/scripts/healthcheck.py: f"...:{port}/..."."""
    write_tree(
        tmp_path,
        {
            "docker/Dockerfile": "FROM python:3.12-slim\n"
            "HEALTHCHECK CMD python $MEALIE_HOME/mealie/scripts/healthcheck.py || exit 1\n",
            "mealie/scripts/healthcheck.py": 'port = os.getenv("API_PORT")\n'
            'url = f"http://127.0.0.1:{port}/api/app/about"\n',
        },
    )
    assert evidence.health_path(tmp_path) == (
        "/api/app/about",
        "docker/Dockerfile: HEALTHCHECK runs a script that requests it",
    )


def test_flaskys_own_dockerfile_compose_and_config_decide_the_database(tmp_path: Path) -> None:
    """The requirements its Dockerfile installs; MySQL from its compose file; every *DATABASE_URL."""
    write_tree(
        tmp_path,
        {
            "requirements.txt": "-r requirements/heroku.txt\n",
            "requirements/common.txt": "Flask==0.12.2\nFlask-SQLAlchemy==2.2\nSQLAlchemy==1.1.11\n",
            "requirements/heroku.txt": "-r prod.txt\npsycopg2==2.7.1\n",
            "requirements/prod.txt": "-r common.txt\n",
            "requirements/docker.txt": "-r common.txt\npymysql==0.7.11\n",
            "requirements/dev.txt": "-r common.txt\nfaker==0.7.18\n",
            "Dockerfile": "FROM python:3.6-alpine\nCOPY requirements requirements\n"
            "RUN venv/bin/pip install -r requirements/docker.txt\n",
            "docker-compose.yml": "services:\n  mysql:\n    image: mysql/mysql-server:5.7\n",
            "config.py": (
                "import os\n"
                "class Dev:\n    URI = os.environ.get('DEV_DATABASE_URL') or 'sqlite://'\n"
                "class Test:\n    URI = os.environ.get('TEST_DATABASE_URL') or 'sqlite://'\n"
                "class Prod:\n    URI = os.environ.get('DATABASE_URL') or 'sqlite://'\n"
                "    SERVER_NAME = os.environ['SERVER_NAME']\n"
            ),
            "flasky.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
    )
    found = findings.findings(tmp_path)
    assert found["install"] == detect.Found(
        ["requirements/docker.txt"], "the project's own Dockerfile installs it"
    )
    assert found["services"].value == ["mariadb"]
    url = findings.mariadb_url({"sqlalchemy": "", "pymysql": ""})
    assert url.startswith("mysql+pymysql://")
    assert found["environment"].value == {"DATABASE_URL": url, "DEV_DATABASE_URL": url}
    assert "TEST_DATABASE_URL" in found["optional-env"].value  # its suite runs on SQLite
    assert found["env"].value["SERVER_NAME"] == ""


def test_django_on_dockers_app_folder_runs_on_its_database_with_its_runner(
    tmp_path: Path,
) -> None:
    """SQL_* variables wired to PostgreSQL, its ENGINE too; examples from ../.env.dev-sample."""
    write_tree(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/master\n",
            ".env.dev-sample": "DEBUG=1\nDJANGO_ALLOWED_HOSTS=localhost 127.0.0.1 [::1]\n",
            ".env.prod-sample": "DJANGO_ALLOWED_HOSTS=example.com\n",
            "app/requirements.txt": "Django==4.2.3\npsycopg2-binary==2.9.6\n",
            "app/manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hello.settings')\n",
            "app/hello/__init__.py": "",
            "app/hello/wsgi.py": "from django.core.wsgi import get_wsgi_application\n"
            "application = get_wsgi_application()\n",
            "app/hello/settings.py": (
                "import os\n"
                "ALLOWED_HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS').split(' ')\n"
                "DATABASES = {'default': {\n"
                "    'ENGINE': os.environ.get('SQL_ENGINE', 'django.db.backends.sqlite3'),\n"
                "    'NAME': os.environ.get('SQL_DATABASE', 'db.sqlite3'),\n"
                "    'USER': os.environ.get('SQL_USER', 'user'),\n"
                "    'HOST': os.environ.get('SQL_HOST', 'localhost'),\n"
                "    'PORT': os.environ.get('SQL_PORT', '5432'),\n"
                "}}\n"
            ),
            "app/upload/tests.py": "from django.test import TestCase\n",
        },
    )
    found = findings.findings(tmp_path / "app")
    assert found["environment"].value == {
        "SQL_DATABASE": "${POSTGRES_DB}",
        "SQL_ENGINE": "django.db.backends.postgresql",
        "SQL_HOST": "db",
        "SQL_PORT": "5432",
        "SQL_USER": "${POSTGRES_USER}",
        "DJANGO_SETTINGS_MODULE": "hello.settings",
    }
    assert found["env"].value["DJANGO_ALLOWED_HOSTS"] == "localhost 127.0.0.1 [::1]"
    assert "../.env.dev-sample" in found["env"].evidence
    assert found["test-command"] == detect.Found(
        "python manage.py test", "Django's own runner: no pytest declared"
    )
    assert found["extra-test-packages"].value == []
