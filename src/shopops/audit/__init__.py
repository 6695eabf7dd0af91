"""Append-only audit trail of every change."""

from shopops.audit.models import AuditEntry
from shopops.audit.repository import AuditQuery, diff_fields, entry_row, list_entries

__all__ = ["AuditEntry", "AuditQuery", "diff_fields", "entry_row", "list_entries"]
