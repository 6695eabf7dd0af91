"""Jinja2 pages: one environment, translated with the request's locale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from shopops.auth.permissions import Permission
from shopops.console import formatting
from shopops.console.i18n import LOCALES, N_, current_locale, html_lang, translations
from shopops.console.i18n import gettext as translate

P = Permission


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    permission: Permission | None


# The menu, in order; an item shows only to those holding its permission.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/console/dashboard", N_("Dashboard"), P.ANALYTICS_READ),
    NavItem("/console/orders", N_("Orders"), P.ORDERS_READ),
    NavItem("/console/inventory", N_("Inventory"), P.INVENTORY_READ),
    NavItem("/console/catalog", N_("Catalog"), P.CATALOG_READ),
    NavItem("/console/customers", N_("Customers"), P.CUSTOMERS_READ),
    NavItem("/console/promotions", N_("Promotions"), P.PROMOTIONS_READ),
    NavItem("/console/finance", N_("Finance"), P.PAYMENTS_READ),
    NavItem("/console/shipping", N_("Shipping"), P.SHIPPING_READ),
    NavItem("/console/webhooks", N_("Webhooks"), P.WEBHOOKS_MANAGE),
    NavItem("/console/audit", N_("Audit log"), P.AUDIT_READ),
    NavItem("/console/users", N_("Users"), P.USERS_MANAGE),
    NavItem("/console/dead-letters", N_("Dead letters"), P.OUTBOX_READ),
)


def _gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


environment = Environment(
    loader=PackageLoader("shopops.console", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
environment.filters["translate"] = translate
environment.globals.update(
    money=formatting.money,
    number=formatting.number,
    percent=formatting.percent,
    change=formatting.change,
    LOCALES=LOCALES,
    translate=translate,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> HTMLResponse:
    """A page (or, for htmx, a fragment) with the common variables every template sees."""
    staff = getattr(request.state, "staff", None)
    settings = request.app.state.container.settings
    tz = settings.store_timezone
    locale = current_locale.get()
    context: dict[str, Any] = {
        "request": request,
        "staff": staff,
        "csrf_token": staff.csrf_token if staff else "",
        "navigation": [
            n for n in NAVIGATION if staff and (n.permission is None or staff.can(n.permission))
        ],
        "locale": locale,
        "html_lang": html_lang(locale),
        "currency": settings.default_currency,
        "store_timezone": tz,
        "when": lambda moment, style="medium": formatting.when(moment, tz, style),
        "day": lambda value: formatting.day(value, tz),
        "path": request.url.path,
        "htmx": is_htmx(request),
        **variables,
    }
    body = environment.get_template(template).render(context)
    return HTMLResponse(body, status_code=status_code, headers=headers)
