"""The CloudEvent examples in README.md are valid inbound events.

Every fenced ```json block that contains ``"specversion"`` is an example event (one object
or an array of them); each must pass ``schemas.parse_event``, the same validation the
service applies, so the README cannot drift from the schemas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from schemas import parse_event

README = Path(__file__).resolve().parents[2] / "README.md"
_FENCED_JSON = re.compile(r"^```json[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_events() -> list[tuple[int, Any]]:
    """``(line, event)`` for every example event in the README's fenced json blocks."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _FENCED_JSON.finditer(text):
        block = match.group(1)
        if '"specversion"' not in block:
            continue
        line = text.count("\n", 0, match.start()) + 1
        parsed = json.loads(block)
        found.extend((line, event) for event in (parsed if isinstance(parsed, list) else [parsed]))
    return found


def test_readme_has_an_example_event() -> None:
    """README.md shows at least one CloudEvent example in a fenced json block."""
    events = readme_events()

    assert events, (
        f'{README.name} has no fenced ```json block containing "specversion"; add an '
        "example inbound CloudEvent so readers (and this test) have one"
    )


@pytest.mark.parametrize(
    ("line", "event"),
    readme_events(),
    ids=lambda value: str(value) if isinstance(value, int) else "",
)
def test_readme_example_event_is_valid(line: int, event: Any) -> None:
    """Each README example event passes the service's own validation."""
    parsed = parse_event(event)

    assert parsed.id == event["id"], f"README.md line {line}"
