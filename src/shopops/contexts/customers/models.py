"""Customer profiles and addresses.

Personal data lives only in the ``*_encrypted`` columns (AES-GCM with the PII
key from settings); ``email_hash``/``phone_hash`` are keyed hashes for exact
lookups. Everything else (channel, region, dates, flags, tags) is plaintext.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        # JSONB containment (`tags @> '["vip"]'`) on PostgreSQL; a plain index elsewhere.
        Index(
            "ix_customers_tags",
            "tags",
            postgresql_using="gin",
            postgresql_ops={"tags": "jsonb_path_ops"},
        ),
        Index("ix_customers_updated_at", "updated_at"),  # the analytics refresh's watermark
    )

    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    name_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    tags: Mapped[list[str]] = mapped_column(default=list)
    marketing_email_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_updated_at: Mapped[datetime | None]
    source_channel: Mapped[str] = mapped_column(String(20), index=True)
    registered_at: Mapped[datetime] = mapped_column(index=True)
    region: Mapped[str | None] = mapped_column(String(10), index=True)
    tier: Mapped[str | None] = mapped_column(String(30))
    erased_at: Mapped[datetime | None]

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def set_consent(self, *, email: bool | None, sms: bool | None, moment: datetime) -> bool:
        """Apply the given flags; True when something changed."""
        new_email = self.marketing_email_consent if email is None else email
        new_sms = self.marketing_sms_consent if sms is None else sms
        if (new_email, new_sms) == (self.marketing_email_consent, self.marketing_sms_consent):
            return False
        self.marketing_email_consent, self.marketing_sms_consent = new_email, new_sms
        self.consent_updated_at = moment
        return True

    def add_tags(self, tags: Iterable[str]) -> tuple[str, ...]:
        added = tuple(sorted(set(tags) - set(self.tags)))
        if added:
            self.tags = sorted({*self.tags, *added})
        return added

    def remove_tags(self, tags: Iterable[str]) -> tuple[str, ...]:
        removed = tuple(sorted(set(tags) & set(self.tags)))
        if removed:
            self.tags = [t for t in self.tags if t not in removed]
        return removed

    def erase(self, moment: datetime) -> None:
        """Anonymise: wipe every ciphertext and hash, tags and consents.

        The row (and its id) stays so orders and analytics remain consistent.
        """
        self.email_encrypted = self.email_hash = None
        self.phone_encrypted = self.phone_hash = None
        self.name_encrypted = None
        self.tags = []
        self.marketing_email_consent = self.marketing_sms_consent = False
        self.consent_updated_at = moment
        self.erased_at = moment


class CustomerAddress(IdMixin, TimestampMixin, Base):
    __tablename__ = "customer_addresses"

    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(50))
    recipient_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    line1_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    line2_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
