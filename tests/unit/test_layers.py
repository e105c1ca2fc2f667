"""The house's shape: wings on floors, imports only downwards, no cycle, no oversized room."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests.unit.conftest import write_tree

SRC = Path(__file__).resolve().parents[2] / "src"
# Each wing and its floor: a module imports its own wing or a lower floor, never
# a sibling on the same floor (testing, adopt and deploy stay independent).
FLOORS = {
    "core": 0,
    "env": 1,
    "stack": 2,
    "testing": 3,
    "adopt": 3,
    "deploy": 3,
    "tasks": 4,
    "sessions": 4,
    "__main__": 4,
}
MAX_LINES = 500


def modules(src: Path, package: str = "shipyard") -> dict[str, Path]:
    """Return every module of ``package`` under ``src`` by dotted name."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    """Yield the package's modules ``path`` imports: statements anywhere, and ``lazy("...")``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in known else node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "lazy"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def wing(module: str) -> str:
    """Return the wing a module belongs to (``shipyard`` itself: the ground)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "core"


def graph(src: Path, package: str = "shipyard") -> dict[str, set[str]]:
    """Return each module's imports of other modules of the package."""
    known = modules(src, package)
    return {
        name: {m for m in imports(path, known) if m in known and m != name}
        for name, path in known.items()
    }


def upward(edges: Mapping[str, set[str]]) -> list[str]:
    """Return every import that runs to a higher floor or across to a sibling wing."""
    wrong = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            here, there = wing(module), wing(target)
            if here == there or target == "shipyard":
                continue
            if FLOORS[there] >= FLOORS[here]:
                wrong.append(f"{module} -> {target}")
    return wrong


def cycle(edges: Mapping[str, set[str]]) -> list[str]:
    """Return one import cycle (its first module again at the end), or nothing."""
    try:
        tuple(TopologicalSorter(edges).static_order())
    except CycleError as error:
        return list(error.args[1])
    return []


def test_every_wing_is_on_a_floor() -> None:
    """Each subpackage and front end of shipyard is a wing the layering knows."""
    wings = {wing(m) for m in modules(SRC)}
    assert wings <= set(FLOORS)
    assert {"core", "env", "stack", "testing", "adopt", "deploy", "tasks"} <= wings


def test_no_import_runs_up_or_across() -> None:
    """Front ends -> testing/adopt/deploy -> stack -> env -> core: never the other way."""
    assert upward(graph(SRC)) == []


def test_no_import_cycle() -> None:
    """No two modules import each other, directly or around a ring."""
    assert cycle(graph(SRC)) == []


def test_no_module_is_oversized() -> None:
    """Every module stays under 500 lines: a bigger room is two rooms."""
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules(SRC).items()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


@pytest.mark.parametrize(
    ("files", "wrong"),
    [
        (
            {"shipyard/core/errors.py": "from shipyard.stack import health\n"},
            ["shipyard.core.errors -> shipyard.stack.health"],
        ),
        (
            {"shipyard/env/envfiles.py": "from shipyard.stack.health import wait\n"},
            ["shipyard.env.envfiles -> shipyard.stack.health"],
        ),
        (
            {"shipyard/deploy/swarm.py": "from shipyard.testing import runs\n"},
            ["shipyard.deploy.swarm -> shipyard.testing.runs"],
        ),
        (
            {"shipyard/stack/builds.py": 'tasks = lazy("shipyard.tasks.images")\n'},
            ["shipyard.stack.builds -> shipyard.tasks.images"],
        ),
        (
            {"shipyard/stack/builds.py": "def f():\n    from shipyard.core import errors\n"},
            [],
        ),
    ],
    ids=["core-to-stack", "env-to-stack", "sibling-wings", "lazy-upward", "downward-ok"],
)
def test_the_checker_sees_an_upward_import(
    tmp_path: Path, files: dict[str, str], wrong: list[str]
) -> None:
    """The walk finds upward and sideways imports in a package built to have them."""
    base = {
        "shipyard/__init__.py": "",
        "shipyard/core/__init__.py": "",
        "shipyard/core/errors.py": "",
        "shipyard/env/__init__.py": "",
        "shipyard/env/envfiles.py": "",
        "shipyard/stack/__init__.py": "",
        "shipyard/stack/health.py": "",
        "shipyard/stack/builds.py": "",
        "shipyard/testing/__init__.py": "",
        "shipyard/testing/runs.py": "",
        "shipyard/deploy/__init__.py": "",
        "shipyard/deploy/swarm.py": "",
        "shipyard/tasks/__init__.py": "",
        "shipyard/tasks/images.py": "",
    }
    root = write_tree(tmp_path, base | files)
    assert upward(graph(root)) == wrong


def test_the_checker_sees_a_cycle(tmp_path: Path) -> None:
    """A ring of imports inside one wing is a cycle, however long."""
    root = write_tree(
        tmp_path,
        {
            "shipyard/__init__.py": "",
            "shipyard/stack/__init__.py": "",
            "shipyard/stack/a.py": "from shipyard.stack import b\n",
            "shipyard/stack/b.py": "from shipyard.stack.c import x\n",
            "shipyard/stack/c.py": "import shipyard.stack.a\n",
            "shipyard/stack/d.py": "from shipyard.stack import a\n",
        },
    )
    ring = cycle(graph(root))
    assert ring[0] == ring[-1]
    assert set(ring) == {"shipyard.stack.a", "shipyard.stack.b", "shipyard.stack.c"}
