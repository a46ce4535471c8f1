"""The API process ExaBGP starts, run as ExaBGP runs it: a child with pipes on stdin and stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ixp.errors import ValidationError
from ixp.exabgp import config, process

MESSAGES = [b'{ "exabgp": "5.0.15", "type": "state" }\n', b'{ "type": "update" }\n']


def relay(*arguments: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ixp.exabgp.relay", *map(str, arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_the_stream_is_appended_to_the_file_and_commands_reach_exabgp(tmp_path: Path) -> None:
    stream = tmp_path / "received.jsonl"
    stream.write_bytes(MESSAGES[0])
    commands = tmp_path / "commands"
    os.mkfifo(commands)
    with relay(stream, commands) as child:
        assert child.stdin is not None and child.stdout is not None
        with commands.open("w") as pipe:  # waits until the relay listens
            pipe.write("announce route 45.64.0.0/20 next-hop self\n")
        assert child.stdout.readline() == b"announce route 45.64.0.0/20 next-hop self\n"
        child.stdin.write(MESSAGES[1])
        child.stdin.close()  # ExaBGP went away: the relay ends
        assert child.wait(10) == 0
    assert stream.read_bytes() == b"".join(MESSAGES)


def test_the_stream_reaches_a_fifo_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "stream.fifo"
    os.mkfifo(fifo)
    with relay(fifo) as child, fifo.open("rb") as reader:
        assert child.stdin is not None
        child.stdin.write(b"".join(MESSAGES))
        child.stdin.close()
        assert reader.read() == b"".join(MESSAGES)
        assert child.wait(10) == 0


def test_a_missing_stream_is_not_replaced_by_a_file_nobody_reads(tmp_path: Path) -> None:
    with relay(tmp_path / "gone.fifo") as child:
        assert child.stdin is not None
        child.stdin.close()
        assert child.wait(10) != 0
    assert not (tmp_path / "gone.fifo").exists()


def test_config_values_must_be_plain_tokens(tmp_path: Path) -> None:
    neighbor = config.Neighbor("185.1.50.1; }", "185.1.50.11", "185.1.50.11", 38001, 59900, 4)
    with pytest.raises(ValidationError, match="peer address"):
        config.render("agent", ["relay"], [neighbor])
    with pytest.raises(ValidationError, match="API process argument"):
        config.render("agent", [tmp_path / "a b"], [])


def test_the_log_tail_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "exabgp.log"
    assert process.tail(log) == "(no log)"
    log.write_text("one\ntwo\nthree\n")
    assert process.tail(log, lines=2) == "two | three"
