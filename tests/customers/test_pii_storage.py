"""Personal data at rest: after a full workout of the context (API included), no table row,
and on SQLite no byte of the database file or its WAL, holds a plaintext e-mail, phone,
name or address line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from shopops.auth.permissions import Role
from shopops.bootstrap import Container, metadata
from shopops.contexts import customers
from shopops.contexts.customers.models import Customer
from tests.conftest import ClientFactory
from tests.customers.conftest import Run, role_actor

CS = role_actor(Role.CS_AGENT)
PROBE = {
    "email": "Quill.Probe-Storage@Example.org",
    "phone": "139 9876 5432",
    "name": "Zebulon Quaxworth",
}
API_PROBE = {
    "email": "marisol.vantablack@example.net",
    "phone": "+1 415 555 0199",
    "name": "Marisol Vantablack",
}
ERASED_PROBE = {
    "email": "erasmus.forgetme@example.com",
    "phone": "13700009999",
    "name": "Erasmus Forgetme",
}
ADDRESS = customers.AddressInput(
    recipient="Ottoline Pemberwick",
    line1="417 Marmalade Crescent",
    line2="Suite 9Q",
    phone="+44 20 7946 0958",
    city="London",
    postal_code="SW1A 1AA",
    country="GB",
)
SECRETS = [
    "Quill.Probe-Storage@Example.org",
    "quill.probe-storage@example.org",
    "13998765432",
    "9876 5432",
    "Zebulon",
    "Quaxworth",
    "marisol.vantablack@example.net",
    "+14155550199",
    "Vantablack",
    "erasmus.forgetme@example.com",
    "13700009999",
    "Forgetme",
    "Ottoline",
    "Pemberwick",
    "Marmalade",
    "Suite 9Q",
    "+442079460958",
    "7946 0958",
    "13811112222",  # the phone Quill changes to
]


def _exercise(run: Run, client: TestClient) -> int:
    """Every path that writes: register, update, address, consent, tags, export, search, erase."""
    quill = run(
        CS, customers.register_customer, customers.RegisterCustomer(**PROBE, addresses=(ADDRESS,))
    )
    run(CS, customers.update_customer, customers.UpdateCustomer(quill.id, phone="13811112222"))
    run(CS, customers.add_address, customers.AddAddress(quill.id, ADDRESS))
    run(CS, customers.set_consent, customers.SetConsent(quill.id, marketing_email=True))
    run(CS, customers.tag_customer, customers.TagCustomer(quill.id, ("vip",)))
    run(CS, customers.export_customer, quill.id)
    created = client.post(
        "/v1/customers",
        json={**API_PROBE, "addresses": [ADDRESS.__dict__]},
        headers={"Idempotency-Key": "probe-1"},  # the stored response holds plaintext
    )
    assert created.status_code == 201, created.text
    assert created.json()["email"] == API_PROBE["email"]
    found = client.post("/v1/customers/search", json={"email": API_PROBE["email"]})
    assert [c["id"] for c in found.json()["items"]] == [created.json()["id"]]
    assert client.get(f"/v1/customers/{created.json()['id']}/export").status_code == 200
    erased = run(
        CS,
        customers.register_customer,
        customers.RegisterCustomer(**ERASED_PROBE, addresses=(ADDRESS,)),
    )
    run(CS, customers.erase_customer, customers.EraseCustomer(erased.id, confirm=True))
    return quill.id


def _leaks(blob: bytes) -> list[str]:
    return [secret for secret in SECRETS if secret.encode() in blob]


def _all_rows(container: Container) -> bytes:
    parts: list[bytes] = []
    with container.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                for value in row:
                    parts.append(
                        bytes(value)
                        if isinstance(value, (bytes, memoryview))
                        else str(value).encode()
                    )
    return b"\x00".join(parts)


def test_no_plaintext_in_any_row(run: Run, client_as: ClientFactory, container: Container) -> None:
    quill_id = _exercise(run, client_as(Role.CS_AGENT))
    with container.engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT email_encrypted, phone_encrypted, name_encrypted, email_hash"
                " FROM customers WHERE id = :id"
            ),
            {"id": quill_id},
        ).one()
    # The data is there, only sealed: the key opens it, the hash finds it.
    assert container.pii.decrypt(bytes(stored[0])) == "quill.probe-storage@example.org"
    assert container.pii.decrypt(bytes(stored[1])) == "13811112222"
    assert container.pii.decrypt(bytes(stored[2])) == "Zebulon Quaxworth"
    assert stored[3] == container.pii.lookup_hash("quill.probe-storage@example.org")
    blob = _all_rows(container)
    assert b"London" in blob  # the scan sees plaintext where plaintext is allowed
    assert _leaks(blob) == []


def test_no_plaintext_in_the_sqlite_files(
    run: Run, client_as: ClientFactory, container: Container, db_kind: str
) -> None:
    if db_kind != "sqlite":
        return  # PostgreSQL keeps its files on the server: covered by the row scan above
    _exercise(run, client_as(Role.CS_AGENT))
    database = Path(str(container.engine.url.database))
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    before_checkpoint = b"".join(p.read_bytes() for p in files if p.exists())
    assert Path(f"{database}-wal").stat().st_size > 0  # the writes really are in the WAL
    assert _leaks(before_checkpoint) == []
    checkpointer = sqlite3.connect(database, isolation_level=None)  # outside any transaction
    try:
        busy, _, _ = checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        checkpointer.close()
    assert busy == 0
    after_checkpoint = b"".join(p.read_bytes() for p in files if p.exists())
    assert b"London" in after_checkpoint
    assert _leaks(after_checkpoint) == []
    with container.session_factory() as session:
        assert session.scalars(select(Customer.id)).all()  # the rows are in the file
