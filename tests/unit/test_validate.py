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


@pytest.mark.parametrize(
    "value",
    [
        "\u0663\u0668\u0661\u0669\u0663",  # ARABIC-INDIC digits: int() reads 38193
        "AS\u06f3\u06f8\u06f1\u06f9\u06f3",  # EXTENDED ARABIC-INDIC (Urdu) digits
        "AS\u0663\u0668\u0661\u0669\u0663",
        "\uff13\uff18\uff11\uff19\uff13",  # FULLWIDTH digits
        "38193\u00b2",  # SUPERSCRIPT TWO: isdigit() says yes, int() refuses
    ],
)
def test_asns_are_ascii_digits_only(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate.asn(value)
    assert str(caught.value) == f"asn: {value!r} is not an AS number"


def test_an_as_set_with_a_non_ascii_asn_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not a valid AS-SET name"):
        validate.as_set("AS\u0663\u0668\u0661\u0669\u0663:AS-FOO")


def test_an_asn_of_thousands_of_digits_is_refused_with_a_short_message() -> None:
    with pytest.raises(ValidationError) as caught:
        validate.asn(10**4000)
    assert "is larger than 4294967295" in str(caught.value)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Nayatel\x00", "contains control character U+0000 at position 7"),
        ("Naya\ud800tel", "contains lone surrogate U+D800 at position 4"),
        ("\udcffNayatel", "contains lone surrogate U+DCFF at position 0"),
        ("Naya\ttel", "contains control character U+0009 at position 4"),
        ("Nayatel\n", "contains control character U+000A at position 7"),
        ("Naya\rtel", "contains control character U+000D at position 4"),
        ("Naya\x1btel", "contains control character U+001B at position 4"),
        ("Naya\x7ftel", "contains control character U+007F at position 4"),
        ("Naya\x85tel", "contains control character U+0085 at position 4"),
        ("Naya\x9btel", "contains control character U+009B at position 4"),
        ("Naya\u2028tel", "contains line separator U+2028 at position 4"),
        ("Naya\u2029tel", "contains line separator U+2029 at position 4"),
    ],
)
def test_text_with_control_characters_or_lone_surrogates_is_refused(
    value: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate.text(value, "name")
    assert str(caught.value) == f"name: {value!r} {reason}"
    assert str(caught.value).isprintable()


@pytest.mark.parametrize(
    "value",
    [
        "روشنی براڈبینڈ",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a ZWNJ
        'Indus Fibre & "Data" Networks',
        "Ünïcödé Networks",
    ],
)
def test_text_in_any_script_is_kept_as_given(value: str) -> None:
    assert validate.text(value, "name") == value


def test_over_long_text_names_its_limit_and_shows_a_short_value() -> None:
    with pytest.raises(ValidationError) as caught:
        validate.text("x" * 5000, "name", max_length=188)
    message = str(caught.value)
    assert message.startswith("name: 'xxx")
    assert message.endswith("… is longer than 188 characters")
    assert len(message) < 120


def test_text_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        validate.text(["Nayatel"], "name")  # type: ignore[arg-type]
    assert str(caught.value) == "name: ['Nayatel'] is not text"


@pytest.mark.parametrize("value", ["noc\x00@nayatel.example", "noc@naya\ud800tel.example"])
def test_email_with_control_characters_or_surrogates_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="contains"):
        validate.email(value, "noc_email")


def test_shown_keeps_short_values_and_cuts_long_or_unprintable_ones() -> None:
    assert validate.shown("Nayatel") == "Nayatel"
    assert repr(validate.shown("x" * 500)) == "'" + "x" * 59 + "…"
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert repr(validate.shown(deep)) == "<list too deeply nested or too large to show>"
    assert repr(validate.shown(10**5000)) == "<int too deeply nested or too large to show>"


def test_as_is_matched_in_ascii_only() -> None:
    # LATIN SMALL LETTER LONG S folds to "s" when matching case-insensitively.
    with pytest.raises(ValidationError, match="is not an AS number"):
        validate.asn("A\u017f38193")


@pytest.mark.parametrize("value", [None, 42, ["192.0.2.0/24"], {"a": 1}, 1.5])
def test_addresses_networks_and_countries_must_be_text(value: object) -> None:
    for check in (
        lambda: validate.network(value, "ipv4_prefix", 4),  # type: ignore[arg-type]
        lambda: validate.address(value, "ipv4", 4),  # type: ignore[arg-type]
        lambda: validate.country(value),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError, match="is not text"):
            check()
