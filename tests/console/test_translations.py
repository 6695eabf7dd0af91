"""Every string the console shows is translated into Simplified Chinese, placeholders intact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import shopops.console

CONSOLE = Path(shopops.console.__file__).parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def _extracted() -> set[str]:
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(CONSOLE), METHODS, OPTIONS, KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with (CONSOLE / "locales/zh_CN/LC_MESSAGES/messages.po").open("rb") as po:
        return read_po(po, locale="zh_CN")


def test_the_extraction_sees_the_console(catalog) -> None:  # type: ignore[no-untyped-def]
    extracted = _extracted()
    assert {"Dashboard", "Sign in", "Orders"} <= extracted
    assert len(extracted) > 80


def test_every_console_string_has_a_chinese_translation(catalog) -> None:  # type: ignore[no-untyped-def]
    problems = []
    for message_id in sorted(_extracted()):
        message = catalog.get(message_id)
        if message is None:
            problems.append(f"not in the catalogue (run scripts/translations.sh): {message_id!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            problems.append(f"untranslated or fuzzy: {message_id!r}")
            continue
        wanted = set(PLACEHOLDER.findall(message_id))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {message_id!r} -> {string!r}")
    assert problems == []
