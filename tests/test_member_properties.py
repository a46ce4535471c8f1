"""Onboarding reports every bad field of a request, and only those: what a web form needs.

Hypothesis breaks a random set of fields of a good member, each with a value
the onboarding must refuse; the refusal names exactly those fields (one error
each, one line each) and writes nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ixp import members
from ixp.errors import IxpError, ValidationError
from ixp.models import MemberStatus
from tests.dbsnapshot import snapshot
from tests.factories import pkix_test_exchange

GOOD: dict[str, Any] = {
    "asn": 38193,
    "name": "Nayatel",
    "max_prefix_v4": 100,
    "max_prefix_v6": 20,
    "as_set": "AS-NAYATEL",
    "auto_ip": True,
    "macs": ["00:11:22:33:44:55"],
    "noc_email": "noc@nayatel.example",
}
HOSTILE_TEXT = st.text(min_size=1, max_size=20).map(lambda t: f"{t}\x00")
LIMITS = st.integers(max_value=0) | st.integers(min_value=10_000_001) | st.sampled_from(["9", None])
# For each field, values it must refuse whatever else is in the request.
BAD: dict[str, st.SearchStrategy[Any]] = {
    "asn": st.sampled_from(["AS-X", -1, 0, 23456, "", "AS4294967296", 1.5]) | HOSTILE_TEXT,
    "name": st.sampled_from(["", "  ", "x" * 501]) | HOSTILE_TEXT,
    "legal_name": st.sampled_from(["  ", "x" * 501]) | HOSTILE_TEXT,
    "as_set": st.sampled_from(["AS FOO", "AS-", "1234", "AS-FOO;", "AS-X::Y"]),
    "max_prefix_v4": LIMITS,
    "max_prefix_v6": LIMITS,
    "status": st.text().filter(lambda t: t not in {s.value for s in MemberStatus} and t != ""),
    "max_prefix_action": st.sampled_from(["reboot", "RESTART", "x"]),
    "ipv4": st.sampled_from(["10.0.0.1", "185.1.10.0", "185.1.10.255", "nope", "2001:7f8:1::5"]),
    "ipv6": st.sampled_from(["2001:7f8:2::1", "185.1.10.5", "2001:7f8:1::", "::ffff:1.2.3.4"]),
    "macs": st.lists(
        st.sampled_from(["nope", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"]), min_size=1
    ),
    "speed_mbps": st.integers(max_value=0) | st.just("fast"),
    "peeringdb_id": st.integers(max_value=0) | st.integers(min_value=2**31),
    "noc_email": st.sampled_from(["noc at x", "a@b", "@x.y", "a b@x.y"]),
    "url": HOSTILE_TEXT,
    "joined": st.sampled_from(["yesterday", "2021-13-01", 20210304]),
    "blackholing": st.sampled_from(["yes", 1, None]),
}
broken_fields = st.dictionaries(
    st.sampled_from(sorted(BAD)), st.none(), min_size=1, max_size=len(BAD)
).flatmap(lambda fields: st.fixed_dictionaries({name: BAD[name] for name in fields}))


@settings(max_examples=60)
@given(broken=broken_fields)
def test_every_broken_field_is_named_once_and_nothing_is_written(
    session: Session, engine: Engine, broken: dict[str, Any]
) -> None:
    if not session.info.get("pkix"):
        pkix_test_exchange(session)
        session.info["pkix"] = True
    before = snapshot(engine)
    data = members.MemberInput(**(GOOD | broken))
    try:
        members.add_member(session, data, actor="test")
    except ValidationError as exc:
        errors = exc.errors
    except IxpError as exc:  # not a validation error: only a conflict could be
        raise AssertionError(f"{type(exc).__name__}: {exc}") from None
    else:
        raise AssertionError(f"{broken} was accepted")
    fields = [e.field for e in errors]
    assert set(fields) == set(broken), (broken, [str(e) for e in errors])
    assert len(fields) == len(broken) or set(broken) & {"macs"}, fields
    for error in errors:
        message = str(error)
        assert message.isprintable() and len(message) < 1000, message
    assert snapshot(engine) == before


def test_the_bad_values_are_for_fields_of_the_input() -> None:
    assert set(BAD) <= {f.name for f in dataclasses.fields(members.MemberInput)}
