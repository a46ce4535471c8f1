"""Publishing ``ixp rs build``: every route server's file changes, or none does.

The failures here are real ones (a directory in the way, a read-only mount, a full
file system, paths under /proc), never simulated: after each, every file in the
output directory must be what it was, byte for byte, with no temporary file left,
and the error must be one line naming ``out`` and the path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ixp.cli.main import app
from ixp.errors import ValidationError
from ixp.rs.build import build
from ixp.settings import Settings
from tests.rs.birdtools import needs_bird

pytestmark = needs_bird

# A policy change that alters every route server's configuration: the next generation.
NEXT_GENERATION = {"rs_max_as_path_length": 20}


def _contents(out: Path) -> dict[str, bytes | list[str]]:
    """Every entry of ``out``: a file's bytes, a directory's listing (hidden files included)."""
    return {
        entry.name: sorted(os.listdir(entry)) if entry.is_dir() else entry.read_bytes()
        for entry in out.iterdir()
    }


def _mount(*args: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root and mount(8) for a read-only file system")
    subprocess.run(["mount", *args], check=True, capture_output=True)


@contextmanager
def mounted(target: Path, *args: str) -> Iterator[Path]:
    """``mount ARGS TARGET`` for the duration of the block; unmounted even on failure."""
    _mount(*args, str(target))
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a file or a directory) bind-mounted read-only onto itself."""
    with mounted(path, "--bind", "-o", "ro", str(path)):
        yield path


@pytest.fixture
def published(demo: Session, demo_settings: Settings, tmp_path: Path) -> Path:
    """An output directory holding the current generation of rs1.conf and rs2.conf."""
    out = tmp_path / "out"
    build(demo, demo_settings, out)
    assert sorted(os.listdir(out)) == ["rs1.conf", "rs2.conf"]
    return out


@pytest.fixture
def next_settings(demo_settings: Settings) -> Settings:
    return demo_settings.model_copy(update=NEXT_GENERATION)


def _assert_next_generation_differs(
    session: Session, settings: Settings, out: Path, before: dict[str, bytes | list[str]]
) -> None:
    """The failed build really had something to publish: with the way clear, it does."""
    build(session, settings, out)
    after = _contents(out)
    assert after.keys() == {"rs1.conf", "rs2.conf"}
    assert all(after[name] != before.get(name) for name in after)


def test_a_directory_in_the_way_of_the_second_file_publishes_nothing(
    demo: Session, next_settings: Settings, published: Path
) -> None:
    (published / "rs2.conf").unlink()
    (published / "rs2.conf").mkdir()
    (published / "rs2.conf" / "keep").write_text("operator's file\n", encoding="utf-8")
    before = _contents(published)
    with pytest.raises(ValidationError) as caught:
        build(demo, next_settings, published)
    message = str(caught.value)
    assert message.startswith(f"out: {str(published / 'rs2.conf')!r} could not be replaced")
    assert "nothing was published" in message and "\n" not in message
    assert _contents(published) == before
    shutil.rmtree(published / "rs2.conf")
    _assert_next_generation_differs(demo, next_settings, published, before)


def test_a_read_only_second_file_rolls_back_the_first(
    demo: Session, next_settings: Settings, published: Path
) -> None:
    before = _contents(published)
    with read_only(published / "rs2.conf"), pytest.raises(ValidationError) as caught:
        build(demo, next_settings, published)
    message = str(caught.value)
    assert message.startswith(f"out: {str(published / 'rs2.conf')!r} could not be replaced")
    assert "nothing was published" in message
    assert _contents(published) == before
    _assert_next_generation_differs(demo, next_settings, published, before)


def test_a_read_only_directory_publishes_nothing(
    demo: Session, next_settings: Settings, published: Path
) -> None:
    before = _contents(published)
    with read_only(published), pytest.raises(ValidationError, match=r"^out: '.*/out' .*Read-only"):
        build(demo, next_settings, published)
    assert _contents(published) == before


def test_a_full_file_system_leaves_no_temporary_file(
    demo: Session, demo_settings: Settings, tmp_path: Path
) -> None:
    # Room for one ~20 kB configuration, not for two.
    (tmp_path / "out").mkdir()
    with mounted(tmp_path / "out", "-t", "tmpfs", "-o", "size=32k", "tmpfs") as out:
        with pytest.raises(ValidationError, match=r"^out: '.*/out' .*No space left"):
            build(demo, demo_settings, out)
        assert os.listdir(out) == []


def _hostile_out(kind: str, work: Path) -> Path:
    """An --out path that can hold no files (``work`` holds what it needs)."""
    if kind in ("file", "under-a-file"):
        (work / "file").write_text("not a directory\n", encoding="utf-8")
        return work / "file" if kind == "file" else work / "file" / "out"
    if kind == "read-only":
        (work / "ro").mkdir()
        return work / "ro"
    return Path({"proc-new": "/proc/ixp-out", "proc-self": "/proc/self"}[kind])


@contextmanager
def hostile_out(kind: str, tmp_path: Path) -> Iterator[Path]:
    """The --out path of ``kind``; afterwards, everything next to it must be unchanged."""
    work = tmp_path / "work"
    work.mkdir()
    out = _hostile_out(kind, work)
    before = _contents(work)
    with read_only(out) if kind == "read-only" else nullcontext():
        yield out
    assert _contents(work) == before


HOSTILE_OUTS = ("file", "under-a-file", "read-only", "proc-new", "proc-self")


@pytest.mark.parametrize("kind", HOSTILE_OUTS)
def test_an_out_path_that_cannot_hold_files_is_named(
    demo: Session, demo_settings: Settings, tmp_path: Path, kind: str
) -> None:
    with hostile_out(kind, tmp_path) as out:
        with pytest.raises(ValidationError, match=rf"^out: {re.escape(repr(str(out)))} ") as caught:
            build(demo, demo_settings, out)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize("kind", HOSTILE_OUTS)
def test_cli_says_one_line_and_exits_2(demo_cli: CliRunner, tmp_path: Path, kind: str) -> None:
    with hostile_out(kind, tmp_path) as out:
        result = demo_cli.invoke(app, ["rs", "build", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: out: {str(out)!r} ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("value", ["", " "])
def test_cli_refuses_an_empty_out(
    demo_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # `--out "$DIR"` with DIR unset must not publish into whatever the current directory is.
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    result = demo_cli.invoke(app, ["rs", "build", "--out", value])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: out: {value!r} must not be empty\n"
    assert sorted(os.listdir(tmp_path)) == before
