"""Hostile input at the command line: whatever the values, the CLI answers in its own words.

Each example runs one real command in-process against the test's database with
random, truncated or hostile values (control characters, markup, emoji codes,
lone surrogates, huge numbers, random file contents) and checks what an
operator would: no exception escapes, no traceback, exit status 0, 1 or 2, an
error is one ``error:`` line per bad field, nothing printed can drive the
terminal, and a command that failed changed nothing.
"""

from __future__ import annotations

import json
import socket
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from ixp.cli.main import app
from ixp.settings import get_settings
from tests.cli import set_up_pkix
from tests.dbsnapshot import snapshot

EXAMPLES = settings(max_examples=50)

# Values an attacker or a careless copy-paste would try.
_NASTY = [
    "",
    " ",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;title\x07",
    ":b:",
    "[bold]x[/bold]",
    ":b: :thumbs_up:",
    "\u202eevil",
    "\udcff",
    "AS38193",
    "38193",
    "4294967296",
    "-1",
    "9" * 40,
    "185.1.10.2",
    "2001:7f8:1::2",
    "00:11:22:33:44:55",
    "AS-NAYATEL",
    "noc@example.net",
    "--json",
    "a" * 2000,
]
TEXT = st.one_of(
    st.sampled_from(_NASTY),
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=()), max_size=20),
)
# An ASN that may well be valid, so some commands get as far as the database.
ASN = st.one_of(st.sampled_from(["38193", "AS9541", "17557", "as23674", "45595"]), TEXT)
NUMBER = st.one_of(st.integers(-(2**40), 2**40).map(str), TEXT)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _roa_documents() -> st.SearchStrategy[bytes]:
    """Validator exports, some plausible and some not, as the bytes of a file."""
    roa = st.fixed_dictionaries(
        {},
        optional={
            "asn": st.one_of(ASN, st.integers(), JSON_VALUE),
            "prefix": st.one_of(st.sampled_from(["193.0.0.0/21", "2001:db8::/32"]), TEXT),
            "maxLength": st.one_of(st.integers(-5, 200), JSON_VALUE),
            "ta": TEXT,
        },
    )
    document = st.fixed_dictionaries({"roas": st.lists(roa, max_size=5)})
    return st.one_of(
        st.binary(max_size=300),
        document.map(lambda d: json.dumps(d).encode()),
        JSON_VALUE.map(lambda d: json.dumps(d).encode()),
    )


def _ixf_documents() -> st.SearchStrategy[bytes]:
    """IX-F member exports: random bytes, random JSON, and skeletons with hostile values."""
    member = st.fixed_dictionaries(
        {"asnum": st.one_of(st.integers(), JSON_VALUE)},
        optional={"name": TEXT, "connection_list": JSON_VALUE},
    )
    document = st.fixed_dictionaries(
        {"version": st.sampled_from(["1.0", "0.7", ""]), "member_list": st.lists(member)},
        optional={"ixp_list": JSON_VALUE, "timestamp": TEXT},
    )
    return st.one_of(
        st.binary(max_size=300),
        JSON_VALUE.map(lambda d: json.dumps(d).encode()),
        document.map(lambda d: json.dumps(d).encode()),
    )


def _printable(output: str) -> bool:
    return all(c == "\n" or unicodedata.category(c) not in ("Cc", "Cs") for c in output)


def _invented_symbols(output: str, given_text: str) -> set[str]:
    """Symbols (emoji) in the output that no input held: an emoji code was interpreted."""
    given = set(given_text)
    return {
        c
        for c in output
        if unicodedata.category(c) == "So" and not "\u2500" <= c <= "\u257f" and c not in given
    }


def _text_in(content: bytes) -> str:
    """Every character a file offers its reader, JSON escapes resolved."""
    text = content.decode("utf-8", "replace")
    try:
        return text + json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def check(cli: CliRunner, engine: Engine, *args: str, file: bytes = b"") -> None:
    """Run ``ixp ARGS`` (reading ``file``); assert it answered as the CLI promises."""
    before = snapshot(engine)
    result = cli.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    out, err = result.stdout, result.stderr
    assert result.exit_code in (0, 1, 2), (args, out, err)
    assert "Traceback" not in out + err
    assert _printable(out + err), (args, out, err)
    given_text = "".join(args) + _text_in(file)
    assert not _invented_symbols(out + err, given_text), (args, out, err)
    if result.exit_code == 2:
        lines = err.splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), (args, err)
        assert out == ""
        assert snapshot(engine) == before, args


@pytest.fixture
def pkix(cli: CliRunner) -> CliRunner:
    return set_up_pkix(cli)


def _options(values: dict[str, Any]) -> list[str]:
    """``--name=value`` for each given value, so a value never reads as an option."""
    return [f"--{name.replace('_', '-')}={value}" for name, value in values.items()]


