"""Customer schemas. Field rules (formats, allowed channels, country codes) are checked by
the customers context so that one response lists every field error together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.contexts.customers import SourceChannel

_CHANNELS = ", ".join(f"`{c}`" for c in SourceChannel)

_ADDRESS_EXAMPLE: dict[str, Any] = {
    "label": "home",
    "recipient": "Jane Doe",
    "line1": "88 Century Avenue",
    "line2": "Apt 1203",
    "phone": "13812345678",
    "city": "Shanghai",
    "region": "Shanghai",
    "postal_code": "200120",
    "country": "CN",
    "is_default": True,
}


class CustomerAddressCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ADDRESS_EXAMPLE]})

    recipient: str = Field(description="Personal data: encrypted at rest.")
    line1: str = Field(description="Personal data: encrypted at rest.")
    line2: str | None = Field(default=None, description="Personal data: encrypted at rest.")
    phone: str | None = Field(default=None, description="Personal data: encrypted at rest.")
    city: str
    region: str | None = Field(default=None, description="State or province.")
    postal_code: str | None = None
    country: str = Field(description="ISO 3166-1 alpha-2 code.", examples=["CN"])
    label: str | None = Field(default=None, examples=["home"])
    is_default: bool = False


class CustomerAddressUpdate(BaseModel):
    """Only the fields sent change; send `null` for an optional field to remove it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"line2": None, "city": "Beijing"}]})

    recipient: str | None = None
    line1: str | None = None
    line2: str | None = None
    phone: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    label: str | None = None
    is_default: bool | None = None


class CustomerAddressRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": 7, **_ADDRESS_EXAMPLE}]},
    )

    id: int
    label: str | None
    recipient: str | None
    line1: str | None
    line2: str | None
    phone: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool


class CustomerCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "jane.doe@example.com",
                    "phone": "13812345678",
                    "name": "Jane Doe",
                    "source_channel": "web",
                    "region": "CN-31",
                    "tags": ["vip"],
                    "marketing_email_consent": True,
                    "marketing_sms_consent": False,
                    "addresses": [_ADDRESS_EXAMPLE],
                }
            ]
        }
    )

    email: str | None = Field(default=None, description="E-mail or phone is required.")
    phone: str | None = Field(default=None, description="7-15 digits, optionally with +.")
    name: str | None = None
    source_channel: str = Field(default="web", description=f"One of {_CHANNELS}.")
    region: str | None = Field(default=None, description="ISO 3166 code: `CN` or `CN-31`.")
    tags: list[str] = Field(default_factory=list)
    marketing_email_consent: bool = False
    marketing_sms_consent: bool = False
    registered_at: datetime | None = Field(
        default=None, description="For imports; defaults to now. ISO 8601 with offset."
    )
    addresses: list[CustomerAddressCreate] = Field(default_factory=list)


class CustomerUpdate(BaseModel):
    """Only the fields sent change; `null` removes e-mail, phone, name or region.

    Consent and tags have their own endpoints so that every change is audited as such.
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+86 138 0000 1111", "name": None}]}
    )

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    region: str | None = None
    source_channel: str | None = None


class CustomerRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "email": "j***@example.com",
                    "phone": "138****5678",
                    "name": "J*** D**",
                    "tags": ["vip"],
                    "marketing_email_consent": True,
                    "marketing_sms_consent": False,
                    "consent_updated_at": "2026-03-01T08:00:00Z",
                    "source_channel": "web",
                    "region": "CN-31",
                    "tier": None,
                    "registered_at": "2026-03-01T08:00:00Z",
                    "erased_at": None,
                    "created_at": "2026-03-01T08:00:00Z",
                    "updated_at": "2026-03-01T08:00:00Z",
                    "pii_masked": True,
                    "addresses": [],
                }
            ]
        },
    )

    id: int
    email: str | None
    phone: str | None
    name: str | None
    tags: list[str]
    marketing_email_consent: bool
    marketing_sms_consent: bool
    consent_updated_at: datetime | None
    source_channel: str
    region: str | None
    tier: str | None
    registered_at: datetime
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pii_masked: bool = Field(
        description="True when personal fields are masked (caller lacks `customers.pii.read`)."
    )
    addresses: list[CustomerAddressRead] | None = Field(
        description="Null in lists; read one customer to get the addresses."
    )


class CustomerSearch(BaseModel):
    """Search filters in a body, so e-mail addresses and phones never appear in URLs or logs."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "jane.doe@example.com"}, {"tag": "vip"}]}
    )

    email: str | None = Field(default=None, description="Exact match after normalisation.")
    phone: str | None = Field(default=None, description="Exact match after normalisation.")
    tag: str | None = None
    source_channel: str | None = None
    region: str | None = Field(default=None, description="`CN` also matches `CN-31`.")
    registered_from: datetime | None = Field(default=None, description="Inclusive.")
    registered_to: datetime | None = Field(default=None, description="Exclusive.")
    include_erased: bool = False
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


class CustomerConsentUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marketing_sms": False}]})

    marketing_email: bool | None = Field(default=None, description="Omit to leave unchanged.")
    marketing_sms: bool | None = Field(default=None, description="Omit to leave unchanged.")


class CustomerTagsAdd(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"tags": ["vip", "wholesale"]}]})

    tags: list[str] = Field(min_length=1)


class CustomerEraseRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"confirm": True}]})

    confirm: bool = Field(default=False, description="Must be true: erasure is irreversible.")


class CustomerConsentChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    action: str
    marketing_email_consent: bool
    marketing_sms_consent: bool
    actor_kind: str


class CustomerExportRead(BaseModel):
    """A data-subject export: everything the customers context holds about one person."""

    model_config = ConfigDict(from_attributes=True)

    format: str = Field(examples=["shopops.customer-export/1"])
    generated_at: datetime
    customer: CustomerRead
    consent_history: list[CustomerConsentChangeRead]
