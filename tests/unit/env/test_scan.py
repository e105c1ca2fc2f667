from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from shipyard.env import scan

CANARY = b"canary-7f3e1a9c"


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_save_archive(path: Path, layers: dict[str, dict[str, bytes]], config: bytes) -> None:
    """Write an archive shaped like `docker save`: a config, a manifest, layer tars."""
    files = {"manifest.json": b'[{"Config": "abc.json"}]', "abc.json": config}
    files.update({f"{name}/layer.tar": tar_bytes(content) for name, content in layers.items()})
    path.write_bytes(tar_bytes(files))


def test_finds_values_in_config_layer_files_and_file_names(tmp_path: Path) -> None:
    """Each place a secret can hide in a saved image is searched."""
    archive = tmp_path / "image.tar"
    write_save_archive(
        archive,
        layers={
            "l1": {"app/settings.py": b"TOKEN = '" + CANARY + b"'\n", "etc/clean": b"nothing"},
            "l2": {f"tmp/{CANARY.decode()}.txt": b"x"},
        },
        config=b'{"config": {"Env": ["TOKEN=' + CANARY + b'"]}}',
    )
    hits = scan.scan_archive(archive, {"TOKEN": CANARY})
    assert sorted(hits) == [
        ("TOKEN", "abc.json"),
        ("TOKEN", "layer l1/layer.tar: app/settings.py"),
        ("TOKEN", f"layer l2/layer.tar: the name of tmp/{CANARY.decode()}.txt"),
    ]


def test_clean_archive_has_no_hits(tmp_path: Path) -> None:
    """No value present: nothing found (the scanner does not cry wolf)."""
    archive = tmp_path / "image.tar"
    write_save_archive(archive, layers={"l1": {"a": b"hello"}}, config=b"{}")
    assert scan.scan_archive(archive, {"TOKEN": CANARY}) == []


def test_value_split_across_chunks_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that straddles two read chunks is still seen."""
    monkeypatch.setattr(scan, "CHUNK", 8)
    stream = io.BytesIO(b"0123456" + CANARY + b"tail")
    assert scan.find_in_stream(stream, {"TOKEN": CANARY, "OTHER": b"absent-value"}) == {"TOKEN"}
