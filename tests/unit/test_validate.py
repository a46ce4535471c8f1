"""What the exchange accepts as ASNs, AS-SETs, MACs and subnets, and what it refuses."""

from __future__ import annotations

import pytest

from ixp import validate
from ixp.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "expected"),
    [("38193", 38193), ("AS9541", 9541), ("as4200000", 4200000), (17557, 17557)],
)
def test_public_asns_are_accepted_in_any_spelling(value: object, expected: int) -> None:
    assert validate.asn(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "is reserved (RFC 7607)"),
        (23456, "is AS_TRANS (RFC 6793)"),
        (65535, "is reserved (RFC 7300)"),
        (4294967295, "is reserved (RFC 7300)"),
        (64500, "is a documentation ASN (RFC 5398); allowed only for lab use"),
        (65000, "is a private ASN (RFC 6996); allowed only for lab use"),
        (65540, "is a documentation ASN (RFC 5398); allowed only for lab use"),
        (100000, "is reserved by IANA; allowed only for lab use"),
        (4200000001, "is a private ASN (RFC 6996); allowed only for lab use"),
        (4294967296, "is larger than 4294967295"),
        ("AS-FOO", "is not an AS number"),
        ("-1", "is not an AS number"),
    ],
)
def test_reserved_and_malformed_asns_are_refused(value: object, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate.asn(value)
    assert str(caught.value) == f"asn: {value!r} {reason}"


def test_private_asns_pass_only_when_lab_use_is_allowed() -> None:
    assert validate.asn(65001, allow_lab=True) == 65001
    with pytest.raises(ValidationError):
        validate.asn(23456, allow_lab=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AS-FOO", "AS-FOO"),
        ("as-nayatel", "AS-NAYATEL"),
        ("AS123:AS-FOO", "AS123:AS-FOO"),
        ("AS-FOO:AS-BAR-V6", "AS-FOO:AS-BAR-V6"),
        ("RIPE::AS-FOO", "RIPE::AS-FOO"),
        ("AS9541", "AS9541"),
        ("AS_TEST-1", None),
    ],
)
def test_rpsl_as_set_names(value: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError):
            validate.as_set(value)
    else:
        assert validate.as_set(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        *[
            (bad, "is not a valid AS-SET name")
            for bad in ("AS-", "AS-FOO-", "FOO", "AS-FOO BAR", "AS123:AS456", "AS-FOO;", 'AS-FO"O')
        ],
        ("::AS-FOO", "has an invalid registry source before '::'"),
        ("AS0:AS-FOO", "is reserved (RFC 7607)"),
    ],
)
def test_malformed_as_set_names_are_refused(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate.as_set(value)
    assert caught.value.field == "as_set"
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [("00-11-22-33-44-55", "00:11:22:33:44:55"), ("0011.2233.4455", "00:11:22:33:44:55")],
)
def test_macs_are_normalised(value: str, expected: str) -> None:
    assert validate.mac(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("00:11:22:33:44", "is not a MAC address"),
        ("zz:11:22:33:44:55", "is not a MAC address"),
        ("01:00:5e:00:00:01", "is not a unicast MAC address"),
        ("ff:ff:ff:ff:ff:ff", "is not a unicast MAC address"),
        ("00:00:00:00:00:00", "is not a unicast MAC address"),
    ],
)
def test_malformed_macs_are_refused(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate.mac(value)
    assert str(caught.value) == f"mac: {value!r} {reason}"


def test_subnets_must_be_network_addresses_of_the_right_family() -> None:
    assert str(validate.network("185.1.10.0/24", "lan4", 4)) == "185.1.10.0/24"
    with pytest.raises(ValidationError, match=r"has host bits set \(network is 185.1.10.0/24\)"):
        validate.network("185.1.10.1/24", "lan4", 4)
    with pytest.raises(ValidationError, match="is not an IPv4 prefix with a length"):
        validate.network("2001:7f8:1::/64", "lan4", 4)
    with pytest.raises(ValidationError, match="is not an IPv4 prefix with a length"):
        validate.network("185.1.10.0", "lan4", 4)
