"""What the operator sees when things go wrong: one line, no traceback, no secrets, no raw bytes.

A database that cannot be reached, a malformed URL or setting, a mistyped
option: each is one ``error: ...`` line on stderr and exit status 2. The
database URL is printed with its password masked. Whatever is stored (escape
sequences, rich markup, emoji codes) is printed escaped, never interpreted.
"""

from __future__ import annotations

import json
import logging
import socket
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ixp import db
from ixp.cli.common import printable
from ixp.rs.snippets import PLATFORMS
from ixp.settings import get_settings
from tests import pg
from tests.cli import run, set_up_pkix
from tests.dbsnapshot import snapshot

PASSWORD = "s3cret-pw"

# A sample of commands, each of which opens the database first.
DATABASE_COMMANDS = [
    "member list",
    "member show 38193",
    "member set 38193 --max-prefix-v4 5",
    "member remove 38193",
    "member add --asn 38193 --name N --auto-ip --max-prefix-v4 1 --max-prefix-v6 1",
    "exchange show",
    "exchange init --name X --asn 38195 --lan-v4 185.1.10.0/24",
    "rs list",
    "irr show 38193",
    "rpki show",
    "monitor alerts",
    "export ixf",
]


@pytest.fixture
def setup(cli: CliRunner) -> CliRunner:
    """The "PKIX Test" exchange with one route server and member AS38193, made by the CLI."""
    return set_up_pkix(cli)


