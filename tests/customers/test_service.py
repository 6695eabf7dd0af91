"""Customer use cases on a real database: masking per role, lookups, uniqueness, audit,
events, addresses, consent, tags, export and erasure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import customers
from shopops.contexts.customers.models import Customer, CustomerAddress
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor, jsonable
from shopops.kernel.time import FrozenClock
from tests.customers.conftest import HOME, JANE, JANE_MASKED, NOW, Run, audit_count, role_actor

Register = Callable[..., customers.CustomerView]
CS = role_actor(Role.CS_AGENT)
ANALYST = role_actor(Role.ANALYST)
MARKETING = role_actor(Role.MARKETING)
OPS = role_actor(Role.OPS_MANAGER)


def _get(run: Run, actor: Actor, customer_id: int) -> customers.CustomerView:
    return run(actor, customers.get_customer, customer_id)


def _search(run: Run, actor: Actor = CS, **filters: object) -> customers.CustomerPage:
    return run(actor, customers.search_customers, customers.SearchCustomers(**filters))  # type: ignore[arg-type]


def _audit(container: Container, action: str) -> list[AuditEntry]:
    with container.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _events(container: Container, event_type: str) -> list[dict[str, object]]:
    with container.session_factory() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type))
        return [row.payload for row in rows]


# ---- masking per role ----


@pytest.mark.parametrize(
    ("role", "masked"),
    [
        (Role.CS_AGENT, False),
        (Role.OWNER, False),
        (Role.ANALYST, True),
        (Role.MARKETING, True),
        (Role.OPS_MANAGER, True),
        (Role.FINANCE, True),
    ],
)
def test_reads_are_masked_unless_the_actor_holds_pii_read(
    run: Run, register: Register, role: Role, masked: bool
) -> None:
    created = register()
    view = _get(run, role_actor(role), created.id)
    expected = JANE_MASKED if masked else JANE
    assert (view.email, view.phone, view.name, view.pii_masked) == (
        expected["email"],
        expected["phone"],
        expected["name"],
        masked,
    )
    assert view.addresses is not None
    address = view.addresses[0]
    shown = (
        ("J*** D**", "88***", "Ap***", "138****5678")
        if masked
        else (
            "Jane Doe",
            "88 Century Avenue",
            "Apt 1203",
            "13812345678",
        )
    )
    assert (address.recipient, address.line1, address.line2, address.phone) == shown
    assert (address.city, address.postal_code, address.country) == ("Shanghai", "200120", "CN")


def test_warehouse_cannot_read_customers(run: Run, register: Register) -> None:
    created = register()
    with pytest.raises(PermissionDenied):
        _get(run, role_actor(Role.WAREHOUSE), created.id)


def test_a_writer_without_pii_read_gets_a_masked_result(run: Run) -> None:
    view = run(OPS, customers.register_customer, customers.RegisterCustomer(**JANE))
    assert (view.email, view.phone, view.pii_masked) == ("j***@example.com", "138****5678", True)


# ---- lookups and uniqueness ----


def test_lookup_by_email_and_phone_goes_through_the_hash(
    run: Run, register: Register, container: Container
) -> None:
    jane = register()
    register(email="other@example.com", phone="13900001111", name="Other")
    found = _search(run, email="  JANE.DOE@example.COM ")
    assert [v.id for v in found.items] == [jane.id]
    assert [v.id for v in _search(run, phone="138 1234 5678").items] == [jane.id]
    assert _search(run, email="nobody@example.com").items == []
    with container.session_factory() as session:
        row = session.get(Customer, jane.id)
        assert row is not None
        assert row.email_hash == container.pii.lookup_hash("jane.doe@example.com")
        assert row.phone_hash == container.pii.lookup_hash("13812345678")


def test_email_is_unique_whatever_its_case(
    run: Run, register: Register, container: Container
) -> None:
    register()
    before = audit_count(container)
    with pytest.raises(Conflict) as exc:
        register(email="Jane.Doe@EXAMPLE.com", phone="13900001111")
    assert exc.value.code == "customers.email_taken"
    other = register(email="other@example.com")  # phones may repeat (households share one)
    assert audit_count(container) == before + 1
    with pytest.raises(Conflict) as exc:
        run(
            CS,
            customers.update_customer,
            customers.UpdateCustomer(other.id, email="jane.doe@example.com"),
        )
    assert exc.value.code == "customers.email_taken"


def test_phones_may_be_shared_and_lookup_returns_every_holder(run: Run, register: Register) -> None:
    first = register()
    second = register(email="partner@example.com", name="Partner")
    assert [v.id for v in _search(run, phone="+13812345678").items] == []
    assert [v.id for v in _search(run, phone="13812345678").items] == [first.id, second.id]


def test_validation_reports_all_errors_and_writes_nothing(run: Run, container: Container) -> None:
    with pytest.raises(ValidationFailed) as exc:
        run(
            CS,
            customers.register_customer,
            customers.RegisterCustomer(email="bad", phone="12", source_channel="fax", region="ZZ"),
        )
    assert {(e.field, e.code) for e in exc.value.errors} == {
        ("email", "customers.invalid_email"),
        ("phone", "customers.invalid_phone"),
        ("source_channel", "customers.unknown_channel"),
        ("region", "customers.invalid_region"),
    }
    assert audit_count(container) == 0


def test_unknown_customer_is_not_found(run: Run) -> None:
    with pytest.raises(NotFound) as exc:
        _get(run, CS, 12345)
    assert exc.value.code == "customers.not_found"


# ---- updates, audit and events ----


def test_update_audits_markers_not_values_and_emits_changed_fields(
    run: Run, register: Register, container: Container
) -> None:
    jane = register()
    view = run(
        CS,
        customers.update_customer,
        customers.UpdateCustomer(jane.id, phone="+86 139 0000 1111", name="", region="cn-11"),
    )
    assert (view.phone, view.name, view.region) == ("+8613900001111", None, "CN-11")
    [entry] = _audit(container, "customer.updated")
    assert entry.changes == {
        "phone": {"before": "(set)", "after": "(changed)"},
        "name": {"before": "(set)", "after": None},
        "region": {"before": None, "after": "CN-11"},
    }
    assert (entry.actor_kind, entry.actor_id) == ("user", CS.id)
    assert _events(container, "customer.updated") == [
        {"customer_id": jane.id, "changed_fields": ["phone", "name", "region"]}
    ]


def test_an_update_that_changes_nothing_is_not_audited(
    run: Run, register: Register, container: Container
) -> None:
    jane = register()
    before = audit_count(container)
    run(
        CS,
        customers.update_customer,
        customers.UpdateCustomer(jane.id, email="JANE.DOE@example.com", name="Jane  Doe"),
    )
    assert audit_count(container) == before
    assert _events(container, "customer.updated") == []


def test_registration_is_audited_and_announced_without_personal_data(
    register: Register, container: Container
) -> None:
    jane = register(tags=("VIP",), marketing_email_consent=True, region="CN-31")
    [entry] = _audit(container, "customer.registered")
    assert entry.changes == {
        "email": {"before": None, "after": "(set)"},
        "phone": {"before": None, "after": "(set)"},
        "name": {"before": None, "after": "(set)"},
        "tags": {"before": None, "after": ["vip"]},
        "source_channel": {"before": None, "after": "web"},
        "region": {"before": None, "after": "CN-31"},
        "marketing_email_consent": {"before": None, "after": True},
        "marketing_sms_consent": {"before": None, "after": False},
        "erased": {"before": None, "after": False},
        "addresses": {"before": None, "after": 1},
    }
    assert _events(container, "customer.registered") == [
        {
            "customer_id": jane.id,
            "source_channel": "web",
            "region": "CN-31",
            "registered_at": NOW.isoformat(),
            "marketing_email_consent": True,
            "marketing_sms_consent": False,
        }
    ]


def test_imported_customers_keep_their_registration_date(register: Register) -> None:
    earlier = NOW - timedelta(days=400)
    view = register(source_channel="import", registered_at=earlier)
    assert (view.registered_at, view.source_channel) == (earlier, "import")


# ---- consent and tags ----


def test_consent_changes_are_audited_timestamped_and_exported(
    run: Run, register: Register, container: Container, clock: FrozenClock
) -> None:
    jane = register(marketing_email_consent=True)
    clock.advance(timedelta(hours=1))
    view = run(
        CS,
        customers.set_consent,
        customers.SetConsent(jane.id, marketing_email=False, marketing_sms=True),
    )
    assert (view.marketing_email_consent, view.marketing_sms_consent) == (False, True)
    assert view.consent_updated_at == NOW + timedelta(hours=1)
    run(CS, customers.set_consent, customers.SetConsent(jane.id, marketing_sms=True))  # no change
    [entry] = _audit(container, "customer.consent_changed")
    assert entry.changes == {
        "marketing_email_consent": {"before": True, "after": False},
        "marketing_sms_consent": {"before": False, "after": True},
    }
    assert _events(container, "customer.consent_changed") == [
        {
            "customer_id": jane.id,
            "marketing_email_consent": False,
            "marketing_sms_consent": True,
            "changed_at": (NOW + timedelta(hours=1)).isoformat(),
        }
    ]
    export = run(CS, customers.export_customer, jane.id)
    assert [
        (c.at, c.action, c.marketing_email_consent, c.marketing_sms_consent)
        for c in export.consent_history
    ] == [
        (NOW, "customer.registered", True, False),
        (NOW + timedelta(hours=1), "customer.consent_changed", False, True),
    ]


def test_tags_are_normalised_added_and_removed(
    run: Run, register: Register, container: Container
) -> None:
    jane = register(tags=("vip",))
    view = run(CS, customers.tag_customer, customers.TagCustomer(jane.id, ("B2B", "vip")))
    assert view.tags == ("b2b", "vip")
    view = run(CS, customers.untag_customer, customers.UntagCustomer(jane.id, ("VIP", "absent")))
    assert view.tags == ("b2b",)
    assert [e.changes for e in _audit(container, "customer.tagged")] == [
        {"tags": {"before": ["vip"], "after": ["b2b", "vip"]}}
    ]
    assert _events(container, "customer.tags_changed") == [
        {"customer_id": jane.id, "added": ["b2b"], "removed": []},
        {"customer_id": jane.id, "added": [], "removed": ["vip"]},
    ]
    with pytest.raises(ValidationFailed) as exc:
        run(
            CS,
            customers.tag_customer,
            customers.TagCustomer(jane.id, tuple(f"t{i}" for i in range(50))),
        )
    assert [e.code for e in exc.value.errors] == ["customers.too_many_tags"]


# ---- search ----


def test_search_filters_and_paginates(run: Run, register: Register, clock: FrozenClock) -> None:
    ids = []
    for i, (channel, region, tags) in enumerate(
        [
            ("web", "CN-31", ("vip",)),
            ("store", "CN-11", ()),
            ("web", "US-CA", ("vip", "b2b")),
            ("app", "CN", ("b2b",)),
            ("web", "CN-31", ("vip",)),
        ]
    ):
        clock.set(NOW + timedelta(days=i))
        ids.append(
            register(email=f"c{i}@example.com", source_channel=channel, region=region, tags=tags).id
        )

    def found(**filters: object) -> list[int]:
        return [v.id for v in _search(run, ANALYST, **filters).items]

    assert found(tag="VIP") == [ids[0], ids[2], ids[4]]
    assert found(source_channel="web") == [ids[0], ids[2], ids[4]]
    assert found(region="cn") == [ids[0], ids[1], ids[3], ids[4]]
    assert found(region="CN-31") == [ids[0], ids[4]]
    assert (
        found(registered_from=NOW + timedelta(days=1), registered_to=NOW + timedelta(days=3))
        == ids[1:3]
    )
    assert found(tag="b2b", source_channel="web") == [ids[2]]
    seen, after = [], None
    while True:
        page = _search(run, ANALYST, after_id=after, limit=2)
        assert page.items
        assert all(v.addresses is None for v in page.items)
        seen += [v.id for v in page.items]
        if page.next_after_id is None:
            break
        after = page.next_after_id
    assert seen == ids


# ---- addresses ----


def test_address_lifecycle_keeps_exactly_one_default(
    run: Run, register: Register, container: Container
) -> None:
    jane = register(addresses=())
    first = run(CS, customers.add_address, customers.AddAddress(jane.id, HOME))
    assert first.is_default
    work = customers.AddressInput(
        "Jane Doe", "1 Office Park", "Beijing", "CN", label="work", is_default=True
    )
    second = run(CS, customers.add_address, customers.AddAddress(jane.id, work))
    defaults = {a.id: a.is_default for a in _get(run, CS, jane.id).addresses or ()}
    assert defaults == {first.id: False, second.id: True}
    changed = run(
        CS,
        customers.update_address,
        customers.UpdateAddress(jane.id, first.id, line2="", is_default=True),
    )
    assert (changed.line2, changed.line1, changed.is_default) == (None, "88 Century Avenue", True)
    defaults = {a.id: a.is_default for a in _get(run, CS, jane.id).addresses or ()}
    assert defaults == {first.id: True, second.id: False}
    run(CS, customers.remove_address, customers.RemoveAddress(jane.id, first.id))
    remaining = _get(run, CS, jane.id).addresses or ()
    assert [(a.id, a.is_default) for a in remaining] == [(second.id, True)]
    [updated] = _audit(container, "customer.address_updated")
    assert updated.changes == {
        "line2": {"before": "(set)", "after": None},
        "is_default": {"before": False, "after": True},
    }
    assert [p["change"] for p in _events(container, "customer.address_changed")] == [
        "added",
        "added",
        "updated",
        "removed",
    ]


def test_address_of_another_customer_is_not_found(run: Run, register: Register) -> None:
    jane = register()
    other = register(email="other@example.com")
    address_id = (_get(run, CS, jane.id).addresses or ())[0].id
    with pytest.raises(NotFound) as exc:
        run(CS, customers.remove_address, customers.RemoveAddress(other.id, address_id))
    assert exc.value.code == "customers.address_not_found"


def test_invalid_address_reports_every_field(run: Run, register: Register) -> None:
    jane = register()
    bad = customers.AddressInput("", "", "", "XX", phone="abc")
    with pytest.raises(ValidationFailed) as exc:
        run(CS, customers.add_address, customers.AddAddress(jane.id, bad))
    assert {(e.field, e.code) for e in exc.value.errors} == {
        ("recipient", "customers.required"),
        ("line1", "customers.required"),
        ("city", "customers.required"),
        ("country", "customers.invalid_country"),
        ("phone", "customers.invalid_phone"),
    }


# ---- permissions ----


def test_roles_without_write_change_nothing(
    run: Run, register: Register, container: Container
) -> None:
    jane = register()
    before = audit_count(container)
    for command, fn in [
        (customers.RegisterCustomer(email="x@example.com"), customers.register_customer),
        (customers.UpdateCustomer(jane.id, name="X"), customers.update_customer),
        (customers.SetConsent(jane.id, marketing_email=True), customers.set_consent),
        (customers.TagCustomer(jane.id, ("x",)), customers.tag_customer),
        (customers.AddAddress(jane.id, HOME), customers.add_address),
        (customers.EraseCustomer(jane.id, confirm=True), customers.erase_customer),
    ]:
        with pytest.raises(PermissionDenied):
            run(ANALYST, fn, command)
    assert audit_count(container) == before
    unchanged = _get(run, CS, jane.id)
    assert (unchanged.name, unchanged.tags, unchanged.erased_at) == ("Jane Doe", (), None)
    assert unchanged.marketing_email_consent is False
    assert len(unchanged.addresses or ()) == 1


def test_export_needs_pii_read(run: Run, register: Register) -> None:
    jane = register()
    for actor in (ANALYST, MARKETING, OPS):  # analysts and marketing hold customers.export
        with pytest.raises(PermissionDenied) as exc:
            run(actor, customers.export_customer, jane.id)
        assert exc.value.details == {"permission": "customers.pii.read"}


# ---- export and erasure ----


def test_export_holds_everything_unmasked_and_is_audited(
    run: Run, register: Register, container: Container
) -> None:
    jane = register(tags=("vip",), region="CN-31")
    export = run(CS, customers.export_customer, jane.id)
    assert export.format == "shopops.customer-export/1"
    assert export.generated_at == NOW
    assert (export.customer.email, export.customer.phone, export.customer.name) == (
        JANE["email"],
        JANE["phone"],
        JANE["name"],
    )
    assert export.customer.pii_masked is False
    assert [a.line1 for a in export.customer.addresses or ()] == ["88 Century Avenue"]
    [entry] = _audit(container, "customer.exported")
    assert (entry.entity_id, entry.changes) == (
        str(jane.id),
        {"export": {"before": None, "after": "shopops.customer-export/1"}},
    )


def test_erasure_needs_confirmation(run: Run, register: Register, container: Container) -> None:
    jane = register()
    before = audit_count(container)
    with pytest.raises(ValidationFailed) as exc:
        run(CS, customers.erase_customer, customers.EraseCustomer(jane.id))
    assert exc.value.code == "customers.confirmation_required"
    assert [e.field for e in exc.value.errors] == ["confirm"]
    assert audit_count(container) == before
    assert _get(run, CS, jane.id).erased_at is None


def test_erasure_makes_personal_data_unrecoverable(
    run: Run, register: Register, container: Container
) -> None:
    jane = register(tags=("vip",), marketing_email_consent=True, region="CN-31")
    view = run(CS, customers.erase_customer, customers.EraseCustomer(jane.id, confirm=True))
    assert (view.email, view.phone, view.name, view.tags, view.addresses) == (
        None,
        None,
        None,
        (),
        (),
    )
    assert (view.erased_at, view.marketing_email_consent) == (NOW, False)
    assert (view.id, view.region, view.source_channel) == (jane.id, "CN-31", "web")
    with container.session_factory() as session:
        row = session.get(Customer, jane.id)
        assert row is not None
        assert (
            row.email_encrypted,
            row.email_hash,
            row.phone_encrypted,
            row.phone_hash,
            row.name_encrypted,
        ) == (None,) * 5
        assert session.scalars(select(CustomerAddress)).all() == []
    assert _search(run, email=JANE["email"], include_erased=True).items == []
    [entry] = _audit(container, "customer.erased")
    assert entry.changes["email"] == {"before": "(set)", "after": None}
    assert entry.changes["addresses"] == {"before": 1, "after": 0}
    assert _events(container, "customer.erased") == [
        {"customer_id": jane.id, "erased_at": NOW.isoformat()}
    ]
    export = run(CS, customers.export_customer, jane.id)
    document = json.dumps(jsonable(export.__dict__ | {"customer": export.customer.__dict__}))
    for value in (*JANE.values(), "88 Century Avenue", "Apt 1203", "vip"):
        assert value not in document
    assert export.customer.erased_at == NOW


def test_erased_customers_cannot_change_and_leave_lists(run: Run, register: Register) -> None:
    jane = register()
    run(CS, customers.erase_customer, customers.EraseCustomer(jane.id, confirm=True))
    for fn, command in [
        (customers.update_customer, customers.UpdateCustomer(jane.id, name="Back")),
        (customers.set_consent, customers.SetConsent(jane.id, marketing_email=True)),
        (customers.add_address, customers.AddAddress(jane.id, HOME)),
        (customers.erase_customer, customers.EraseCustomer(jane.id, confirm=True)),
    ]:
        with pytest.raises(Conflict) as exc:
            run(CS, fn, command)
        assert exc.value.code == "customers.erased"
    assert _search(run).items == []
    assert [v.id for v in _search(run, include_erased=True).items] == [jane.id]
    register()  # the e-mail address is free again


def test_audit_and_outbox_never_hold_plaintext(
    run: Run, register: Register, container: Container
) -> None:
    jane = register()
    run(
        CS,
        customers.update_customer,
        customers.UpdateCustomer(jane.id, email="jane.new@example.com", phone="13900001111"),
    )
    run(CS, customers.add_address, customers.AddAddress(jane.id, HOME))
    run(CS, customers.set_consent, customers.SetConsent(jane.id, marketing_sms=True))
    run(CS, customers.export_customer, jane.id)
    run(CS, customers.erase_customer, customers.EraseCustomer(jane.id, confirm=True))
    with container.session_factory() as session:
        trail = json.dumps([e.changes for e in session.scalars(select(AuditEntry))])
        trail += json.dumps([e.payload for e in session.scalars(select(OutboxEvent))])
    for value in (
        "jane",
        "Jane",
        "13812345678",
        "13900001111",
        "8765",
        "Century",
        "Apt 1203",
        "5678",
    ):
        assert value not in trail


@pytest.mark.postgres_only
def test_concurrent_registrations_of_one_email_end_in_one_conflict(container: Container) -> None:
    results: list[object] = []
    flushed = threading.Event()

    def first() -> None:
        with container.uow(CS) as uow:
            customers.register_customer(uow, customers.RegisterCustomer(**JANE))
            flushed.set()
            threading.Event().wait(0.5)  # hold the row until the second insert waits on it
            uow.commit()
            results.append("first committed")

    def second() -> None:
        flushed.wait(5)
        try:
            with container.uow(CS) as uow:
                customers.register_customer(uow, customers.RegisterCustomer(**JANE))
                uow.commit()
                results.append("second committed")
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(map(str, results)) == ["customers.email_taken", "first committed"]
