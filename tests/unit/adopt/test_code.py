"""What init finds in a project's code: the app object, the variables it reads."""

from __future__ import annotations

from pathlib import Path

from shipyard.adopt import code, detect
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
    assert code.env_reads(tmp_path) == [
        code.EnvRead("API_TOKEN", None, "app/config.py:2"),
        code.EnvRead("DATABASE_URL", None, "app/config.py:10", optional=True),
        code.EnvRead("LOG_LEVEL", "info", "app/config.py:3"),
        code.EnvRead("REDIS_HOST", "localhost", "app/config.py:8"),
        code.EnvRead("SENTRY_DSN", None, "app/config.py:6", optional=True),
        code.EnvRead("WORKERS", "4", "app/config.py:4"),
    ]
