from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shipyard.core.config import load_stack
from shipyard.core.errors import EnvFileError
from shipyard.env import envfiles


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_values_keep_their_file_and_line(tmp_path: Path) -> None:
    """Each value remembers where it was set."""
    path = write_bytes(tmp_path / ".env", b"# comment\nA=1\n\nB='two words'\n")
    values = envfiles.read_env_file(path)
    assert {k: (v.value, v.line) for k, v in values.items()} == {
        "A": ("1", 2),
        "B": ("two words", 4),
    }
    assert values["B"].source == f"{path}:4"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"export A=1\n", {"A": "1"}, id="export-prefix"),
        pytest.param(b"\xef\xbb\xbfA=1\nB=2\n", {"A": "1", "B": "2"}, id="utf8-bom"),
        pytest.param(b"A=1\r\nB=2\r\n", {"A": "1", "B": "2"}, id="crlf-windows"),
        pytest.param(b'A="multi\nline"\n', {"A": "multi\nline"}, id="quoted-newline"),
        pytest.param(b"A=\n", {"A": ""}, id="empty-value"),
    ],
)
def test_accepted_forms(tmp_path: Path, data: bytes, expected: dict[str, str]) -> None:
    """What shells and Windows editors write is read as the user meant."""
    values = envfiles.read_env_file(write_bytes(tmp_path / ".env", data))
    assert {k: v.value for k, v in values.items()} == expected


@pytest.mark.parametrize(
    ("data", "line", "snippet"),
    [
        pytest.param(b"A=1\nKEY VALUE\n", 2, "'KEY VALUE'", id="missing-equals"),
        pytest.param(b'A="unterminated\nB=2\n', 1, "'A=\"unterminated'", id="unterminated-quote"),
        pytest.param(
            b"\xef\xbb\xbfA=1\r\nnot a line\r\n", 2, "'not a line'", id="bom-crlf-bad-line"
        ),
    ],
)
def test_malformed_lines_are_reported_with_file_and_line(
    tmp_path: Path, data: bytes, line: int, snippet: str
) -> None:
    """A line that is not KEY=value is named with its number, not skipped silently."""
    path = write_bytes(tmp_path / ".env.dev", data)
    with pytest.raises(EnvFileError) as caught:
        envfiles.read_env_file(path)
    assert caught.value.message == f"{path} has 1 line(s) that are not KEY=value"
    assert caught.value.details == f"{path}:{line}: cannot parse {snippet}"


def test_every_malformed_line_is_reported(tmp_path: Path) -> None:
    """All problems at once, not one per run."""
    path = write_bytes(tmp_path / ".env", b"ONE TWO\nA=1\nTHREE FOUR\n")
    with pytest.raises(EnvFileError) as caught:
        envfiles.read_env_file(path)
    assert caught.value.details.splitlines() == [
        f"{path}:1: cannot parse 'ONE TWO'",
        f"{path}:3: cannot parse 'THREE FOUR'",
    ]


def test_not_utf8(tmp_path: Path) -> None:
    """A file in another encoding says so."""
    path = write_bytes(tmp_path / ".env", b"A=caf\xe9\n")
    with pytest.raises(EnvFileError, match="is not UTF-8 text"):
        envfiles.read_env_file(path)


def test_layering_later_file_wins_with_provenance(project: Path) -> None:
    """.env.dev.local overrides .env.dev, and each value says which file won."""
    (project / "env/.env.dev").write_text("A=base\nB=base\n")
    (project / "env/.env.dev.local").write_text("B=local\n")
    stack = load_stack()
    files = envfiles.layer_files(stack, "dev")
    assert files == [project / "env/.env.dev", project / "env/.env.dev.local"]
    merged = envfiles.layered(files)
    assert {k: (v.value, v.path.name) for k, v in merged.items()} == {
        "A": ("base", ".env.dev"),
        "B": ("local", ".env.dev.local"),
    }


