"""`shopops customers ...` against the test database, as the operator and `--as` staff."""

from __future__ import annotations

import csv
import io
import json
import stat
import sys
from pathlib import Path

import pytest

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.cli import main
from shopops.cli.context import state
from shopops.kernel.errors import PermissionDenied
from tests.conftest import StaffFactory
from tests.customers.conftest import JANE, JANE_MASKED, CliInvoke, audit_count


def _create(run_cli: CliInvoke, *extra: str) -> int:
    result = run_cli(
        "customers", "create", "--email", JANE["email"], "--phone", JANE["phone"],
        "--name", JANE["name"], "--region", "CN-31", "--tag", "VIP", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created customer 1 (jane.doe@example.com)" in result.output
    return 1


def test_operator_sees_everything_and_staff_see_their_role(
    run_cli: CliInvoke, make_staff: StaffFactory
) -> None:
    customer_id = _create(run_cli)
    shown = json.loads(run_cli("customers", "show", str(customer_id), "--format", "json").output)
    assert (shown["email"], shown["phone"], shown["name"], shown["tags"]) == (
        JANE["email"],
        JANE["phone"],
        JANE["name"],
        ["vip"],
    )
    analyst = make_staff(Role.ANALYST).user.email
    masked = run_cli("--as", analyst, "customers", "show", str(customer_id), "--format", "json")
    body = json.loads(masked.output)
    assert (body["email"], body["phone"], body["name"], body["pii_masked"]) == (
        JANE_MASKED["email"],
        JANE_MASKED["phone"],
        JANE_MASKED["name"],
        True,
    )
    agent = make_staff(Role.CS_AGENT).user.email
    listed = run_cli("--as", agent, "customers", "list", "--tag", "vip", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    assert [(r["id"], r["email"], r["phone"], r["region"]) for r in rows] == [
        ("1", JANE["email"], JANE["phone"], "CN-31")
    ]


def test_search_by_email_or_phone(run_cli: CliInvoke) -> None:
    _create(run_cli)
    for term in ("JANE.DOE@example.com", "138 1234 5678"):
        found = json.loads(run_cli("customers", "search", term, "--format", "json").output)
        assert [c["id"] for c in found] == [1]
    assert (
        json.loads(run_cli("customers", "search", "x@example.com", "--format", "json").output) == []
    )


def test_tag_and_consent(run_cli: CliInvoke) -> None:
    _create(run_cli)
    assert "tags: b2b vip" in run_cli("customers", "tag", "1", "B2B").output
    assert "tags: b2b" in run_cli("customers", "tag", "1", "vip", "--remove").output
    consent = run_cli("customers", "consent", "1", "--marketing-email", "--no-marketing-sms")
    assert "e-mail yes, SMS no" in consent.output
    shown = json.loads(run_cli("customers", "show", "1", "--format", "json").output)
    assert (shown["marketing_email_consent"], shown["tags"]) == (True, ["b2b"])


def test_export_writes_a_private_json_file(
    run_cli: CliInvoke, tmp_path: Path, make_staff: StaffFactory, container: Container
) -> None:
    _create(run_cli)
    target = tmp_path / "jane.json"
    result = run_cli("customers", "export", "1", "--out", str(target))
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    assert document["format"] == "shopops.customer-export/1"
    assert (document["customer"]["email"], document["customer"]["pii_masked"]) == (
        JANE["email"],
        False,
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    analyst = make_staff(Role.ANALYST).user.email
    before = audit_count(container)
    denied = run_cli("--as", analyst, "customers", "export", "1", "--out", str(tmp_path / "x.json"))
    assert isinstance(denied.exception, PermissionDenied)
    assert not (tmp_path / "x.json").exists()
    assert audit_count(container) == before


def test_erase_asks_first_unless_yes(run_cli: CliInvoke) -> None:
    _create(run_cli)
    declined = run_cli("customers", "erase", "1", input="n\n")
    assert declined.exit_code == 1
    assert json.loads(run_cli("customers", "show", "1", "--format", "json").output)["email"]
    erased = run_cli("customers", "erase", "1", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "customer 1 erased at 2026-03-01 08:00:00 UTC" in erased.output
    shown = json.loads(run_cli("customers", "show", "1", "--format", "json").output)
    assert (shown["email"], shown["phone"], shown["name"], shown["erased_at"]) == (
        None,
        None,
        None,
        "2026-03-01T08:00:00+00:00",
    )


def test_domain_errors_become_exit_codes(
    run_cli: CliInvoke, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def exit_code(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["shopops", *args])
        with pytest.raises(SystemExit) as exc:
            main.run()
        return int(exc.value.code or 0)

    assert state._container is not None
    assert exit_code("customers", "show", "42") == 4
    assert exit_code("customers", "create", "--email", "bad", "--phone", "1") == 3
    err = capsys.readouterr().err
    assert "customers.invalid_email" in err
    assert "customers.invalid_phone" in err
    _create(run_cli)
    assert exit_code("customers", "create", "--email", JANE["email"]) == 5
