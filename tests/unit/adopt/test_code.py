"""What init finds in a project's code: the app object, the variables it reads."""

from __future__ import annotations

from pathlib import Path

from shipyard.adopt import code, detect, findings, variables
from tests.unit.conftest import write_tree


def test_framework_prefers_a_module_level_app_over_a_factory(tmp_path: Path) -> None:
    """FastAPI: the shallowest `app = FastAPI()` is the entry point, with its line as evidence."""
    write_tree(
        tmp_path,
        {
            "src/svc/__init__.py": "",
            "src/svc/main.py": "from fastapi import FastAPI\n\napi = FastAPI()\n",
            "src/svc/deep/other.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "tests/test_x.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    kind, app = code.framework(tmp_path, {"fastapi": "pyproject.toml [project]"})
    assert (kind.value, app) == (
        "fastapi",
        detect.Found("svc.main:api", "src/svc/main.py:3 api = ..."),
    )


def test_flask_factory_and_django_wsgi(tmp_path: Path) -> None:
    """A Flask factory is called by the server; Django's WSGI module comes from manage.py."""
    flask = write_tree(tmp_path / "f", {"web/__init__.py": "def create_app():\n    pass\n"})
    assert code.framework(flask, {"flask": "requirements.txt"})[1].value == "web:create_app()"
    django = write_tree(
        tmp_path / "d",
        {
            "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings.prod")\n',
            "site/wsgi.py": "",
        },
    )
    kind, app = code.framework(django, {"django": "poetry.lock"})
    assert (kind.value, app.value) == ("django", "site.wsgi:application")


def test_env_reads_with_defaults_and_where(tmp_path: Path) -> None:
    """os.environ[], getenv/environ.get defaults, pydantic settings fields, implicit DATABASE_URL."""
    write_tree(
        tmp_path,
        {
            "app/config.py": (
                "import os\n"
                "A = os.environ['API_TOKEN']\n"
                "B = os.getenv('LOG_LEVEL', 'info')\n"
                "C = os.environ.get('WORKERS', 4)\n"
                "D = os.environ.get('PATH')\n"
                "E = os.environ.get('SENTRY_DSN')\n"
                "class Settings(BaseSettings):\n"
                "    redis_host: str = 'localhost'\n"
                "    model_config = {}\n"
                "db = dj_database_url.config()\n"
            ),
            "tests/conftest.py": "import os\nos.environ['ONLY_IN_TESTS']\n",
        },
    )
    assert variables.env_reads(tmp_path) == [
        variables.EnvRead("API_TOKEN", None, "app/config.py:2"),
        variables.EnvRead("DATABASE_URL", None, "app/config.py:10", optional=True),
        variables.EnvRead("LOG_LEVEL", "info", "app/config.py:3"),
        variables.EnvRead("REDIS_HOST", "localhost", "app/config.py:8"),
        variables.EnvRead("SENTRY_DSN", None, "app/config.py:6", optional=True),
        variables.EnvRead("WORKERS", "4", "app/config.py:4", kind="typed"),
    ]


def test_an_app_built_by_a_factory_call_and_litestar(tmp_path: Path) -> None:
    """`app = get_application()` is the app when that function builds one; Litestar is itself."""
    fastapi = write_tree(
        tmp_path / "fa",
        {
            "svc/main.py": (
                "from fastapi import FastAPI\n"
                "def get_application(settings=None):\n"
                "    application = FastAPI()\n"
                "    return application\n"
                "app = get_application()\n"
            ),
        },
    )
    kind, app = code.framework(fastapi, {"fastapi": "requirements.txt"})
    assert (kind.value, app) == (
        "fastapi",
        detect.Found("svc.main:app", "svc/main.py:5 app = get_application()"),
    )
    litestar = write_tree(
        tmp_path / "ls",
        {
            "shop/app.py": "from litestar import Litestar\ndef create_app():\n    return Litestar([])\n"
        },
    )
    deps = {"litestar": "pyproject.toml [project]", "starlette": "uv.lock"}
    kind, app = code.framework(litestar, deps)
    assert (kind.value, app.value) == ("litestar", "shop.app:create_app()")


def test_variables_through_the_projects_helpers_and_not_a_requests_environ(tmp_path: Path) -> None:
    """One level of the project's own helper counts; WSGI request keys are no variables."""
    write_tree(
        tmp_path,
        {
            "conf/env.py": (
                "import os\n"
                "def envsecret(name, default=None):\n"
                "    return os.environ.get(name, default)\n"
            ),
            "conf/settings.py": (
                "from conf.env import envsecret\n"
                "DB_PASSWORD = envsecret('DB_PASSWORD')\n"
                "REGION = envsecret('REGION', 'eu')\n"
            ),
            "web/wsgi.py": (
                "from os import environ\n"
                "def app(environ, start_response):\n"
                "    host = environ['HTTP_HOST']\n"
                "    path = environ.get('PATH_INFO')\n"
                "def view(request):\n"
                "    return request.environ['CUSTOM_HEADER']\n"
            ),
            # flasky's config.py: the process's SERVER_NAME, required.
            "conf/prod.py": "import os\nSERVER_NAME = os.environ['SERVER_NAME']\n"
            # django-on-docker's settings: None has no .split, so it is required too.
            "HOSTS = os.environ.get('DJANGO_ALLOWED_HOSTS').split(' ')\n",
        },
    )
    assert variables.env_reads(tmp_path) == [
        variables.EnvRead("DB_PASSWORD", None, "conf/settings.py:2"),
        variables.EnvRead("DJANGO_ALLOWED_HOSTS", None, "conf/prod.py:3", optional=False),
        variables.EnvRead("REGION", "eu", "conf/settings.py:3"),
        variables.EnvRead("SERVER_NAME", None, "conf/prod.py:2", optional=False),
    ]


def test_a_value_used_as_a_number_or_a_flag_is_no_secret(tmp_path: Path) -> None:
    """int(), a boolean default or parser, and typed settings fields make a setting, not a secret."""
    write_tree(
        tmp_path,
        {
            "app/config.py": (
                "import os\n"
                "AGE = int(os.getenv('JWT_TOKEN_LIFETIME', '3600'))\n"
                "LOGIN = os.getenv('PASSWORD_LOGIN', 'true')\n"
                "KEY = os.environ['API_KEY']\n"
                "RATE = os.environ.get('API_KEY_RATE_LIMIT', '60/minute')\n"
                "SMTP = os.environ.get('ENABLE_EMAIL_PASSWORD', '1')\n"
                "GH = os.environ.get('GITHUB_ACCESS_TOKEN', False)\n"
                "class Base(BaseSettings):\n"
                "    pass\n"
                "class Settings(Base):\n"
                "    signing_key: SecretStr\n"
                "    token_retries: int = 3\n"
                "    redis: str = Field('redis://r', env='REDIS_DSN')\n"
                "    class Config:\n"
                "        env_prefix = 'app_'\n"
                "class Other(BaseSettings):\n"
                "    model_config = SettingsConfigDict(env_prefix='SVC_')\n"
                "    secret_key_path: str = '/run/key'\n"
            ),
        },
    )
    reads = {r.name: r for r in variables.env_reads(tmp_path)}
    assert {name: read.secret for name, read in reads.items()} == {
        "API_KEY": True,
        "API_KEY_RATE_LIMIT": False,  # a limit's setting, by its last word
        "ENABLE_EMAIL_PASSWORD": False,  # a switch, by its first
        "GITHUB_ACCESS_TOKEN": False,  # a flag by its default
        "APP_SIGNING_KEY": True,
        "APP_TOKEN_RETRIES": False,
        "JWT_TOKEN_LIFETIME": False,
        "PASSWORD_LOGIN": False,
        "REDIS_DSN": False,
        "SVC_SECRET_KEY_PATH": False,
    }
    assert reads["REDIS_DSN"].default == "redis://r"
    assert reads["APP_SIGNING_KEY"].kind == "secret"
    # A bool default stays unset: written to an env file it would be "false", a true string.
    assert reads["GITHUB_ACCESS_TOKEN"].optional


def test_backing_services_from_clients_and_urls(tmp_path: Path) -> None:
    """MySQL drivers mean MariaDB; Celery means RabbitMQ only with an amqp:// broker."""
    code_with = write_tree(tmp_path / "amqp", {"w.py": "BROKER = 'amqp://guest@localhost//'\n"})
    assert code.backing_services(code_with, {"celery": "requirements.txt"}, []).value == [
        "rabbitmq"
    ]
    plain = write_tree(tmp_path / "plain", {"w.py": "x = 1\n"})
    assert code.backing_services(plain, {"celery": "requirements.txt"}, []).value == ["redis"]
    deps = {"pymysql": "requirements.txt", "pymemcache": "requirements.txt", "pika": "uv.lock"}
    found = code.backing_services(plain, deps, [])
    assert found == detect.Found(
        ["mariadb", "rabbitmq", "memcached"],
        "pymysql in requirements.txt; pika in uv.lock; pymemcache in requirements.txt",
    )
    both = {"psycopg2": "requirements.txt", "pymysql": "requirements.txt"}
    assert code.backing_services(plain, both, []).value == ["postgres"]
    # A PostgreSQL driver for the tests of other databases, MySQL's at run time: MariaDB.
    dev_only = {"psycopg2-binary": "pyproject.toml group 'dev'", "pymysql": "pyproject.toml"}
    assert code.backing_services(plain, dev_only, []).value == ["mariadb"]
    search = write_tree(tmp_path / "search", {"s.py": "URL = 'mongodb+srv://x/db'\n"})
    found = code.backing_services(search, {"elasticsearch-dsl": "requirements.txt"}, [])
    assert found == detect.Found(
        ["mongodb", "elasticsearch"],
        "a mongodb URL or backend in the code; elasticsearch-dsl in requirements.txt",
    )


def test_the_modules_to_import_when_no_app_was_read(tmp_path: Path) -> None:
    """A subclass of Flask is no `Flask(...)` call: verify imports the modules naming flask."""
    write_tree(
        tmp_path,
        {
            "shop/__init__.py": "from flask import Flask\nclass Shop(Flask): ...\napp = Shop('x')\n",
            "shop/views/orders.py": "import flask.views\n",
            "shop/util.py": "import os\n",
            "wsgi.py": "from shop import app\n",
            "tests/test_shop.py": "from flask import Flask\n",
        },
    )
    kind, app = code.framework(tmp_path, {"flask": "requirements.txt"})
    assert (kind.value, app.value) == ("flask", "")
    assert code.framework_modules(tmp_path, "flask") == ["shop", "shop.views.orders"]
    assert code.framework_modules(tmp_path, "fastapi") == []


def test_a_variable_compared_with_a_services_name_switches_to_it(tmp_path: Path) -> None:
    """SQLite unless DB == "postgres": with PostgreSQL in the stack, DB is set, or it goes unused."""
    root = write_tree(
        tmp_path,
        {
            "requirements.txt": "django==6.0\npsycopg==3.3\n",
            "manage.py": "",
            "site/settings.py": (
                "import os\n"
                "if os.getenv('DB') == 'postgres':\n    pass\n"
                "if os.getenv('DB') in ['mysql', 'mariadb']:\n    pass\n"
                "if os.environ.get('MODE', 'x') != 'prod':\n    pass\n"
                "HOST = os.getenv('EMAIL_HOST_USER', '')\n"
            ),
        },
    )
    assert variables.compared_values(root) == {
        "DB": ["postgres", "mysql", "mariadb"],
        "MODE": ["prod"],
    }
    found = findings.findings(root)
    assert found["environment"].value["DB"] == "postgres"
    assert "EMAIL_HOST_USER" in found["optional-env"].value  # "" is what unset gives
    assert "EMAIL_HOST_USER" not in found["env"].value


def test_a_settings_field_compared_with_a_services_name_switches_to_it(tmp_path: Path) -> None:
    """Mealie's DB_ENGINE: a pydantic field defaulting to sqlite, compared as settings.DB_ENGINE."""
    root = write_tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "recipes"\nversion = "1"\n'
                'dependencies = ["fastapi", "pydantic-settings", "psycopg2-binary", "sqlalchemy"]\n'
            ),
            "recipes/settings.py": (
                "from pydantic_settings import BaseSettings\n\n\n"
                "class AppSettings(BaseSettings):\n"
                '    DB_ENGINE: str = "sqlite"\n'
                '    DATABASE_URL: str = "sqlite:///x.db"\n'
            ),
            "recipes/backup.py": (
                "def dump(settings):\n"
                '    if settings.DB_ENGINE == "sqlite":\n        return 1\n'
                '    elif settings.DB_ENGINE == "postgres":\n        return 2\n'
                '    if settings.other == "postgres":\n        return 3\n'
            ),
        },
    )
    assert variables.compared_values(root, ["DB_ENGINE"]) == {"DB_ENGINE": ["sqlite", "postgres"]}
    assert variables.compared_values(root) == {}
    found = findings.findings(root)
    assert "postgres" in found["services"].value
    assert found["environment"].value["DB_ENGINE"] == "postgres"
