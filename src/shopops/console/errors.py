"""Error codes in words the console's reader understands, in their language.

Domain errors carry English messages for API clients; the console shows the
translated text for codes it knows and the code itself otherwise, so nothing
untranslated reaches a Chinese-language screen unexplained.
"""

from __future__ import annotations

from shopops.console.i18n import N_, gettext

MESSAGES: dict[str, str] = {
    "auth.permission_denied": N_("You do not have permission to do this."),
    "auth.csrf_failed": N_("This form is out of date. Reload the page and try again."),
    "auth.invalid_credentials": N_("E-mail or password is incorrect."),
    "auth.too_many_attempts": N_("Too many failed sign-ins. Try again later."),
    "validation.failed": N_("Some fields need your attention."),
    "validation.required": N_("This field is required."),
    "validation.invalid": N_("This value is not valid."),
    "validation.invalid_date": N_("Enter a valid date (YYYY-MM-DD)."),
    "validation.reversed_range": N_("The start must be before the end."),
    "validation.negative": N_("Enter zero or more."),
    "validation.not_positive": N_("Enter a number greater than zero."),
    "validation.not_integer": N_("Enter a whole number."),
    "validation.invalid_amount": N_("Enter an amount such as 12.50."),
    "validation.invalid_tag": N_("Tags are letters, digits, '-' and '_' (at most 40)."),
    "validation.invalid_note": N_("Write a note of at most 2,000 characters."),
    "validation.too_long": N_("This text is too long."),
    "inventory.insufficient_stock": N_("Not enough stock available."),
    "inventory.unknown_sku": N_("No product has this SKU."),
    "inventory.unknown_warehouse": N_("No warehouse has this code."),
    "inventory.invalid_quantity": N_("Enter a quantity that is a whole number other than zero."),
    "orders.not_found": N_("This order does not exist."),
    "orders.invalid_transition": N_("The order's current status does not allow this."),
    "orders.unknown_sku": N_("No product has this SKU."),
    "payments.refund_exceeds_captured": N_(
        "The refund is more than what was paid and not yet refunded."
    ),
    "payments.refund_exceeds_line": N_("The refund is more than this line's remaining amount."),
    "payments.nothing_captured": N_("Nothing has been paid on this order yet."),
    "payments.invalid_amount": N_("Enter an amount greater than zero."),
    "returns.invalid_transition": N_("The return's current status does not allow this."),
    "returns.quantity_exceeds_returnable": N_("More than can still be returned."),
    "promotions.invalid_percentage": N_("A percentage must be between 0 and 100."),
    "promotions.invalid_schedule": N_(
        "The schedule is not valid: the end must be after the start."
    ),
    "promotions.overlapping_schedule": N_(
        "This schedule overlaps another one of the same promotion."
    ),
    "promotions.tiers_out_of_order": N_("Tiers must go up in spend and in discount."),
    "promotions.invalid_amount": N_("Enter an amount greater than zero."),
    "promotions.invalid_name": N_("Give the promotion a name."),
    "promotions.not_found": N_("This promotion does not exist."),
    "coupons.not_found": N_("This coupon code does not exist."),
    "coupons.expired": N_("This coupon code has expired."),
    "catalog.not_found": N_("This product does not exist."),
}
# Each console area adds the codes its pages show (keep to your own block).
MESSAGES.update(
    {
        # --- orders, payments, fulfilment, returns ---
    }
)
MESSAGES.update(
    {
        # --- inventory and catalog ---
    }
)
MESSAGES.update(
    {
        # --- customers and promotions ---
    }
)
MESSAGES.update(
    {
        # --- finance, webhooks, audit, users, dead letters ---
    }
)


def error_text(code: str, fallback: str) -> str:
    """The translated sentence for ``code``; the domain's own message when none is known."""
    known = MESSAGES.get(code)
    if known is not None:
        return gettext(known)
    return fallback
