"""Onboarding a member from the browser: the form, its check against the registry, and what
the operator takes away (the router snippet and what the next build adds).

Operators only. The form proposes free LAN addresses; "Check" asks the
registry about the ASN and AS-SET without saving; "Save" runs
``ixp.onboarding.onboard``: the checks of ``ixp member add`` and of the registry
together, every bad field shown at its input, nothing written unless all pass.
After saving, the browser is sent to the member's onboarding page (so a reload
saves nothing twice): the snippet for the chosen platform and the next build's
changes for the member.
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import Db, Operator, Settings
from api.pages.member import field_errors
from api.pages.render import Look, Viewer, page
from api.routers.members import Asn
from api.threads import waiting_on_bird
from ixp import members, onboarding, validate
from ixp.errors import IxpError, ValidationError
from ixp.exchange import get_exchange
from ixp.members import MemberInput
from ixp.onboarding import RegistryCheck
from ixp.rs import preview
from ixp.rs.snippets import PLATFORMS, member_snippet
from ixp.settings import Settings as SettingsModel

router = APIRouter(prefix="/onboarding", include_in_schema=False)

# The form's fields: name, label, input type, autocomplete, hint.
FIELDS = (
    ("asn", "AS number", "text", "off", "Its public ASN, e.g. 38193 or AS38193."),
    ("name", "Name", "text", "organization", "How the exchange shows the network."),
    ("as_set", "AS-SET", "text", "off", "Leave empty if it announces only its own routes."),
    ("max_prefix_v4", "IPv4 max-prefix", "text", "off", None),
    ("max_prefix_v6", "IPv6 max-prefix", "text", "off", None),
    ("ipv4", "IPv4 address on the peering LAN", "text", "off", None),
    ("ipv6", "IPv6 address on the peering LAN", "text", "off", None),
    ("macs", "Router MAC addresses", "text", "off", "One or more, separated by spaces."),
    ("speed_mbps", "Port speed (Mbit/s)", "text", "off", None),
    ("noc_email", "NOC e-mail", "email", "email", None),
)
_SPACE = " "

Text = Annotated[str, Form(max_length=1000)]


def _number(value: str) -> int | str:
    """A form's number as an int, or the text as typed (the service names what is wrong)."""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else text


def _form(
    request: Request,
    viewer: Viewer,
    db: Session,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    platform: str,
    check: RegistryCheck | None = None,
) -> HTMLResponse:
    asn = _number(values.get("asn", ""))
    proposed = onboarding.proposed_addresses(db, asn if isinstance(asn, int) else None)
    hints = {
        "ipv4": f"Free now: {proposed[4]}." if 4 in proposed else "The LAN has no IPv4.",
        "ipv6": (
            f"Free now: {proposed[6]}."
            if 6 in proposed and isinstance(asn, int)
            else "Leave empty to give it the address with its ASN in it."
        ),
    }
    return page(
        request,
        "onboarding/form.html",
        viewer=viewer,
        exchange=get_exchange(db).name,
        status=422 if errors else 200,
        fields=FIELDS,
        values=values,
        errors=errors,
        hints=hints,
        platforms=PLATFORMS,
        platform=platform,
        check=check,
        section="onboarding",
    )


@router.get("", response_class=HTMLResponse)
def onboarding_form(request: Request, operator: Operator, viewer: Look, db: Db) -> HTMLResponse:
    """An empty form with a free IPv4 address proposed."""
    proposed = onboarding.proposed_addresses(db, None)
    values = {"ipv4": proposed.get(4, ""), "max_prefix_v4": "100", "max_prefix_v6": "20"}
    return _form(request, viewer, db, values=values, errors={}, platform=PLATFORMS[0])


