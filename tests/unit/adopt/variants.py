"""Adoptions that between them take every branch of every template of `shipyard init`."""

from __future__ import annotations

import itertools

from shipyard.adopt import render


def variants() -> list[render.Adoption]:
    """Return adoptions that between them take every branch of every template."""
    out = []
    kinds = itertools.product(
        ["uv", "poetry", "pip"],
        ["fastapi", "litestar", "flask", "django", "none"],
        [
            (),
            ("postgres",),
            ("redis",),
            ("postgres", "redis"),
            ("mariadb", "rabbitmq", "memcached", "mongodb", "elasticsearch"),
        ],
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
                test_setup=("touch app/local.py", "mkdir -p media") if on[2] else (),
                workspace=("packages/lib", "packages/other") if on[3] else (),
                writable=("logs/", "instance/app.db", "app.log") if on[3] else (),
                workers={"worker": "celery -A app worker", "beat": "celery -A app beat"}
                if on[4]
                else {},
                declared=("flask>=3", "setuptools>=61") if toolchain == "pip" and on[1] else (),
                declared_test=("pytest>=8",) if toolchain == "pip" and on[1] else (),
                declared_build=toolchain == "pip" and on[1] and on[2],
            )
        )
    return out