@EXAMPLES
@given(
    asn=ASN,
    name=TEXT,
    limits=st.tuples(NUMBER, NUMBER),
    optional=st.dictionaries(
        st.sampled_from(["as_set", "ipv4", "ipv6", "mac", "noc_email", "noc_phone", "status"]),
        TEXT,
    ),
    auto_ip=st.booleans(),
)
def test_member_add_answers_in_its_own_words(
    pkix: CliRunner,
    engine: Engine,
    asn: str,
    name: str,
    limits: tuple[str, str],
    optional: dict[str, str],
    auto_ip: bool,
) -> None:
    given_values = {
        "asn": asn,
        "name": name,
        "max_prefix_v4": limits[0],
        "max_prefix_v6": limits[1],
    }
    flags = ["--auto-ip"] if auto_ip else []
    check(pkix, engine, "member", "add", *_options(given_values | optional), *flags)


_SETTABLE = [
    "name",
    "legal_name",
    "as_set",
    "ipv4",
    "ipv6",
    "mac",
    "max_prefix_v4",
    "url",
    "noc_email",
    "peering_email",
    "status",
    "max_prefix_action",
    "peeringdb_id",
]


@EXAMPLES
@given(asn=ASN, changes=st.dictionaries(st.sampled_from(_SETTABLE), TEXT, min_size=1))
def test_member_set_and_show_answer_in_their_own_words(
    pkix: CliRunner, engine: Engine, asn: str, changes: dict[str, str]
) -> None:
    check(pkix, engine, "member", "set", *_options(changes), "--", asn)
    check(pkix, engine, "member", "show", "--", asn)
    check(pkix, engine, "irr", "show", "--", asn)


@EXAMPLES
@given(
    values=st.fixed_dictionaries(
        {"name": TEXT, "asn": ASN},
        optional={
            "lan_v4": st.one_of(st.sampled_from(["185.1.20.0/24", "185.1.20.1/24"]), TEXT),
            "lan_v6": st.one_of(st.just("2001:7f8:2::/64"), TEXT),
            "country": TEXT,
            "vlan": NUMBER,
            "blackhole_ipv4": TEXT,
        },
    )
)
def test_exchange_init_answers_in_its_own_words(
    cli: CliRunner, engine: Engine, values: dict[str, str]
) -> None:
    check(cli, engine, "exchange", "init", *_options(values))


@EXAMPLES
@given(content=_roa_documents(), force=st.booleans())
def test_rpki_load_of_any_file_answers_in_its_own_words(
    pkix: CliRunner, engine: Engine, tmp_path: Path, content: bytes, force: bool
) -> None:
    path = tmp_path / "roas.json"
    path.write_bytes(content)
    check(pkix, engine, "rpki", "load", str(path), *(["--force"] if force else []), file=content)


@EXAMPLES
@given(content=_ixf_documents(), exchange_asn=st.one_of(st.none(), ASN))
def test_import_ixf_of_any_file_answers_in_its_own_words(
    pkix: CliRunner, engine: Engine, tmp_path: Path, content: bytes, exchange_asn: str | None
) -> None:
    path = tmp_path / "ixf.json"
    path.write_bytes(content)
    extra = [] if exchange_asn is None else [f"--exchange-asn={exchange_asn}"]
    check(pkix, engine, "import", "ixf", *extra, "--", str(path), file=content)


def _fits_environment(text: str) -> bool:
    """An environment variable can hold it (no NUL, only surrogates that stand for bytes)."""
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _database_urls(port: int) -> st.SearchStrategy[tuple[str, str]]:
    """(URL, password) pairs: well-formed URLs to nowhere with awkward passwords, and junk."""
    password = st.text(min_size=5, max_size=20).map(lambda p: f"pw-{p}")
    well_formed = st.builds(
        lambda scheme, secret, name: (
            f"{scheme}://ixp:{_quoted(secret)}@127.0.0.1:{port}/{_quoted(name)}",
            secret,
        ),
        st.sampled_from(["postgresql+psycopg", "postgresql", "sqlite", "mysql", "nosuch"]),
        password,
        TEXT,
    )
    junk = TEXT.filter(lambda t: "://" not in t and _fits_environment(t))
    return st.one_of(well_formed, st.tuples(junk, password))


def _quoted(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


@EXAMPLES
@given(data=st.data())
def test_any_database_url_is_one_line_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: st.DataObject
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative SQLite path lands here
    monkeypatch.setenv("IXP_HOME", str(tmp_path / "home"))
    with socket.socket() as refused:
        refused.bind(("127.0.0.1", 0))
        url, secret = data.draw(_database_urls(refused.getsockname()[1]))
        monkeypatch.setenv("IXP_DATABASE_URL", url)
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["member", "list"])
    get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), url
    output = result.stdout + result.stderr
    assert secret not in output and _quoted(secret) not in output
    assert _printable(output)
