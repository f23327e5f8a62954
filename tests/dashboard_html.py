"""Dashboard HTML read the way a browser reads it, for the escaping tests.

A value that was escaped comes back from the parser as the same text it was; a value that
was not becomes elements and attributes (an ``<img onerror>``, a second ``<script>``), which
``Page.injected`` lists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(1)</script>'
HOSTILE = IMG + SCRIPT
"""Both payloads in one string, for ids and other fields with room for them."""
RAW_MARKUP = (IMG, "<script>alert(1)</script>")
"""What must never appear verbatim in a page's source (the markup inside the payloads)."""


@dataclass(frozen=True, slots=True)
class Element:
    """One start tag: its name, attributes and the ids of the sections around it."""

    tag: str
    attrs: dict[str, str]
    sections: tuple[str, ...]


@dataclass
class Page:
    """A parsed page: its elements in order, and its text per enclosing ``<section id>``."""

    elements: list[Element] = field(default_factory=list)
    text: str = ""
    section_text: dict[str, str] = field(default_factory=lambda: defaultdict(str))

    def find(self, tag: str, section: str | None = None) -> list[Element]:
        """Elements named ``tag``, only those inside ``section`` when it is given."""
        return [
            e for e in self.elements if e.tag == tag and (section is None or section in e.sections)
        ]

    @property
    def injected(self) -> list[str]:
        """Everything a browser would run or fetch that the dashboard's own markup never has."""
        found = []
        scripts = 0
        for element in self.elements:
            scripts += element.tag == "script"
            if element.tag in ("img", "iframe", "object", "embed") or (
                element.tag == "script" and scripts > 1  # the page's own script is the first
            ):
                found.append(f"<{element.tag}> element")
            for name, value in element.attrs.items():
                if name.startswith("on"):
                    found.append(f"{name} attribute on <{element.tag}>")
                if name in ("href", "action", "src") and value.strip().lower().startswith(
                    "javascript:"
                ):
                    found.append(f"javascript: URL in {name} of <{element.tag}>")
        return found


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._sections: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.page.elements.append(Element(tag, values, tuple(self._sections)))
        if tag == "section":
            self._sections.append(values.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._sections:
            self._sections.pop()

    def handle_data(self, data: str) -> None:
        self.page.text += data
        for section in self._sections:
            self.page.section_text[section] += data


def read_page(html: str) -> Page:
    """Parse ``html`` into a ``Page``."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page
