"""What init says it could not settle: here, another version of a service than the project's."""

from __future__ import annotations

from pathlib import Path

from shipyard.adopt import notes
from tests.unit.conftest import write_tree

OURS = "services:\n  db:\n    image: postgres:17\n  redis:\n    image: redis:8\n"


def test_the_projects_own_postgres_version_is_named_when_it_differs(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "docker-compose.yml": (
                "services:\n  db:\n    image: postgres:15\n  cache:\n    image: redis:8-alpine\n"
                "  mysql:\n    image: mysql/mysql-server:5.7\n"
            )
        },
    )
    said: list[str] = []
    notes.other_versions(tmp_path, OURS, said.append)
    assert said == [
        "  note: docker-compose.yml: db runs postgres:15; compose/docker-compose.yml runs "
        "postgres:17 (change its image: line to keep the project's version: a data volume one "
        "major version made does not open in another)"
    ]  # redis 8 is 8; MySQL 5.7 is no MariaDB version