def test_missing_dev_file_is_created_from_the_example(project: Path) -> None:
    """First use copies the contract, readable by the owner only."""
    target, notice = envfiles.ensure_env_file(load_stack(), "dev")
    assert target == project / "env/.env.dev"
    assert target.read_text() == (project / "env/.env.example").read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert notice == (
        f"created {target} from {project / 'env/.env.example'} with fresh random secrets: "
        "edit it to change local settings"
    )


def test_secret_marker_and_generated_values(project: Path) -> None:
    """`# @secret` right above a key marks it; a blank line breaks the marker; values are fresh."""
    (project / "env/.env.example").write_text(
        "# the database user\nUSER=demo\n# @secret: database password\n# (any text)\n"
        "PASSWORD=change-me\n# @secret\n\nNOT_SECRET=x\n"
    )
    template = envfiles.parse_env_file(project / "env/.env.example")
    assert template.secrets == {"PASSWORD"}
    target, _ = envfiles.ensure_env_file(load_stack(), "dev")
    first = envfiles.read_env_file(target)
    assert first["USER"].value == "demo"
    assert first["NOT_SECRET"].value == "x"
    assert first["PASSWORD"].value != "change-me"
    assert len(first["PASSWORD"].value or "") == 32
    assert target.read_text().splitlines()[:4] == [
        "# the database user",
        "USER=demo",
        "# @secret: database password",
        "# (any text)",
    ]
    target.unlink()
    envfiles.ensure_env_file(load_stack(), "dev")
    assert envfiles.read_env_file(target)["PASSWORD"].value != first["PASSWORD"].value


def test_duplicates_are_recorded(tmp_path: Path) -> None:
    """A key set twice is kept (the last wins) and reported with both lines."""
    path = tmp_path / ".env"
    path.write_text("A=1\nB=2\nA=3\n")
    parsed = envfiles.parse_env_file(path)
    assert parsed.values["A"].value == "3"
    assert parsed.duplicates == (("A", 1, 3),)


def test_existing_file_is_never_overwritten(project: Path) -> None:
    """An existing env file is kept as it is."""
    (project / "env/.env.dev").write_text("MINE=1\n")
    _, notice = envfiles.ensure_env_file(load_stack(), "dev")
    assert notice is None
    assert (project / "env/.env.dev").read_text() == "MINE=1\n"


def test_dry_run_creates_nothing(project: Path) -> None:
    """Under --dry the notice is given but no file is written."""
    _, notice = envfiles.ensure_env_file(load_stack(), "test", dry=True)
    assert notice is not None
    assert not (project / "env/.env.test").exists()


def test_environment_with_its_own_template_is_not_copied(project: Path) -> None:
    """Prod has .env.prod.example: a person must fill it in."""
    with pytest.raises(EnvFileError) as caught:
        envfiles.ensure_env_file(load_stack(), "prod")
    assert caught.value.message == f"{project / 'env/.env.prod'} does not exist"
    assert caught.value.tip == (
        f"copy {project / 'env/.env.prod.example'} to {project / 'env/.env.prod'} "
        "and replace every placeholder in it"
    )
    assert not (project / "env/.env.prod").exists()


def test_no_example_to_copy(project: Path) -> None:
    """Without the contract there is nothing to copy; the error says what to create."""
    (project / "env/.env.example").unlink()
    with pytest.raises(EnvFileError, match=r"there is no .*\.env\.example to create it from"):
        envfiles.ensure_env_file(load_stack(), "dev")


def test_broken_example_is_not_copied(project: Path) -> None:
    """A malformed contract is reported before it spreads."""
    (project / "env/.env.example").write_text("BROKEN LINE\n")
    with pytest.raises(EnvFileError, match="not KEY=value"):
        envfiles.ensure_env_file(load_stack(), "dev")
    assert not (project / "env/.env.dev").exists()


def test_prose_that_mentions_the_marker_marks_nothing(tmp_path: Path) -> None:
    """The reference prod template's header says "every @secret value": USER stays itself."""
    template = write_bytes(
        tmp_path / ".env.prod.example",
        b"# `inv env-init` generates every @secret value.\nUSER=demo\n"
        b"#   @secret: a random value\nPASSWORD=<generated>\n",
    )

    assert envfiles.parse_env_file(template).secrets == {"PASSWORD"}
