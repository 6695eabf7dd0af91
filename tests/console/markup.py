"""Reading rendered console pages in tests: a small element tree from the standard library.

``find(html, **attrs)`` returns the elements carrying every given attribute value
(``data_user="3"`` means ``data-user="3"``; ``class_`` means ``class``), and an
element's ``text`` is its visible text with whitespace collapsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts: list[str] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join(" ".join(parts).split())

    def elements(self) -> list[Element]:
        found: list[Element] = []
        for child in self.children:
            if isinstance(child, Element):
                found.append(child)
                found.extend(child.elements())
        return found

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            e
            for e in self.elements()
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(name) == value for name, value in wanted.items())
        ]

    def having(self, attribute: str) -> list[Element]:
        """Every element carrying ``attribute`` (whatever its value), in document order."""
        return [e for e in self.elements() if attribute in e.attrs]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find(tag, **attrs)
        assert len(found) == 1, f"{len(found)} elements match {tag} {attrs}"
        return found[0]

    def cells(self) -> list[str]:
        """The texts of a table row's own cells."""
        return [c.text for c in self.children if isinstance(c, Element) and c.tag in {"td", "th"}]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def find(html: str, tag: str | None = None, **attrs: str) -> list[Element]:
    return parse(html).find(tag, **attrs)


def one(html: str, tag: str | None = None, **attrs: str) -> Element:
    return parse(html).one(tag, **attrs)
