"""Pure rules: normalisation, validation (every error at once), masking, consent history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.customers import (
    AddressInput,
    RegisterCustomer,
    SearchCustomers,
    UpdateAddress,
    UpdateCustomer,
    rules,
)
from shopops.contexts.customers.views import (
    AddressRecord,
    AuditFact,
    CustomerRecord,
    consent_history,
    customer_view,
)
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _errors(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[tuple[str, str]]:
    return {(e.field, e.code) for e in exc.value.errors}


def test_registration_reports_every_field_error_at_once() -> None:
    command = RegisterCustomer(
        email="not-an-email",
        phone="call me",
        name="x" * 201,
        source_channel="telegram",
        region="XX",
        tags=("ok", "Bad Tag!"),
        registered_at=NOW + timedelta(days=1),
        addresses=(
            AddressInput(recipient=" ", line1="1 Road", city="Paris", country="FRA"),
            AddressInput(recipient="A", line1="2 Road", city="", country="fr", postal_code="#1"),
        ),
    )
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_registration(command, now=NOW)
    assert exc.value.code == "validation.failed"
    assert _errors(exc) == {
        ("email", "customers.invalid_email"),
        ("phone", "customers.invalid_phone"),
        ("name", "customers.too_long"),
        ("source_channel", "customers.unknown_channel"),
        ("region", "customers.invalid_region"),
        ("tags", "customers.invalid_tag"),
        ("registered_at", "customers.in_future"),
        ("addresses.0.recipient", "customers.required"),
        ("addresses.0.country", "customers.invalid_country"),
        ("addresses.1.city", "customers.required"),
        ("addresses.1.postal_code", "customers.invalid_postal_code"),
    }


def test_registration_needs_an_email_or_a_phone_and_one_default_address() -> None:
    home = AddressInput("A", "1 Road", "Paris", "FR", is_default=True)
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_registration(RegisterCustomer(addresses=(home, home)), now=NOW)
    assert _errors(exc) == {
        ("email", "customers.contact_required"),
        ("addresses", "customers.several_default_addresses"),
    }


def test_registration_normalises_every_field() -> None:
    profile = rules.clean_registration(
        RegisterCustomer(
            email="  Jane.Doe@Example.COM ",
            phone="+86 138-1234 (5678)",
            name="  Jane   Doe ",
            source_channel=" Mini_Program ",
            region="cn-31",
            tags=("VIP", " vip ", "b2b"),
            addresses=(
                AddressInput(" Jane ", "88  Century Ave", " Shanghai", "cn", postal_code="ab1 2cd"),
            ),
        ),
        now=NOW,
    )
    assert (profile.email, profile.phone, profile.name) == (
        "jane.doe@example.com",
        "+8613812345678",
        "Jane Doe",
    )
    assert (profile.source_channel, profile.region, profile.tags) == (
        "mini_program",
        "CN-31",
        ("b2b", "vip"),
    )
    address = profile.addresses[0]
    assert (
        address.recipient,
        address.line1,
        address.city,
        address.country,
        address.postal_code,
    ) == (
        "Jane",
        "88 Century Ave",
        "Shanghai",
        "CN",
        "AB1 2CD",
    )


def test_naive_registration_time_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_registration(
            RegisterCustomer(phone="13812345678", registered_at=datetime(2026, 1, 1)), now=NOW
        )
    assert _errors(exc) == {("registered_at", "customers.naive_datetime")}


def test_update_cleans_only_sent_fields_and_keeps_a_contact() -> None:
    changes = rules.clean_update(
        UpdateCustomer(1, email="", name="  Ann  "), has_email=True, has_phone=True
    )
    assert changes == {"email": None, "name": "Ann"}
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_update(UpdateCustomer(1, email="", phone=" "), has_email=True, has_phone=True)
    assert _errors(exc) == {("email", "customers.contact_required")}
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_update(UpdateCustomer(1, phone=""), has_email=False, has_phone=True)
    assert _errors(exc) == {("email", "customers.contact_required")}


def test_merge_address_keeps_unsent_fields_and_removes_blank_ones() -> None:
    current = AddressRecord(
        7, "home", "Jane", "1 Road", "Flat 2", "13812345678", "Paris", None, "75001", "FR", True
    )
    merged = rules.merge_address(current, UpdateAddress(1, 7, line2="", city="Lyon"))
    clean = rules.clean_address(FieldErrorCollector(), merged)
    assert (clean.line1, clean.line2, clean.city, clean.phone, clean.is_default) == (
        "1 Road",
        None,
        "Lyon",
        "13812345678",
        True,
    )


def test_search_rejects_reversed_ranges_and_unknown_channels() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.clean_search(
            SearchCustomers(source_channel="fax", registered_from=NOW, registered_to=NOW)
        )
    assert _errors(exc) == {
        ("source_channel", "customers.unknown_channel"),
        ("registered_to", "customers.reversed_range"),
    }


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("jane@example.com", True),
        ("j.o+tag@mail.example.co.uk", True),
        ("x@xn--p1ai.xn--p1ai", True),
        ("jane@example", False),
        ("jane..doe@example.com", False),
        ("jane doe@example.com", False),
        ("@example.com", False),
        ("jane@-example.com", False),
        ("a" * 65 + "@example.com", False),
    ],
)
def test_email_validity(email: str, valid: bool) -> None:
    assert rules.is_valid_email(email) is valid


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("13812345678", True),
        ("+1 (415) 555-0100", True),
        ("123456", False),
        ("1234567890123456", False),
        ("138-CALL-NOW", False),
        ("13+812345678", False),
    ],
)
def test_phone_validity(phone: str, valid: bool) -> None:
    assert rules.is_valid_phone(phone) is valid


# ---- masking policy ----


def _record(email: str | None, phone: str | None, name: str | None) -> CustomerRecord:
    address = AddressRecord(
        1, None, name, "88 Century Avenue", None, phone, "Shanghai", None, None, "CN", True
    )
    return CustomerRecord(
        id=1,
        email=email,
        phone=phone,
        name=name,
        tags=("vip",),
        marketing_email_consent=True,
        marketing_sms_consent=False,
        consent_updated_at=NOW,
        source_channel="web",
        region="CN-31",
        tier=None,
        registered_at=NOW,
        erased_at=None,
        created_at=NOW,
        updated_at=NOW,
        addresses=(address,),
    )


def test_masked_view_shows_the_documented_shapes() -> None:
    view = customer_view(_record("jane.doe@example.com", "13812345678", "Jane Doe"), reveal=False)
    assert (view.email, view.phone, view.name, view.pii_masked) == (
        "j***@example.com",
        "138****5678",
        "J*** D**",
        True,
    )
    assert view.addresses is not None
    address = view.addresses[0]
    assert (address.recipient, address.line1, address.phone, address.city) == (
        "J*** D**",
        "88***",
        "138****5678",
        "Shanghai",
    )


def test_revealed_view_is_the_record() -> None:
    record = _record("jane.doe@example.com", "13812345678", "Jane Doe")
    view = customer_view(record, reveal=True)
    assert (view.email, view.phone, view.name, view.pii_masked) == (
        record.email,
        record.phone,
        record.name,
        False,
    )
    assert view.addresses is not None
    assert view.addresses[0].line1 == "88 Century Avenue"


emails = st.emails().map(rules.normalize_email)
phones = st.text(alphabet="0123456789", min_size=8, max_size=15)
names = st.lists(
    st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12),
    min_size=1,
    max_size=4,
).map(" ".join)


@given(emails, phones, names)
def test_masking_never_discloses_the_whole_value(email: str, phone: str, name: str) -> None:
    view = customer_view(_record(email, phone, name), reveal=False)
    local, _, domain = email.partition("@")
    assert view.email == f"{local[0]}***@{domain}"
    assert view.phone is not None
    assert view.phone.endswith(phone[-4:])
    visible_head = view.phone.index("*")
    assert view.phone[:visible_head] == phone[:visible_head]
    assert len(phone) - visible_head - 4 >= 4  # at least four digits stay hidden
    assert view.name is not None
    for part, masked in zip(name.split(), view.name.split(), strict=True):
        assert masked[0] == part[0]
        assert set(masked[1:]) == {"*"}


@given(st.none() | st.just(""))
def test_masking_keeps_absent_values_absent(value: str | None) -> None:
    view = customer_view(_record(value, value, value), reveal=False)
    assert (view.email, view.phone, view.name) == (value, value, value)


# ---- normalisation properties ----


@given(emails)
def test_valid_emails_stay_valid_and_normalisation_is_idempotent(email: str) -> None:
    assert rules.is_valid_email(email)
    assert rules.normalize_email(f"  {email.upper()} ") == email.lower()
    assert rules.normalize_email(rules.normalize_email(email)) == rules.normalize_email(email)


separators = st.sampled_from([" ", "-", ".", ""])


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=15),
    st.lists(separators, min_size=15, max_size=15),
    st.booleans(),
)
def test_formatted_phones_normalise_to_the_same_lookup_key(
    digits: str, seps: list[str], plus: bool
) -> None:
    formatted = ("+" if plus else "") + "".join(d + s for d, s in zip(digits, seps, strict=False))
    assert rules.is_valid_phone(formatted)
    errors = FieldErrorCollector()
    assert rules.clean_phone(errors, formatted) == ("+" if plus else "") + digits
    assert not errors


@given(st.lists(st.text(max_size=45), max_size=8))
def test_tag_cleaning_is_idempotent_sorted_and_unique(raw: list[str]) -> None:
    errors = FieldErrorCollector()
    tags = rules.clean_tags(errors, raw)
    assert list(tags) == sorted(set(tags))
    assert all(rules.is_valid_tag(t) for t in tags)
    again = FieldErrorCollector()
    assert rules.clean_tags(again, tags) == tags
    assert not again
    assert len(errors.items) == sum(not rules.is_valid_tag(rules.normalize_tag(t)) for t in raw)


@given(st.text())
def test_text_normalisation_is_idempotent(raw: str) -> None:
    once = rules.normalize_text(raw)
    assert rules.normalize_text(once) == once
    assert once == once.strip()


@given(
    st.sampled_from(sorted(rules.COUNTRY_CODES)), st.from_regex(r"[A-Z0-9]{1,3}", fullmatch=True)
)
def test_every_country_and_subdivision_is_a_valid_region(country: str, subdivision: str) -> None:
    assert rules.is_valid_region(country)
    assert rules.is_valid_region(f"{country}-{subdivision}")
    assert not rules.is_valid_region(country.lower())


# ---- consent history ----


consent_changes = st.lists(
    st.fixed_dictionaries(
        {},
        optional={"marketing_email_consent": st.booleans(), "marketing_sms_consent": st.booleans()},
    ),
    max_size=10,
)


@given(consent_changes)
def test_consent_history_replays_each_change_in_order(changes: list[dict[str, bool]]) -> None:
    facts = [
        AuditFact(
            NOW + timedelta(minutes=i),
            "customer.consent_changed",
            "user",
            {name: {"before": not value, "after": value} for name, value in change.items()},
        )
        for i, change in enumerate(changes)
    ]
    history = consent_history(reversed(facts))  # order of input does not matter
    assert len(history) == sum(bool(c) for c in changes)
    state = {"marketing_email_consent": False, "marketing_sms_consent": False}
    expected = []
    for change in changes:
        if change:
            state.update(change)
            expected.append((state["marketing_email_consent"], state["marketing_sms_consent"]))
    assert [(h.marketing_email_consent, h.marketing_sms_consent) for h in history] == expected
