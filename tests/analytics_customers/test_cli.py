"""`shopops rfm | cohorts | segments | clv` against the test database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.kernel.errors import PermissionDenied, ValidationFailed
from tests.analytics_customers.conftest import DATA, Buy, Person, Seeded, seed
from tests.conftest import CliInvoke, StaffFactory

# Twelve customers with one to four orders each, so that segments have enough members to
# take PostgreSQL's COPY path when stored.
PEOPLE = [Person(n, tier="gold" if n % 3 == 0 else None) for n in range(1, 13)]
BUYS = [
    Buy(n, days_ago, 1_000 * n + 10 * k)
    for n in range(1, 13)
    for k, days_ago in enumerate((300 - 20 * n, 200 - 10 * n, 100 - 5 * n, 30)[: 1 + n % 4])
]


@pytest.fixture
def store(container: Container) -> Seeded:
    return seed(container, PEOPLE, BUYS)


def test_rfm_summary_and_customers(store: Seeded, container: Container, cli: CliInvoke) -> None:
    result = cli(container, "rfm", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [row["segment"] for row in summary][:3] == ["Champions", "Loyal", "Potential Loyalist"]
    assert sum(row["customers"] for row in summary) == 12
    per_customer = cli(container, "rfm", "--customers", "--bins", "3", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(per_customer.stdout)))
    assert len(rows) == 12
    assert {int(r["r"]) for r in rows} <= {1, 2, 3}


def test_cohorts_csv_and_heatmap(
    store: Seeded, container: Container, cli: CliInvoke, tmp_path: Path
) -> None:
    png = tmp_path / "out.png"
    result = cli(
        container, "cohorts", "--grain", "month", "--measure", "customers",
        "--png", str(png), "--format", "csv", "--periods", "12",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cohort,customers," + ",".join(str(k) for k in range(12))
    assert sum(int(line.split(",")[1]) for line in lines[1:]) == 12
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    revenue = cli(container, "cohorts", "--measure", "revenue", "--format", "json")
    assert json.loads(revenue.stdout)[0]["0"] == 1.0


def test_segments_from_create_to_export(
    store: Seeded, container: Container, cli: CliInvoke, tmp_path: Path
) -> None:
    rule = json.dumps({"field": "order_count", "op": "gte", "value": 2})
    created = cli(container, "segments", "create", "Repeat buyers", "--rule", rule)
    assert created.exit_code == 0, created.output
    rule_file = tmp_path / "gold.json"
    rule_file.write_text(json.dumps({"field": "tier", "op": "eq", "value": "gold"}))
    assert cli(container, "segments", "create", "Gold", "--rule", f"@{rule_file}").exit_code == 0
    preview = cli(container, "segments", "preview", "--rule", rule)
    assert preview.stdout.startswith("9 customers")  # n % 4 != 0: 1+n%4 >= 2 orders
    assert "refreshed 2 segment(s)" in cli(container, "segments", "refresh").stdout
    listed = json.loads(cli(container, "segments", "list", "--format", "json").stdout)
    assert [(s["name"], s["members"]) for s in listed] == [("Repeat buyers", 9), ("Gold", 4)]
    out = tmp_path / "repeat.csv"
    exported = cli(container, "segments", "export", str(listed[0]["id"]), "--output", str(out))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [int(r["customer_id"]) for r in rows] == sorted(
        store.customer_ids[n] for n in range(1, 13) if n % 4
    )
    one = cli(container, "segments", "refresh", str(listed[1]["id"]))
    assert one.stdout.strip() == f"segment {listed[1]['id']} (Gold): 4 members"


def test_a_rule_with_an_unknown_field_fails_with_the_allowed_list(
    store: Seeded, container: Container, cli: CliInvoke
) -> None:
    bad = json.dumps({"field": "favourite_colour", "op": "eq", "value": "red"})
    result = cli(container, "segments", "create", "Colour", "--rule", bad)
    error = result.exception
    assert isinstance(error, ValidationFailed)
    assert error.code == "segments.unknown_field"
    assert "allowed fields: total_spend" in error.message
    assert cli(container, "segments", "preview", "--rule", "{not json").exception.code == (
        "segments.invalid_rule"
    )


def test_clv_fit_and_predict(store: Seeded, container: Container, cli: CliInvoke) -> None:
    missing = cli(container, "clv", "predict")
    assert missing.exception.code == "clv.no_model"
    fitted = cli(container, "clv", "fit", "--model", "paretonbd", "--unit-days", "1")
    assert fitted.exit_code == 0, fitted.output
    assert "paretonbd on 12 customers" in fitted.stdout
    predicted = json.loads(cli(container, "clv", "predict", "--format", "json").stdout)
    assert len(predicted) == 12
    values = [row["clv_minor"] for row in predicted]
    assert values == sorted(values, reverse=True)
    assert all(0 <= row["probability_alive"] <= 1 for row in predicted)


def test_clv_fit_on_the_cdnow_file(container: Container, cli: CliInvoke) -> None:
    result = cli(container, "clv", "fit", "--cdnow", str(DATA / "CDNOW_sample.txt"))
    assert result.exit_code == 0, result.output
    assert "bgnbd on 2357 customers: r=0.2426, alpha=4.414, a=0.7929, b=2.426" in result.stdout
    assert "log-likelihood: -9582.4" in result.stdout
    assert "p=6.25, q=3.744, gamma=15.44" in result.stdout


def test_staff_act_with_their_role(
    store: Seeded, container: Container, cli: CliInvoke, make_staff: StaffFactory
) -> None:
    analyst = make_staff(Role.ANALYST).user.email
    rule = json.dumps({"field": "order_count", "op": "gte", "value": 1})
    denied = cli(container, "--as", analyst, "segments", "create", "All", "--rule", rule)
    assert isinstance(denied.exception, PermissionDenied)
    assert cli(container, "--as", analyst, "rfm").exit_code == 0
