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
        "orders.console_invalid_customer": N_("Enter a customer number or an e-mail address."),
        "orders.console_select_orders": N_("Select at least one order."),
        "orders.console_too_many_orders": N_("Select at most 100 orders at a time."),
        "orders.console_refund_amount_required": N_("Enter an amount, or amounts per line."),
        "orders.console_refund_amount_or_lines": N_(
            "Enter either one amount or amounts per line, not both."
        ),
        "orders.already_shipped": N_("The order has shipped: start a return instead."),
        "fulfilment.order_not_shippable": N_(
            "Only paid orders that are not fully shipped can ship."
        ),
        "fulfilment.nothing_to_ship": N_("This warehouse holds nothing more for this order."),
        "fulfilment.exceeds_reserved": N_("More than this warehouse holds for the order."),
        "fulfilment.unknown_warehouse": N_("No warehouse has this code."),
        "fulfilment.invalid_carrier": N_(
            "A carrier code is 2 to 32 lowercase letters, digits, '-' or '_' (e.g. ups)."
        ),
        "fulfilment.invalid_tracking_number": N_(
            "A tracking number is 4 to 64 letters, digits or '-'."
        ),
        "fulfilment.tracking_number_taken": N_(
            "This tracking number is already on another shipment."
        ),
        "carrier.unavailable": N_("The carrier did not answer. Nothing was shipped; try again."),
        "carrier.rejected": N_("The carrier refused this parcel."),
        "payments.invalid_refund_lines": N_("These lines cannot be refunded on this order."),
        "payments.gateway_unavailable": N_("The payment gateway did not answer; try again."),
        "returns.not_found": N_("This return does not exist."),
        "returns.invalid_disposition": N_("Choose restock or write off."),
        "returns.warehouse_required": N_("Choose the warehouse to restock into."),
        "returns.refund_in_progress": N_(
            "A refund of this return is still waiting for the gateway."
        ),
    }
)
MESSAGES.update(
    {
        # --- inventory and catalog ---
        "inventory.warehouse_not_found": N_("Choose one of the warehouses."),
        "inventory.same_warehouse": N_("Choose a different warehouse to move the stock to."),
        "inventory.below_reserved": N_("On hand cannot drop below what is reserved for orders."),
        "catalog.product_not_found": N_("This product does not exist."),
        "catalog.variant_not_found": N_("No product has this SKU."),
        "catalog.invalid_status": N_("Choose draft, active or archived."),
        "catalog.invalid_amount": N_("Enter an amount such as 12.50."),
        "catalog.negative_amount": N_("An amount cannot be negative."),
        "catalog.too_precise": N_("This amount has more decimal places than its currency allows."),
        "catalog.amount_too_large": N_("This amount is too large."),
        "catalog.invalid_currency": N_("Enter a three-letter currency code such as USD."),
        "catalog.invalid_code": N_("Use no spaces or control characters."),
        "catalog.invalid_weight": N_("Enter the weight in whole grams."),
        "catalog.invalid_attributes": N_("Write attributes as JSON or as key=value;key=value."),
        "catalog.unknown_category": N_("This category does not exist."),
        "catalog.unknown_brand": N_("This brand does not exist."),
        "catalog.sku_taken": N_("This SKU belongs to another product."),
        "catalog.barcode_taken": N_("This barcode belongs to another SKU."),
        "catalog.duplicate_sku": N_("This SKU appears more than once in the file."),
        "catalog.duplicate_barcode": N_("This barcode appears more than once in the file."),
        "catalog.inconsistent_product": N_(
            "Rows of one product must agree on its name, category, brand and status."
        ),
        "catalog.invalid_encoding": N_("This text is not valid UTF-8."),
        "catalog.malformed_csv": N_("This line is not valid CSV."),
        "catalog.wrong_cell_count": N_("This row has a different number of cells than the header."),
        "catalog.missing_column": N_("A required column is missing from the header."),
        "catalog.duplicate_column": N_("This column appears more than once in the header."),
        "catalog.empty_file": N_("The file is empty."),
        "catalog.import_invalid": N_("The file has problems: nothing was imported."),
    }
)
MESSAGES.update(
    {
        # --- customers and promotions ---
        "customers.not_found": N_("This customer does not exist."),
        "customers.search_email": N_("Enter a whole e-mail address: addresses match exactly."),
        "customers.search_phone": N_(
            "Enter a whole phone number (7 to 15 digits): numbers match exactly."
        ),
        "customers.unknown_channel": N_("Pick a channel from the list."),
        "analytics.customer_not_found": N_("This customer does not exist."),
        "segments.not_found": N_("This segment does not exist."),
        "segments.required": N_("Give the segment a name."),
        "segments.too_long": N_("Use at most 100 characters."),
        "segments.name_taken": N_("Another segment already has this name."),
        "segments.empty_rule": N_("Add at least one condition."),
        "segments.invalid_json": N_(
            'Write the rule as a JSON object, such as {"field": "order_count", '
            '"op": "gte", "value": 2}.'
        ),
        "validation.invalid_datetime": N_("Enter a date and time."),
        "validation.invalid_time": N_("Enter a time of day (HH:MM)."),
        "promotions.invalid_definition": N_("Some fields need your attention."),
        "promotions.unknown_field": N_("This field is not part of a promotion."),
        "promotions.unknown_kind": N_("Pick a kind of promotion from the list."),
        "promotions.invalid_params": N_("Enter a valid value here."),
        "promotions.invalid_tiers": N_("Fill in both the spend and the saving of each tier."),
        "promotions.invalid_save": N_(
            "Enter an amount greater than zero and no more than the spend."
        ),
        "promotions.currency_required": N_("Amounts need a currency: fill in the currency."),
        "promotions.invalid_currency": N_("Enter a three-letter currency code, such as USD."),
        "promotions.invalid_ids": N_("Enter ids of existing items, separated by commas."),
        "promotions.invalid_scope": N_("Enter ids of existing items, separated by commas."),
        "promotions.invalid_recurrence": N_(
            "Pick weekdays or a daily time window; the end time must be after the start time."
        ),
        "promotions.invalid_conditions": N_("Check the conditions of this promotion."),
        "promotions.invalid_stacking": N_(
            "Priority is 0 to 1,000,000; a group has up to 40 characters; an exclusive "
            "promotion combines with nothing; list existing promotion ids or group names."
        ),
        "promotions.invalid_limits": N_(
            "Limits are whole numbers of at least 1, not below what is already used; "
            "unit quotas are for flash sales and gifts."
        ),
        "promotions.unknown_gift_sku": N_("No product has this SKU."),
        "promotions.invalid_status": N_("The promotion's status does not allow this."),
        "promotions.kind_cannot_change": N_(
            "The kind of a promotion cannot change; create a new one."
        ),
        "coupons.code_taken": N_("This code is already taken."),
        "coupons.invalid_code": N_("Codes are 3 to 40 letters, digits and dashes."),
        "coupons.invalid_batch": N_(
            "A batch has 1 to 100,000 codes of 6 to 20 random characters (longer for bigger "
            "batches) and a prefix of up to 12 letters and digits."
        ),
        "coupons.invalid_limits": N_(
            "Enter a whole number of at least 1, or leave it empty for no limit."
        ),
        "coupons.invalid_validity": N_("The end must be after the start."),
        "coupons.invalid_restrictions": N_("Enter customer ids and names, not blanks."),
        "coupons.promotion_not_found": N_("This promotion does not exist."),
        "coupons.not_started": N_("This coupon code is not valid yet."),
        "coupons.inactive": N_("This coupon code is not active."),
        "coupons.limit_reached": N_("This coupon code has been used as often as allowed."),
        "coupons.customer_limit_reached": N_(
            "This customer has used this coupon code as often as allowed."
        ),
        "coupons.customer_required": N_("This coupon code needs a customer."),
        "coupons.not_eligible": N_("This coupon code is not for this customer."),
        "coupons.duplicate_code": N_("Use one code per promotion."),
        "pricing.empty_cart": N_("Enter at least one SKU."),
        "pricing.invalid_quantity": N_("Enter a quantity from 1 to 1,000,000."),
        "pricing.unknown_sku": N_("No product has this SKU."),
        "pricing.mixed_currencies": N_("These items are priced in several currencies."),
        "pricing.currency_mismatch": N_("The items are priced in another currency."),
        "pricing.unknown_customer": N_("No customer has this ID."),
        "pricing.invalid_shipping": N_("Enter a shipping method and a fee of 0 or more."),
    }
)
MESSAGES.update(
    {
        # --- finance, webhooks, audit, users, dead letters ---
        "finance.range_too_long": N_("Choose a period of at most 62 days."),
        "webhooks.invalid_url": N_("Enter an absolute http or https URL."),
        "webhooks.unsupported_scheme": N_("Only http and https URLs are allowed."),
        "webhooks.url_has_credentials": N_("Do not put a user name or password in the URL."),
        "webhooks.url_too_long": N_("The URL is too long (at most 2,000 characters)."),
        "webhooks.no_event_types": N_("Choose at least one event type."),
        "webhooks.unknown_event_type": N_("Choose event types from the list."),
        "webhooks.description_too_long": N_("Write a description of at most 500 characters."),
        "webhooks.subscription_not_found": N_("This webhook subscription does not exist."),
        "webhooks.message_not_found": N_("This webhook message does not exist."),
        "webhooks.message_in_flight": N_(
            "This message is being delivered right now. Try again shortly."
        ),
        "webhooks.subscription_inactive": N_("The subscription is disabled. Enable it first."),
        "validation.invalid_email": N_("Enter a valid e-mail address."),
        "access.user_not_found": N_("This user does not exist."),
        "access.email_taken": N_("A user with this e-mail already exists."),
        "access.unknown_role": N_("Choose one of the roles."),
        "access.weak_password": N_("The password needs at least 10 characters."),
        "access.last_owner": N_("The last active owner cannot be demoted or deactivated."),
        "access.token_not_found": N_("This API token does not exist."),
        "console.cannot_deactivate_self": N_("You cannot deactivate your own account."),
        "outbox.delivery_not_found": N_("This delivery does not exist."),
        "outbox.not_dead_lettered": N_(
            "Only dead letters can be retried; this one is already queued or done."
        ),
    }
)

