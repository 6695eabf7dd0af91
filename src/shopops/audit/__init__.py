"""Append-only audit trail of every change."""

from shopops.audit.models import AuditEntry
from shopops.audit.repository import AuditQuery, diff_fields, list_entries, record_entry

__all__ = ["AuditEntry", "AuditQuery", "diff_fields", "list_entries", "record_entry"]