@pytest.fixture
def env_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    """A runner with an empty data directory; each test sets IXP_DATABASE_URL itself."""
    monkeypatch.setenv("IXP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("IXP_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def use_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("IXP_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A TCP port bound by this test but not listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def assert_one_error_line(code: int, out: str, err: str, *, starts: str = "error: ") -> str:
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), err
    assert "Traceback" not in out + err
    return lines[0]


def unreachable_urls(tmp_path: Path, port: int) -> dict[str, str]:
    """Databases that cannot be opened, with the masked URL each error must name."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    return {
        f"postgresql+psycopg://ixp:{PASSWORD}@127.0.0.1:{port}/ixp": (
            f"postgresql+psycopg://ixp:***@127.0.0.1:{port}/ixp"
        ),
        f"sqlite:///{a_file}/ixp.sqlite3": f"sqlite:///{a_file}/ixp.sqlite3",
        f"sqlite:///{tmp_path}": f"sqlite:///{tmp_path}",
    }


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_an_unreachable_database_is_one_line_naming_the_masked_url(
    env_cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    refused_port: int,
    command: str,
) -> None:
    for url, shown in unreachable_urls(tmp_path, refused_port).items():
        use_url(monkeypatch, url)
        code, out, err = run(env_cli, *command.split())
        line = assert_one_error_line(code, out, err, starts=f"error: database: {shown}: ")
        assert PASSWORD not in out + err, line


def test_db_upgrade_on_an_unreachable_database_is_one_line(
    env_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused_port: int
) -> None:
    for url, shown in unreachable_urls(tmp_path, refused_port).items():
        use_url(monkeypatch, url)
        code, out, err = run(env_cli, "db", "upgrade")
        assert_one_error_line(code, out, err, starts=f"error: database: {shown}: ")
        assert PASSWORD not in out + err


def test_a_database_without_schema_says_to_upgrade_it(
    env_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    use_url(monkeypatch, url)
    code, out, err = run(env_cli, "member", "list")
    line = assert_one_error_line(code, out, err, starts=f"error: database: {url}: ")
    assert "run 'ixp db upgrade'" in line
    assert run(env_cli, "db", "upgrade")[0] == 0
    assert run(env_cli, "member", "list")[2].strip() == (
        "error: exchange: none exists yet; run 'ixp exchange init' first"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("garbage", "error: database_url: 'garbage' is not a usable database URL"),
        (
            f"nosuchdb://ixp:{PASSWORD}@host/ixp",
            "error: database_url: 'nosuchdb://ixp:***@host/ixp' is not a usable database URL",
        ),
        (
            f"postgresql+nosuchdriver://ixp:{PASSWORD}@host/ixp",
            "error: database_url: 'postgresql+nosuchdriver://ixp:***@host/ixp' "
            "is not a usable database URL",
        ),
    ],
)
def test_a_malformed_database_url_is_one_line_without_its_password(
    env_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    use_url(monkeypatch, url)
    for args in (("member", "list"), ("db", "upgrade")):
        code, out, err = run(env_cli, *args)
        line = assert_one_error_line(code, out, err)
        assert line.startswith(message), line
        assert PASSWORD not in out + err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql+psycopg://ixp:{PASSWORD}@db/ixp", "postgresql+psycopg://ixp:***@db/ixp"),
        ("postgresql://ixp:p%40ss%3Aw@db:5433/ixp", "postgresql://ixp:***@db:5433/ixp"),
        ("postgresql://ixp@db/ixp", "postgresql://ixp@db/ixp"),
        ("sqlite:////var/lib/ixp/ixp.sqlite3", "sqlite:////var/lib/ixp/ixp.sqlite3"),
        (f"no url at all ://ixp:{PASSWORD}@db", "no url at all ://ixp:***@db"),
    ],
)
def test_masked_url_hides_only_the_password(url: str, shown: str) -> None:
    assert db.masked_url(url) == shown


@pytest.fixture
def pg_url_with_password(pg_server: pg.PgServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, its URL carrying a password (the server trusts)."""
    name = f"ixp_mask_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(pg_server.url(name)).set(password=PASSWORD)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.postgres
def test_db_upgrade_never_prints_or_logs_the_password(
    env_cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    pg_url_with_password: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_url(monkeypatch, pg_url_with_password)
    with caplog.at_level(logging.DEBUG):
        code, out, err = run(env_cli, "db", "upgrade")
    assert code == 0, err
    assert out.strip() == f"database at head: {db.masked_url(pg_url_with_password)}"
    assert ":***@" in out
    assert PASSWORD not in out + err + caplog.text
    code, out, err = run(env_cli, "member", "list")
    line = assert_one_error_line(code, out, err)
    assert PASSWORD not in line


def test_an_unknown_schema_revision_is_one_line(setup: CliRunner) -> None:
    code, out, err = run(setup, "db", "upgrade", "\x1b[2Jnope")
    line = assert_one_error_line(code, out, err)
    assert line.startswith("error: revision: '\\x1b[2Jnope' cannot be applied: ")


def test_a_mistyped_option_value_is_one_line_naming_the_option(setup: CliRunner) -> None:
    command = "member add --asn 9541 --name X --auto-ip --max-prefix-v4 lots --max-prefix-v6 1"
    code, out, err = run(setup, *command.split())
    line = assert_one_error_line(code, out, err)
    assert "'--max-prefix-v4'" in line


def test_a_missing_option_and_an_unknown_one_are_one_line_each(setup: CliRunner) -> None:
    code, out, err = run(setup, "member", "add", "--asn", "9541")
    assert "--name" in assert_one_error_line(code, out, err)
    code, out, err = run(setup, "member", "show", "38193", "--colour")
    assert "--colour" in assert_one_error_line(code, out, err)
    code, out, err = run(setup, "member", "frobnicate")
    assert "frobnicate" in assert_one_error_line(code, out, err)


def test_help_is_still_help(setup: CliRunner) -> None:
    code, out, _ = run(setup, "member", "--help")
    assert code == 0 and "Usage:" in out
    code, out, err = run(setup, "member")
    assert code == 2 and "Usage:" in out + err and "error:" not in out + err


def test_a_malformed_setting_is_one_line_naming_it(
    setup: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IXP_MONITOR_METRICS_PORT", "\x1b[2Jnine")
    get_settings.cache_clear()
    code, out, err = run(setup, "member", "list")
    line = assert_one_error_line(code, out, err)
    assert line.startswith("error: settings: monitor_metrics_port: '\\x1b[2Jnine' ")


HOSTILE = "\x1b[31mEvil\x1b[0m [red]x[/red] :b: \x07\u202e"


def assert_printable(output: str, layout: str = "\n") -> None:
    """Nothing a terminal would act on: no control character but the ``layout`` ones
    (newline), no bidi override, no emoji made from a code."""
    for char in output:
        assert char in layout or unicodedata.category(char) not in ("Cc", "Cs"), repr(output)
    assert "\u202e" not in output and "\U0001f171" not in output


@pytest.fixture
def hostile_member(setup: CliRunner, engine: Engine, database_url: str) -> str:
    """Member AS38193 renamed, behind validation's back, to escapes, markup and emoji codes."""
    name = HOSTILE + ("\x00" if database_url.startswith("sqlite") else "")
    with engine.begin() as conn:
        conn.execute(text("UPDATE members SET display_name = :n WHERE asn = 38193"), {"n": name})
    return name


@pytest.mark.parametrize("args", [("member", "show", "38193"), ("member", "list")], ids=" ".join)
def test_stored_control_characters_and_markup_are_printed_escaped(
    hostile_member: str, setup: CliRunner, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no folding: each cell on one line
    code, out, err = run(setup, *args)
    assert code == 0, err
    assert_printable(out + err)
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    assert printable(hostile_member).replace(" ", "") in flat


def test_json_output_keeps_stored_text_exactly(hostile_member: str, setup: CliRunner) -> None:
    code, out, _ = run(setup, "member", "show", "38193", "--json")
    assert code == 0
    assert_printable(out)
    assert json.loads(out)["name"] == hostile_member


def test_error_messages_are_printed_escaped(setup: CliRunner, engine: Engine) -> None:
    before = snapshot(engine)
    value = ":b: [bold]AS1[/bold] \x1b]0;pwned\x07"
    code, out, err = run(setup, "member", "show", value)
    line = assert_one_error_line(code, out, err)
    assert_printable(out + err)
    assert ":b: [bold]AS1[/bold] \\x1b]0;pwned\\x07" in line
    code, out, err = run(setup, "member", "set", "38193", "--name", value)
    assert code in (0, 2)
    assert_printable(out + err)
    if code == 2:
        assert snapshot(engine) == before


def test_printable_escapes_controls_and_keeps_scripts() -> None:
    assert printable("a\x1bb\x00c\nd\x9be\u202ef\udcff") == "a\\x1bb\\x00c\\nd\\x9be\\u202ef\\udcff"
    urdu = "نایاٹیل\u200cسروس 🅱 [b]x[/b] :b:"
    assert printable(urdu) == urdu


def test_a_file_that_is_not_a_database_is_one_line(
    env_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    impostor = tmp_path / "ixp.sqlite3"
    impostor.write_bytes(b"member list exported as text, not a database\n" * 100)
    url = f"sqlite:///{impostor}"
    use_url(monkeypatch, url)
    for args in (("member", "list"), ("db", "upgrade")):
        code, out, err = run(env_cli, *args)
        line = assert_one_error_line(code, out, err, starts=f"error: database: {url}: ")
        assert "not a database" in line


def test_a_wrong_query_is_a_bug_and_keeps_its_traceback(engine: Engine, database_url: str) -> None:
    """Only a database that cannot be used is reported in one line; a bug stays loud."""
    with (
        pytest.raises(sa_exc.DBAPIError, match="no_such_column"),
        engine.connect() as conn,
        db.reported_errors(database_url),
    ):
        conn.execute(text("SELECT no_such_column FROM members"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_router_snippet_shows_stored_names_escaped(
    hostile_member: str, setup: CliRunner, platform: str
) -> None:
    code, out, err = run(setup, "member", "snippet", "38193", "--platform", platform)
    assert code == 0, err
    assert_printable(out, layout="\n\t")
    assert len(out.splitlines()) > 3


def test_ixf_export_to_the_terminal_is_exact_json_escaped(
    hostile_member: str, setup: CliRunner
) -> None:
    code, out, err = run(setup, "export", "ixf")
    assert code == 0, err
    assert_printable(out)
    names = [m.get("name") for m in json.loads(out)["member_list"]]
    assert hostile_member in names
