"""The shipped Alice-LG configuration matches what ixp serves: its route servers, its
time formats, and the reject reasons the route servers tag."""

from __future__ import annotations

import configparser
import datetime as dt
import json
from importlib.resources import files

from ixp.lg import shapes
from ixp.monitor.routes import reason_text
from ixp.rs.codes import REJECT_CODES, REJECT_NAMESPACE, RPKI_NAMESPACE, RpkiTag

# Go layouts and the strftime formats they stand for.
GO_LAYOUTS = {
    "2006-01-02T15:04:05Z07:00": "%Y-%m-%dT%H:%M:%SZ",
    "2006-01-02 15:04:05": "%Y-%m-%d %H:%M:%S",
}


def alice() -> configparser.ConfigParser:
    config = configparser.ConfigParser(delimiters=("=",), interpolation=None, allow_no_value=True)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read_string((files("ixp") / "data" / "alice" / "alice.conf").read_text("utf-8"))
    return config


def demo() -> tuple[int, list[str]]:
    exchange = json.loads((files("ixp") / "data" / "demo" / "exchange.json").read_text("utf-8"))
    servers = [
        (member["asnum"], member["name"])
        for member in exchange["member_list"]
        if member.get("member_type") == "ixp"
    ]
    return servers[0][0], sorted(name for _, name in servers)


def test_one_single_table_source_per_demo_route_server() -> None:
    config = alice()
    asn, names = demo()
    assert sorted(s.split(".")[1] for s in config.sections() if s.endswith(".birdwatcher")) == names
    for name in names:
        source = config[f"source.{name}.birdwatcher"]
        assert source["api"].endswith(f"/lg/{name}/")
        assert (source["type"], source["main_table4"], source["main_table6"]) == (
            "single_table",
            "master4",
            "master6",
        )
    assert config["server"]["asn"] == str(asn)


def test_the_time_formats_read_what_is_served() -> None:
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    for name in demo()[1]:
        source = alice()[f"source.{name}.birdwatcher"]
        served = shapes.cache_time(moment).split(".")[0] + "Z"  # Go skips the fraction itself
        assert dt.datetime.strptime(served, GO_LAYOUTS[source["servertime"]])
        for key in ("servertime_short", "servertime_ext"):
            assert GO_LAYOUTS[source[key]] == shapes.SERVER_TIME


def test_rejection_reasons_are_the_route_servers_codes_with_their_texts() -> None:
    asn, _ = demo()
    reasons = dict(alice()["rejection_reasons"])
    expected = {}
    for info in REJECT_CODES:
        name, sentence = reason_text(info.code)
        expected[f"{asn}:{REJECT_NAMESPACE}:{info.code.value}"] = f"{name}: {sentence}"
    assert reasons == expected
    rpki = alice()["rpki"]
    assert rpki["valid"] == f"{asn}:{RPKI_NAMESPACE}:{RpkiTag.VALID.value}"
    assert rpki["unknown"] == f"{asn}:{RPKI_NAMESPACE}:{RpkiTag.UNKNOWN.value}"
