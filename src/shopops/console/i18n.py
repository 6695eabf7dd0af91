"""Interface language: Babel message catalogues, chosen per request.

Catalogues are ``locales/<locale>/LC_MESSAGES/messages.po``, read once at start-up
(no compile step: the ``.po`` files are the source of truth). The current locale
lives in a context variable set by the console's request guard, so templates and
Python code translate with the same ``gettext``.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LOCALE = "en"
LOCALES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
LANGUAGE_COOKIE = "shopops_lang"

current_locale: ContextVar[str] = ContextVar("console_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext(message: str, **variables: object) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def N_(message: str) -> str:
    """Marks a string for extraction; translated later, where it is shown."""
    return message


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language cookie wins; otherwise the best match of Accept-Language."""
    if cookie in LOCALES:
        return cookie
    if accept_language:
        preferred = [
            part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")
        ]
        found = negotiate_locale(preferred, list(LOCALES))
        if found is not None:
            return found
    return DEFAULT_LOCALE


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")
