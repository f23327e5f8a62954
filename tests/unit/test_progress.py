"""Progress of long operator work: a live line on a terminal, nothing elsewhere."""

from __future__ import annotations

import io

from processors.progress import progress


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in a shell."""

    def isatty(self) -> bool:
        return True


def test_off_a_terminal_nothing_is_drawn() -> None:
    """Piped or collected output gets no progress line at all."""
    stream = io.StringIO()

    with progress("checking rows", total=10, stream=stream) as tracker:
        tracker.advance(4)
        tracker.advance(6)

    assert stream.getvalue() == ""


def test_on_a_terminal_the_line_says_what_how_far_and_how_fast() -> None:
    """The label, items done of the total and a rate are drawn."""
    stream = _Terminal()

    with progress("checking rows", total=10, stream=stream) as tracker:
        tracker.advance(4)
        tracker.advance(6)

    drawn = stream.getvalue()
    assert "checking rows" in drawn
    assert "10/10" in drawn
    assert "100%" in drawn


def test_a_total_learned_late_is_shown() -> None:
    """Work whose size is known only after it starts still shows done of total."""
    stream = _Terminal()

    with progress("replay requests", stream=stream) as tracker:
        tracker.total(3)
        tracker.advance(3)

    assert "3/3" in stream.getvalue()
