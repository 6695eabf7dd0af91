"""docs/roles.md must match the permissions the code grants."""

from __future__ import annotations

from pathlib import Path

from shopops.auth.permissions import ROLE_PERMISSIONS, Permission, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def test_roles_table_matches_code() -> None:
    rows = {}
    header: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().split("|")[1:-1]]
        if cells and cells[0] == "permission":
            header = cells[1:]
        elif header and cells and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = {
                role for role, mark in zip(header, cells[1:], strict=True) if mark == "✓"
            }
    assert header == [r.value for r in Role]
    assert set(rows) == {p.value for p in Permission}
    for permission in Permission:
        granted = {r.value for r in Role if permission in ROLE_PERMISSIONS[r]}
        assert rows[permission.value] == granted, permission