MESSAGES.update(
    {
        # --- shipping ---
        "shipping.method_not_found": N_("This shipping method does not exist."),
        "shipping.rate_not_found": N_("This shipping rate does not exist."),
        "shipping.unknown_method": N_("Choose one of the active shipping methods."),
        "shipping.no_rate_for_destination": N_(
            "This shipping method does not ship to this address."
        ),
        "shipping.invalid_code": N_(
            "A code is 1 to 32 lowercase letters, digits, '-' or '_', starting with a letter."
        ),
        "shipping.duplicate_code": N_("Another shipping method already has this code."),
        "shipping.invalid_name": N_("Give the method a name of at most 100 characters."),
        "shipping.invalid_sort_order": N_("Enter a whole number from 0 to 1,000,000."),
        "shipping.invalid_country": N_(
            "Enter a two-letter country code such as CN, or * for anywhere."
        ),
        "shipping.invalid_region": N_(
            "A region has at most 100 characters and needs a country, not *."
        ),
        "shipping.invalid_fee": N_("Enter a fee of 0 or more, such as 8.00."),
        "shipping.invalid_free_over": N_(
            "Enter an amount greater than zero, such as 99.00, or leave it empty."
        ),
        "shipping.duplicate_rate": N_("This method already has a rate for this destination."),
        "shipping.invalid_subtotal": N_("Enter an amount of 0 or more."),
    }
)


def error_text(code: str, fallback: str) -> str:
    """The translated sentence for ``code``; the domain's own message when none is known."""
    known = MESSAGES.get(code)
    if known is not None:
        return gettext(known)
    return fallback
