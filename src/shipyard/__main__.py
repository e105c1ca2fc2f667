"""``python -m shipyard`` (or ``shipyard``): the CI entry points without nox or invoke.

``shipyard docker-test [PYTEST ARGS...]`` exits with pytest's own status;
``shipyard gc [--dry]`` reaps what dead test runs left; ``shipyard init [PATH]
[--dry-run] [--force] [--no-verify]`` adopts an existing project (no stack
needed), then checks its guesses in the test image and mends the settings where
the failure says the fix; ``shipyard verify [PATH]`` checks them again. Errors
end as ``ERROR``/``TIP`` lines and an exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from shipyard import __version__
from shipyard.adopt import code, mend, plan, render
from shipyard.core import edge
from shipyard.core.errors import ConfigError, EngineError
from shipyard.core.process import SubprocessRunner, sigterm_as_interrupt
from shipyard.core.workspace import open_workspace
from shipyard.env.environment import resolve
from shipyard.testing import testrun
from shipyard.testing import verify as checks

MENDS = 5  # settings init mends by itself before the failure is the user's


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
        "--no-verify",
        dest="verify",
        action="store_false",
        help="do not check the guesses in the test image (no build, no stack)",
    )
    init.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)  # the default
    verify = commands.add_parser(
        "verify", help="check init's guesses in the image: the app imports, the tests collect"
    )
    verify.add_argument("path", nargs="?", default=".", help="the project's folder (default: .)")
    return parser


def _adopt(root: Path, *, dry: bool, force: bool, verify: bool) -> None:
    """Init, then verify; mend a setting and try again while a failure says the fix."""
    plan.init(root, dry=dry, force=force, say=print)
    if dry or not verify:
        return
    for _ in range(MENDS):
        try:
            print(_verify(root))
        except EngineError as down:  # the files are written: only the check waits
            raise EngineError(
                f"init wrote its files; checking them in the image needs the engine: "
                f"{down.message}",
                details=down.details,
                tip=f"{down.tip}; then 'shipyard verify {root}' (or 'shipyard init "
                "--no-verify' to write without the check)",
            ) from None
        except checks.NotVerified as failed:
            chosen = {key: found.value for key, found in plan.choose(root)[1].items()}
            fix = mend.diagnose(root, failed.stage, failed.output, chosen)
            if fix is None:
                raise
            print(f"mended: {fix.line(mend.apply(root, fix))}  ({fix.reason})")
            plan.init(root, dry=False, force=True, say=lambda _: None)
        else:
            return
    print(_verify(root))  # the last failure is the user's to fix


def _verify(root: Path) -> str:
    """Check an adopted project's guesses in its test image; return what was proven."""
    if not (root / "compose/docker-compose.yml").is_file():
        raise ConfigError(
            f"nothing to verify in {root}: shipyard init has not written compose/ there",
            tip=f"run 'shipyard init {root}' (it verifies as it ends)",
        )
    adoption, _, _ = plan.choose(root)
    ws = open_workspace(SubprocessRunner(brief=True), start=root)  # a build's steps, not its log
    ws.require_engine()
    unknown = adoption.framework != "none" and not adoption.app
    settings = f"the init settings in {adoption.settings_file}"
    return checks.verify(
        ws,
        resolve(ws, ws.stack.test_env),
        app=adoption.app,
        prepare="" if render.tests_skip_prepare(adoption) else adoption.prepare,
        settings=settings,
        find_app=(adoption.framework, code.framework_modules(root, adoption.framework))
        if unknown
        else None,
        collect=bool(re.search(r"\bpy\.?test\b", adoption.test_command)),
        runner=checks.runner_check(adoption.test_command, settings),
    )


def run(argv: Sequence[str]) -> int:
    """Run one command; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "init":  # before any stack exists: no workspace
        _adopt(Path(args.path).resolve(), dry=args.dry_run, force=args.force, verify=args.verify)
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
