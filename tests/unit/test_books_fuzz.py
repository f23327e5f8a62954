"""The pre-flight fuzz generator: seeded, and each mistake is what it claims to be."""

from __future__ import annotations

import pytest

from bench.books_fuzz import (
    CLOSING_DATE,
    MAPPED_NAMES,
    Book,
    Mistake,
    company_stream,
    expected_end,
)
from processors.preflight import Books, refusals
from schemas import parse_event
from schemas.errors import InvalidEvent

BOOK = Book("acct_fuzz", {name: f"Q-{name}" for name in MAPPED_NAMES})


def test_the_same_seed_gives_the_same_stream() -> None:
    """A run can be repeated exactly: the stream depends on the seed and company only."""
    first = company_stream(BOOK, seed=7, documents=50)
    again = company_stream(BOOK, seed=7, documents=50)

    assert [d.event for d in first] == [d.event for d in again]
    assert [d.event for d in company_stream(BOOK, seed=8, documents=50)] != [d.event for d in first]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_document_meets_intake_and_preflight_as_its_mistake_predicts(seed: int) -> None:
    """Schema mistakes are rejected, pre-flight ones refused, the rest pass both."""
    docs = company_stream(BOOK, seed=seed, documents=300)
    books = Books(closing_date=CLOSING_DATE)

    for doc in docs:
        try:
            data = parse_event(doc.event).data
        except InvalidEvent:
            ended = "rejected"
        else:
            ended = "preflight" if refusals(data, books) else "passes"
        predicted = expected_end(doc.mistake)
        assert ended == ("passes" if predicted in ("synced", "waiting") else predicted), doc
    assert {doc.mistake for doc in docs} == {None, *Mistake}
