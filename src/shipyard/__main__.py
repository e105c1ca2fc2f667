"""``python -m shipyard`` (or ``shipyard``): the CI entry points without nox or invoke.

``shipyard docker-test [PYTEST ARGS...]`` exits with pytest's own status;
``shipyard gc [--dry]`` reaps what dead test runs left; ``shipyard init [PATH]
[--dry-run] [--force] [--verify]`` adopts an existing project (no stack needed);
``shipyard verify [PATH]`` checks its guesses in the test image. Errors end as
``ERROR``/``TIP`` lines and an exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shipyard import __version__
from shipyard.adopt import plan
from shipyard.core import edge
from shipyard.core.errors import ConfigError
from shipyard.core.process import SubprocessRunner, sigterm_as_interrupt
from shipyard.core.workspace import open_workspace
from shipyard.env.environment import resolve
from shipyard.testing import testrun
from shipyard.testing import verify as checks


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipyard", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"shipyard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    test = commands.add_parser("docker-test", help="run the service's tests inside the test image")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    gc = commands.add_parser("gc", help="remove what dead test runs left behind")
    gc.add_argument("--dry", action="store_true", help="only list what would be removed")
    init = commands.add_parser(
        "init", help="adopt an existing project: Dockerfile, compose/, env/, tasks, sessions"
    )
    init.add_argument("path", nargs="?", default=".", help="the project's folder (default: .)")
    init.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    init.add_argument("--force", action="store_true", help="replace files that differ")
    init.add_argument(
        "--verify", action="store_true", help="then check the guesses in the image (as verify)"
    )
    verify = commands.add_parser(
        "verify", help="check init's guesses in the image: the app imports, the tests collect"
    )
    verify.add_argument("path", nargs="?", default=".", help="the project's folder (default: .)")
    return parser


def _verify(root: Path) -> str:
    """Check an adopted project's guesses in its test image; return what was proven."""
    if not (root / "compose/docker-compose.yml").is_file():
        raise ConfigError(
            f"nothing to verify in {root}: shipyard init has not written compose/ there",
            tip=f"run 'shipyard init --verify {root}'",
        )
    adoption, _, _ = plan.choose(root)
    ws = open_workspace(SubprocessRunner(), start=root)
    ws.require_engine()
    return checks.verify(
        ws,
        resolve(ws, ws.stack.test_env),
        app=adoption.app if adoption.serves else "",
        prepare=adoption.prepare,
        settings=f"the init settings in {adoption.settings_file}",
    )


def run(argv: Sequence[str]) -> int:
    """Run one command; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "init":  # before any stack exists: no workspace
        plan.init(Path(args.path).resolve(), dry=args.dry_run, force=args.force, say=print)
        if args.verify and not args.dry_run:
            print(_verify(Path(args.path).resolve()))
        return 0
    if args.command == "verify":
        print(_verify(Path(args.path).resolve()))
        return 0
    ws = open_workspace(SubprocessRunner())
    if args.command == "docker-test":
        ws.require_engine()  # before the test env file is made on first use
        environment = resolve(ws, ws.stack.test_env)
        return testrun.docker_test(ws, environment, [a for a in args.pytest_args if a != "--"])
    print("\n".join(testrun.collect_garbage(ws, dry=args.dry)) or "nothing to remove")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command through the one error edge; return the exit status."""
    try:
        with sigterm_as_interrupt():
            return run(sys.argv[1:] if argv is None else argv)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one edge
        message, code = edge.outcome(exc, SubprocessRunner(echo=False))
        edge.say(message)
        return code


if __name__ == "__main__":
    sys.exit(main())
