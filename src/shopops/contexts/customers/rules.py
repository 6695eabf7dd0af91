"""Pure rules: normalisation and validation of input, masking, audit snapshots, export.

Nothing here touches the database or the key; the service decrypts and then
calls these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shopops.contexts.customers.commands import (
    AddressInput,
    RegisterCustomer,
    SearchCustomers,
    UpdateAddress,
    UpdateCustomer,
)
from shopops.contexts.customers.errors import CustomerError as E
from shopops.contexts.customers.views import AddressRecord
from shopops.kernel.errors import FieldErrorCollector
from shopops.kernel.pii import normalize_email as _normalize_email
from shopops.kernel.pii import normalize_phone as _normalize_phone


class SourceChannel(StrEnum):
    WEB = "web"
    APP = "app"
    MINI_PROGRAM = "mini_program"
    MARKETPLACE = "marketplace"
    STORE = "store"
    IMPORT = "import"


# ISO 3166-1 alpha-2: all 249 assigned codes.
_ISO_3166_1 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ISO_3166_1.split())

MAX_NAME, MAX_LINE, MAX_CITY, MAX_LABEL = 200, 200, 100, 50
MAX_TAGS, MAX_ADDRESSES = 50, 20
PII_FIELDS = ("email", "phone", "name")
ADDRESS_PII_FIELDS = ("recipient", "line1", "line2", "phone")

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_TLD}", re.ASCII)
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+", re.ASCII)
_TAG = re.compile(r"[a-z0-9][a-z0-9_:-]{0,39}", re.ASCII)
_REGION = re.compile(r"([A-Z]{2})(?:-[A-Z0-9]{1,3})?", re.ASCII)
_POSTAL = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,19}", re.ASCII)


# ---- normalisation (total functions, safe on any string) ----


def normalize_email(raw: str) -> str:
    return _normalize_email(raw)


def normalize_phone(raw: str) -> str:
    return _normalize_phone(raw)


def normalize_tag(raw: str) -> str:
    return raw.strip().lower()


def normalize_text(raw: str) -> str:
    """Trim and collapse inner whitespace."""
    return " ".join(raw.split())


def is_valid_email(email: str) -> bool:
    local, _, _ = email.partition("@")
    return len(email) <= 254 and len(local) <= 64 and _EMAIL.fullmatch(email) is not None


def is_valid_phone(raw: str) -> bool:
    stripped = raw.strip()
    digits = sum(ch.isdigit() for ch in stripped)
    return _PHONE_CHARS.fullmatch(stripped) is not None and 7 <= digits <= 15


def is_valid_tag(tag: str) -> bool:
    return _TAG.fullmatch(tag) is not None


def is_valid_region(region: str) -> bool:
    match = _REGION.fullmatch(region)
    return match is not None and match.group(1) in COUNTRY_CODES


# ---- field cleaners: add errors to the collector, return the clean value or None ----


def clean_email(errors: FieldErrorCollector, raw: str | None, field: str = "email") -> str | None:
    if raw is None or not raw.strip():
        return None
    email = normalize_email(raw)
    if not is_valid_email(email):
        errors.add(field, E.INVALID_EMAIL, "not a valid e-mail address")
        return None
    return email


def clean_phone(errors: FieldErrorCollector, raw: str | None, field: str = "phone") -> str | None:
    if raw is None or not raw.strip():
        return None
    if not is_valid_phone(raw):
        errors.add(field, E.INVALID_PHONE, "a phone number has 7-15 digits, optionally with +")
        return None
    return normalize_phone(raw)


def clean_text(
    errors: FieldErrorCollector, raw: str | None, field: str, *, max_length: int
) -> str | None:
    """Optional free text: ``None`` when empty."""
    value = normalize_text(raw) if raw is not None else ""
    if len(value) > max_length:
        errors.add(field, E.TOO_LONG, f"at most {max_length} characters")
        return None
    return value or None


def clean_required_text(
    errors: FieldErrorCollector, raw: str | None, field: str, *, max_length: int
) -> str:
    if raw is None or not normalize_text(raw):
        errors.add(field, E.REQUIRED, f"{field} is required")
        return ""
    return clean_text(errors, raw, field, max_length=max_length) or ""


def clean_channel(errors: FieldErrorCollector, raw: str, field: str = "source_channel") -> str:
    channel = raw.strip().lower()
    if channel not in set(SourceChannel):
        allowed = ", ".join(SourceChannel)
        errors.add(field, E.UNKNOWN_CHANNEL, f"unknown channel; allowed: {allowed}")
    return channel


def clean_region(errors: FieldErrorCollector, raw: str | None, field: str = "region") -> str | None:
    if raw is None or not raw.strip():
        return None
    region = raw.strip().upper()
    if not is_valid_region(region):
        errors.add(field, E.INVALID_REGION, "use an ISO 3166 code such as CN or CN-31")
        return None
    return region


def clean_country(errors: FieldErrorCollector, raw: str | None, field: str = "country") -> str:
    country = (raw or "").strip().upper()
    if country not in COUNTRY_CODES:
        errors.add(field, E.INVALID_COUNTRY, "use an ISO 3166-1 alpha-2 code such as CN or US")
    return country


def clean_tags(
    errors: FieldErrorCollector, raws: Iterable[str], field: str = "tags"
) -> tuple[str, ...]:
    tags: set[str] = set()
    for raw in raws:
        tag = normalize_tag(raw)
        if is_valid_tag(tag):
            tags.add(tag)
        else:
            errors.add(field, E.INVALID_TAG, "tags are 1-40 of a-z, 0-9, '_', ':', '-'")
    if len(tags) > MAX_TAGS:
        errors.add(field, E.TOO_MANY_TAGS, f"at most {MAX_TAGS} tags")
    return tuple(sorted(tags))


def clean_moment(
    errors: FieldErrorCollector, value: datetime | None, field: str, *, now: datetime | None = None
) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add(field, E.NAIVE_DATETIME, "give a time zone offset, e.g. 2026-01-01T00:00:00Z")
        return None
    if now is not None and value > now:
        errors.add(field, E.IN_FUTURE, "cannot be in the future")
        return None
    return value


# ---- whole commands ----


@dataclass(frozen=True)
class CleanAddress:
    label: str | None
    recipient: str
    line1: str
    line2: str | None
    phone: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool


@dataclass(frozen=True)
class CleanProfile:
    email: str | None
    phone: str | None
    name: str | None
    source_channel: str
    region: str | None
    tags: tuple[str, ...]
    registered_at: datetime | None
    addresses: tuple[CleanAddress, ...]


def clean_address(
    errors: FieldErrorCollector, given: AddressInput, prefix: str = ""
) -> CleanAddress:
    postal = (given.postal_code or "").strip().upper() or None
    if postal is not None and not _POSTAL.fullmatch(postal):
        errors.add(f"{prefix}postal_code", E.INVALID_POSTAL_CODE, "1-20 of A-Z, 0-9, space, '-'")
    return CleanAddress(
        label=clean_text(errors, given.label, f"{prefix}label", max_length=MAX_LABEL),
        recipient=clean_required_text(
            errors, given.recipient, f"{prefix}recipient", max_length=MAX_NAME
        ),
        line1=clean_required_text(errors, given.line1, f"{prefix}line1", max_length=MAX_LINE),
        line2=clean_text(errors, given.line2, f"{prefix}line2", max_length=MAX_LINE),
        phone=clean_phone(errors, given.phone, f"{prefix}phone"),
        city=clean_required_text(errors, given.city, f"{prefix}city", max_length=MAX_CITY),
        region=clean_text(errors, given.region, f"{prefix}region", max_length=MAX_CITY),
        postal_code=postal,
        country=clean_country(errors, given.country, f"{prefix}country"),
        is_default=given.is_default,
    )


def _require_contact(errors: FieldErrorCollector, has_email: bool, has_phone: bool) -> None:
    if not (has_email or has_phone):
        errors.add("email", E.CONTACT_REQUIRED, "a customer needs an e-mail address or a phone")


def clean_registration(command: RegisterCustomer, *, now: datetime) -> CleanProfile:
    """Every problem of the command at once (ValidationFailed), or the clean profile."""
    errors = FieldErrorCollector()
    email = clean_email(errors, command.email)
    phone = clean_phone(errors, command.phone)
    _require_contact(
        errors, bool((command.email or "").strip()), bool((command.phone or "").strip())
    )
    addresses = tuple(
        clean_address(errors, address, f"addresses.{i}.")
        for i, address in enumerate(command.addresses)
    )
    if len(addresses) > MAX_ADDRESSES:
        errors.add("addresses", E.TOO_MANY_ADDRESSES, f"at most {MAX_ADDRESSES} addresses")
    if sum(a.is_default for a in addresses) > 1:
        errors.add("addresses", E.SEVERAL_DEFAULTS, "only one address can be the default")
    profile = CleanProfile(
        email=email,
        phone=phone,
        name=clean_text(errors, command.name, "name", max_length=MAX_NAME),
        source_channel=clean_channel(errors, command.source_channel),
        region=clean_region(errors, command.region),
        tags=clean_tags(errors, command.tags),
        registered_at=clean_moment(errors, command.registered_at, "registered_at", now=now),
        addresses=addresses,
    )
    errors.raise_if_any()
    return profile


def clean_update(
    command: UpdateCustomer, *, has_email: bool, has_phone: bool
) -> dict[str, str | None]:
    """The fields the command sets, cleaned; ``None`` as a value means "remove"."""
    errors = FieldErrorCollector()
    changes: dict[str, str | None] = {}
    if command.email is not None:
        changes["email"] = clean_email(errors, command.email)
        has_email = bool(command.email.strip())
    if command.phone is not None:
        changes["phone"] = clean_phone(errors, command.phone)
        has_phone = bool(command.phone.strip())
    if command.name is not None:
        changes["name"] = clean_text(errors, command.name, "name", max_length=MAX_NAME)
    if command.region is not None:
        changes["region"] = clean_region(errors, command.region)
    if command.source_channel is not None:
        changes["source_channel"] = clean_channel(errors, command.source_channel)
    _require_contact(errors, has_email, has_phone)
    errors.raise_if_any()
    return changes


def merge_address(current: AddressRecord, command: UpdateAddress) -> AddressInput:
    """The address as it would be after the update (unset fields keep their value)."""

    def pick(new: str | None, old: str | None) -> str | None:
        return old if new is None else new

    return AddressInput(
        recipient=pick(command.recipient, current.recipient) or "",
        line1=pick(command.line1, current.line1) or "",
        city=pick(command.city, current.city) or "",
        country=pick(command.country, current.country) or "",
        line2=pick(command.line2, current.line2),
        phone=pick(command.phone, current.phone),
        region=pick(command.region, current.region),
        postal_code=pick(command.postal_code, current.postal_code),
        label=pick(command.label, current.label),
        is_default=current.is_default if command.is_default is None else command.is_default,
    )


@dataclass(frozen=True)
class CleanSearch:
    email: str | None
    phone: str | None
    tag: str | None
    source_channel: str | None
    region: str | None
    registered_from: datetime | None
    registered_to: datetime | None


def clean_search(query: SearchCustomers) -> CleanSearch:
    errors = FieldErrorCollector()
    start = clean_moment(errors, query.registered_from, "registered_from")
    end = clean_moment(errors, query.registered_to, "registered_to")
    if start is not None and end is not None and start >= end:
        errors.add("registered_to", E.REVERSED_RANGE, "registered_to must be after registered_from")
    search = CleanSearch(
        email=normalize_email(query.email) if query.email and query.email.strip() else None,
        phone=normalize_phone(query.phone) if query.phone and query.phone.strip() else None,
        tag=normalize_tag(query.tag) if query.tag and query.tag.strip() else None,
        source_channel=clean_channel(errors, query.source_channel)
        if query.source_channel
        else None,
        region=query.region.strip().upper() if query.region and query.region.strip() else None,
        registered_from=start,
        registered_to=end,
    )
    errors.raise_if_any()
    return search
