"""A rolling update under load on a one-node swarm: requests sent, failed, and how long it took.

Usage: .venv/bin/python bench/rolling.py [--seconds N]

On a private, committed copy of the reference stack with its own registry:2
(127.0.0.1 only): ``inv deploy`` the prod stack, then, while four threads GET
/health through the proxy's published port back to back (bounded: at most
20,000 requests and N seconds, default 240, per phase), deploy

1. a new image version (shipyard's defaults: two API replicas, start-first,
   nginx retrying another replica);
2. a version whose health check fails (Swarm rolls it back by itself);
3. side by side, the naive setup many teams start from: one API replica,
   ``order: stop-first`` (set in the copy's prod overlay), a new version.

The swarm is initialised only if the engine is not one already and left as
it was found; everything the run created is removed. Paste the printed
table into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.realstack import committed_copy, docker, local_registry
from tests.integration.swarmload import (
    FAILING_HEALTH,
    NEXT_VERSION,
    Deployment,
    Load,
    load,
    new_version,
    one_node_swarm,
    prepare,
    remove_stack,
    running_digest,
)

ONE_STOP_FIRST = (
    "      replicas: 2\n",
    "      replicas: 1\n      update_config: {order: stop-first}\n",
)


def deploy_under_load(deployment: Deployment, seconds: float) -> tuple[Load, float, int]:
    """Run `inv deploy` while the load runs; return the load, the deploy's seconds, its exit."""
    with load(deployment.port, seconds=seconds) as measured:
        time.sleep(1)  # the load is flowing before the update starts
        start = time.monotonic()
        done = deployment.copy.run("inv", "deploy", env=deployment.env)
        took = time.monotonic() - start
        time.sleep(1)
    return measured, took, done.returncode


def row(name: str, measured: Load, took: float, code: int) -> str:
    """Return one table row."""
    reasons = ", ".join(f"{k} {v}" for k, v in measured.reasons.items()) or "-"
    return (
        f"| {name} | {measured.sent} | {measured.failed} ({reasons}) | "
        f"{took:.1f} s | {code} | {measured.sent / measured.seconds:.0f}/s |"
    )


def expect(deployment: Deployment, digest: str, problem: str) -> None:
    """Stop the run unless the API runs ``digest``."""
    if running_digest(f"{deployment.stack}_api") != digest:
        raise SystemExit(problem)


def main() -> None:
    """Measure the three updates on a private copy; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240)
    seconds = parser.parse_args().seconds
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with committed_copy(work) as copy, local_registry(work) as registry:
            deployment = prepare(copy, registry)
            with one_node_swarm():
                try:
                    start = time.monotonic()
                    first = copy.run("inv", "deploy", env=deployment.env)
                    if first.returncode:
                        raise SystemExit(first.stderr[-3000:])
                    print(f"first deploy: {time.monotonic() - start:.1f} s", flush=True)

                    new = new_version(deployment.api_ref, NEXT_VERSION, work / "next")
                    rolled = deploy_under_load(deployment, seconds)
                    expect(deployment, new, "the new version is not running")
                    rows.append(row("new version, shipyard defaults", *rolled))
                    print(rows[-1], flush=True)

                    new_version(deployment.api_ref, FAILING_HEALTH, work / "failing")
                    failing = deploy_under_load(deployment, seconds)
                    expect(deployment, new, "the failing version was not rolled back")
                    rows.append(row("failing health check, rolled back", *failing))
                    print(rows[-1], flush=True)

                    # :prod back to the good version, then the naive settings alone.
                    good = f"{deployment.api_ref.rsplit(':', 1)[0]}@{new}"
                    docker("pull", "--quiet", good)
                    docker("tag", good, deployment.api_ref)
                    docker("push", "--quiet", deployment.api_ref)
                    overlay = copy.root / "compose/docker-compose.prod.yml"
                    overlay.write_text(overlay.read_text().replace(*ONE_STOP_FIRST))
                    naive_setup = copy.run("inv", "deploy", env=deployment.env)
                    if naive_setup.returncode:
                        raise SystemExit(naive_setup.stderr[-3000:])
                    new_version(deployment.api_ref, NEXT_VERSION + "LABEL n=2\n", work / "n")
                    naive = deploy_under_load(deployment, seconds)
                    rows.append(row("new version, 1 replica, stop-first", *naive))
                    print(rows[-1], flush=True)
                finally:
                    remove_stack(deployment.stack)
    print()
    print("| update | requests | failed | deploy took | exit | rate |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
