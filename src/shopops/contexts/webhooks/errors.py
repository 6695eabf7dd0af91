"""Stable error codes of the webhooks context."""

from __future__ import annotations

from enum import StrEnum


class WebhookError(StrEnum):
    SUBSCRIPTION_NOT_FOUND = "webhooks.subscription_not_found"
    MESSAGE_NOT_FOUND = "webhooks.message_not_found"
    MESSAGE_IN_FLIGHT = "webhooks.message_in_flight"
    SUBSCRIPTION_INACTIVE = "webhooks.subscription_inactive"
    # field error codes
    INVALID_URL = "webhooks.invalid_url"
    UNSUPPORTED_SCHEME = "webhooks.unsupported_scheme"
    URL_HAS_CREDENTIALS = "webhooks.url_has_credentials"
    URL_TOO_LONG = "webhooks.url_too_long"
    NO_EVENT_TYPES = "webhooks.no_event_types"
    UNKNOWN_EVENT_TYPE = "webhooks.unknown_event_type"
    DESCRIPTION_TOO_LONG = "webhooks.description_too_long"
    UNKNOWN_STATUS = "webhooks.unknown_status"
