"""Sessions for this project (`nox -l`); the bodies live in shipyard."""

from __future__ import annotations

import nox

from shipyard import sessions

nox.options.sessions = ["docker-test"]


@nox.session(name="docker-build", python=False)
def docker_build(session: nox.Session) -> None:
    """Build the images of the environments given as arguments, or of every environment."""
    sessions.docker_build(session)


@nox.session(name="docker-test", python=False)
def docker_test(session: nox.Session) -> None:
    """Build the images and run the test suite inside the test image against a throwaway stack."""
    sessions.docker_test(session)
