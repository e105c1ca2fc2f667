"""Sessions for shipyard and its reference stack (`nox -l`); the bodies live in shipyard."""

from __future__ import annotations

import nox

from shipyard import sessions

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_external_run = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run shipyard's unit tests."""
    sessions.install_dev(session)
    session.run("pytest", "tests/unit", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff, mypy, zizmor, hadolint, and the stack rules: compose, secrets, env files."""
    sessions.install_dev(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    # Offline: the audits that ask GitHub's API (impostor commits) need a network.
    session.run("zizmor", "--offline", "--persona=pedantic", "--no-progress", ".github/workflows")
    sessions.lint_stack(session)


@nox.session(name="docker-build", python=False)
def docker_build(session: nox.Session) -> None:
    """Build the images of the environments given as arguments, or of every environment."""
    sessions.docker_build(session)


@nox.session(name="docker-test", python=False, default=False)
def docker_test(session: nox.Session) -> None:
    """Build the test image and run the service's tests inside it against a throwaway stack."""
    sessions.docker_test(session)


@nox.session(default=False)
def integration(session: nox.Session) -> None:
    """Run shipyard's real-engine tests (they build images and start stacks)."""
    sessions.install_dev(session)
    session.run("pytest", "tests/integration", *session.posargs)