def _input(values: dict[str, str]) -> MemberInput:
    speed = values["speed_mbps"].strip()
    return MemberInput(
        asn=values["asn"].strip(),
        name=values["name"].strip(),
        as_set=values["as_set"].strip() or None,
        max_prefix_v4=_number(values["max_prefix_v4"]),  # type: ignore[arg-type]
        max_prefix_v6=_number(values["max_prefix_v6"]),  # type: ignore[arg-type]
        ipv4=values["ipv4"].strip() or None,
        ipv6=values["ipv6"].strip() or None,
        auto_ip=not values["ipv4"].strip() or not values["ipv6"].strip(),
        macs=values["macs"].replace(",", _SPACE).split(),
        speed_mbps=_number(speed) if speed else None,  # type: ignore[arg-type]
        noc_email=values["noc_email"].strip() or None,
    )


def _check(
    db: Session, settings: SettingsModel, values: dict[str, str]
) -> tuple[RegistryCheck | None, dict[str, str]]:
    """The registry's answer for the form's ASN and AS-SET, or each field's reason."""
    try:
        dumps = onboarding.registry_dumps(db)
        asn = validate.asn(values["asn"], "asn", allow_lab=settings.allow_lab_asns)
        as_set = values["as_set"].strip()
        checked = validate.as_set(as_set, "as_set") if as_set else None
        return onboarding.check_registry(settings, asn, checked, dumps), {}
    except ValidationError as exc:
        return None, field_errors(exc)
    except IxpError as exc:
        return None, {"as_set": exc.reason}


@router.post("", response_class=HTMLResponse)
async def onboard(
    request: Request,
    operator: Operator,
    viewer: Look,
    db: Db,
    settings: Settings,
    asn: Text = "",
    name: Text = "",
    as_set: Text = "",
    max_prefix_v4: Text = "",
    max_prefix_v6: Text = "",
    ipv4: Text = "",
    ipv6: Text = "",
    macs: Text = "",
    speed_mbps: Text = "",
    noc_email: Text = "",
    platform: Annotated[str, Form(max_length=32)] = PLATFORMS[0],
    action: Annotated[str, Form(max_length=16)] = "save",
) -> Response:
    """Check the ASN and AS-SET with the registry (``action=check``), or save the member
    (any other action) and go to its onboarding page. The registry is asked on the
    threads kept for waits (a bgpq4 query may take seconds)."""
    values = {
        "asn": asn,
        "name": name,
        "as_set": as_set,
        "max_prefix_v4": max_prefix_v4,
        "max_prefix_v6": max_prefix_v6,
        "ipv4": ipv4,
        "ipv6": ipv6,
        "macs": macs,
        "speed_mbps": speed_mbps,
        "noc_email": noc_email,
    }
    chosen = platform if platform in PLATFORMS else PLATFORMS[0]
    if action == "check":
        check, errors = await waiting_on_bird(request, _check, db, settings, values)
        return _form(
            request, viewer, db, values=values, errors=errors, platform=chosen, check=check
        )
    try:
        done = await waiting_on_bird(
            request,
            lambda: onboarding.onboard(
                db,
                settings,
                _input(values),
                allow_lab=settings.allow_lab_asns,
                actor=operator.username,
            ),
        )
    except ValidationError as exc:
        return _form(request, viewer, db, values=values, errors=field_errors(exc), platform=chosen)
    return RedirectResponse(f"/onboarding/{done.member.asn}?platform={chosen}", status_code=303)


@router.get("/{asn}", response_class=HTMLResponse)
async def onboarded(
    request: Request,
    asn: Asn,
    operator: Operator,
    viewer: Look,
    db: Db,
    settings: Settings,
    platform: Annotated[str, Query(max_length=32)] = PLATFORMS[0],
) -> HTMLResponse:
    """A member as onboarded: its details, the router snippet for its platform and what the
    next build will add for it."""
    member = members.show_member(db, asn)
    exchange = get_exchange(db)
    error = None
    snippet = ""
    try:
        snippet = member_snippet(db, member.asn, platform, exchange)
    except ValidationError as exc:
        error = exc.reason
    coming = await waiting_on_bird(
        request, functools.partial(preview.preview, only_asn=member.asn), db, settings
    )
    return page(
        request,
        "onboarding/done.html",
        viewer=viewer,
        exchange=exchange.name,
        status=422 if error else 200,
        member=member,
        platforms=PLATFORMS,
        platform=platform,
        snippet=snippet,
        error=error,
        preview=coming,
        section="onboarding",
    )
