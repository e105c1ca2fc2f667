"""The CI pipelines ``shipyard init`` writes: GitHub Actions and GitLab CI, as the project uses.

Both run what a developer runs, in the same words: ``nox -s lint`` and
``nox -s docker-test`` (the suite in the test image, results in
``results/``), then on the default branch ``inv push`` and ``inv promote``
when a registry is named. On GitHub the layer cache is the Actions cache
(``cache-ref = "type=gha"``, one scope per image, the runtime token exposed
to the step that runs nox); on GitLab a registry cache when the job can log
in to the project's registry. Actions are pinned to full commit SHAs.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from shipyard.adopt.detect import Found

CI_SYSTEMS = ("github", "gitlab")
# The Python that runs shipyard on a runner (it needs 3.11 or later); the
# project's own Python is its images', whatever this is.
RUNNER_PYTHON = "3.12"
# Each action at the release it is pinned to: (commit, tag), the tag for people.
ACTIONS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "crazy-max/ghaction-github-runtime": ("04d248b84655b509d8c44dc1d6f990c879747487", "v4.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}


def uses(action: str) -> str:
    """Return the ``uses:`` value of ``action``: pinned to its commit, its tag in a comment."""
    commit, tag = ACTIONS[action]
    return f"{action}@{commit} # {tag}"


def ci_systems(root: Path) -> Found:
    """Return the CI systems the project uses (GitHub Actions when it has none yet)."""
    github = sorted((root / ".github/workflows").glob("*.y*ml"))
    gitlab = (root / ".gitlab-ci.yml").is_file()
    found = ["github"] * bool(github) + ["gitlab"] * gitlab
    if not found:
        return Found(["github"], "no CI found: GitHub Actions (set [] for none, or gitlab)")
    where = [p.relative_to(root).as_posix() for p in github] + [".gitlab-ci.yml"] * gitlab
    return Found(found, ", ".join(where))


def default_branch(root: Path) -> Found:
    """Return the branch pushes to which run the pipeline and release (the remote's default)."""
    for path, prefix in (
        (root / ".git/refs/remotes/origin/HEAD", "ref: refs/remotes/origin/"),
        (root / ".git/HEAD", "ref: refs/heads/"),
    ):
        text = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
        if text.startswith(prefix):
            where = "origin's default branch" if "origin" in prefix else "the checked-out branch"
            return Found(text.removeprefix(prefix), where)
    return Found("main", "no git checkout: main")


def shipyard_install() -> Found:
    """Return what CI pip-installs for shipyard: where this shipyard was installed from."""
    try:
        dist = metadata.distribution("shipyard")
    except metadata.PackageNotFoundError:  # pragma: no cover - shipyard runs this
        return Found("shipyard", "shipyard's package name")
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    url = str(origin.get("url", ""))
    vcs = origin.get("vcs_info") or {}
    if vcs and url:
        pinned = f"{url}@{vcs['commit_id']}" if vcs.get("commit_id") else url
        return Found(f"shipyard @ {vcs.get('vcs', 'git')}+{pinned}", "this shipyard's source")
    if url and not url.startswith("file:"):
        return Found(f"shipyard @ {url}", "this shipyard's archive")
    if url:
        return Found(
            "shipyard",
            "this shipyard is installed from a local folder, which CI cannot reach: "
            "the package name (set a URL CI can install from)",
        )
    return Found(f"shipyard=={dist.version}", "this shipyard's release")


def findings(root: Path) -> dict[str, Found]:
    """Return the init settings of the pipelines: which systems, shipyard's install, the branch."""
    return {
        "ci": ci_systems(root),
        "ci-install": shipyard_install(),
        "ci-branch": default_branch(root),
    }
