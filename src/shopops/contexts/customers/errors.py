"""Stable error codes of the customers context."""

from __future__ import annotations

from enum import StrEnum


class CustomerError(StrEnum):
    NOT_FOUND = "customers.not_found"
    ADDRESS_NOT_FOUND = "customers.address_not_found"
    EMAIL_TAKEN = "customers.email_taken"
    ERASED = "customers.erased"
    TOO_MANY_ADDRESSES = "customers.too_many_addresses"
    CONFIRMATION_REQUIRED = "customers.confirmation_required"
    # field error codes
    REQUIRED = "customers.required"
    TOO_LONG = "customers.too_long"
    CONTACT_REQUIRED = "customers.contact_required"
    INVALID_EMAIL = "customers.invalid_email"
    INVALID_PHONE = "customers.invalid_phone"
    UNKNOWN_CHANNEL = "customers.unknown_channel"
    INVALID_COUNTRY = "customers.invalid_country"
    INVALID_REGION = "customers.invalid_region"
    INVALID_POSTAL_CODE = "customers.invalid_postal_code"
    INVALID_TAG = "customers.invalid_tag"
    TOO_MANY_TAGS = "customers.too_many_tags"
    SEVERAL_DEFAULTS = "customers.several_default_addresses"
    NAIVE_DATETIME = "customers.naive_datetime"
    IN_FUTURE = "customers.in_future"
    REVERSED_RANGE = "customers.reversed_range"
