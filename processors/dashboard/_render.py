"""HTML for the dashboard: the Jinja2 templates in ``templates/``, autoescaped throughout.

Python here only shapes data (plain text, numbers, chart coordinates); every tag lives in a
template, and Jinja2 escapes every value on its way out, so a company name, a message or an
event id can never become markup. The page works without JavaScript (the one script only
carries the admin token into action forms).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit

import jinja2
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from processors.dashboard._sampler import Rate

__all__ = ["render_page", "render_record"]

_STATE_PILL: Final = {
    "online": "ok",
    "parked": "bad",
    "replaying": "info",
    "setup_pending": "warn",
    "unknown": "none",
}
_CATEGORY_PILL: Final = {
    "connection": "bad",
    "setup": "warn",
    "data": "info",
    "configuration": "bad",
}
_INDEX_FIELDS: Final = ("company_id", "status", "reason", "error_code", "parked_at", "replayed_at")
_SYNCED_COLOR: Final = "#1a7f4b"
_PROBLEM_COLOR: Final = "#b42318"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Card:
    label: str
    value: int
    sub: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Gridline:
    y: float
    value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class _Series:
    color: str
    points: list[tuple[float, float]]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Chart:
    width: int
    height: int
    left: int
    gridlines: list[_Gridline]
    series: list[_Series]
    shown: str  # how far back the oldest point is, e.g. "10 min"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _since(iso: str, now: datetime) -> str:
    """How far ``iso`` is from ``now``: ``5 min ago``, or ``in 3 s`` for a future time."""
    seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    return f"in {_span(-seconds)}" if seconds < 0 else f"{_span(seconds)} ago"


def _path_segment(value: str) -> str:
    """``value`` quoted to stand as one segment of a URL path (a ``/`` in it too)."""
    return quote(value, safe="")


def _is_web_url(value: object) -> bool:
    """True for an http(s) URL; anything else (``javascript:`` above all) is never a link."""
    if not isinstance(value, str):
        return False
    try:
        return urlsplit(value).scheme in ("http", "https")
    except ValueError:
        return False


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("processors.dashboard", "templates"),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        finalize=_blank_none,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(since=_since, path_segment=_path_segment)
    env.tests["web_url"] = _is_web_url
    env.globals.update(state_pill=_STATE_PILL, category_pill=_CATEGORY_PILL)
    return env


_TEMPLATES: Final = Jinja2Templates(env=_environment())


def _chart(rates: list[Rate], *, width: int = 760, height: int = 150) -> _Chart | None:
    """Synced and problem events per second as two lines; None until there are two rates."""
    if len(rates) < 2:
        return None
    left, bottom, top_pad = 40, 20, 8
    values = {
        _SYNCED_COLOR: [rate.per_s["synced"] for rate in rates],
        _PROBLEM_COLOR: [rate.problems_per_s for rate in rates],
    }
    top = max(1.0, *(max(series) for series in values.values()))
    span_x, span_y = width - left - 4, height - bottom - top_pad

    def y_of(fraction: float) -> float:
        return top_pad + span_y * (1 - fraction)

    return _Chart(
        width=width,
        height=height,
        left=left,
        gridlines=[_Gridline(y=y_of(fraction), value=top * fraction) for fraction in (0, 0.5, 1)],
        series=[
            _Series(
                color=color,
                points=[
                    (left + span_x * i / (len(series) - 1), y_of(value / top))
                    for i, value in enumerate(series)
                ],
            )
            for color, series in values.items()
        ],
        shown=_span(rates[-1].at - rates[0].at),
    )


def _cards(summary: dict[str, Any]) -> list[_Card]:
    states = Counter(company["state"] for company in summary["companies"])
    totals = summary["totals"]
    return [
        _Card(
            label="Companies",
            value=summary["companies_total"],
            sub=f"{states['online']} online · {states['parked']} parked",
        ),
        _Card(
            label="Parked records",
            value=sum(company["parked"] for company in summary["companies"]),
            sub="waiting in the DLQ",
        ),
        _Card(label="Needs attention", value=len(summary["attention"]), sub="open items"),
        _Card(label="Failed events", value=len(summary["failed"]), sub="refused by QuickBooks"),
        _Card(label="Queued in lanes", value=summary["lanes_queued"], sub="on this instance"),
        _Card(
            label="Synced", value=totals["synced"], sub=f"{totals['consumed']} consumed since start"
        ),
    ]


def render_page(
    request: Request, summary: dict[str, Any], rates: list[Rate], *, notice: str | None = None
) -> Response:
    """The dashboard page for ``summary`` (``Dashboard.summary()``) and the chart's ``rates``."""
    context = {
        "title": "qbd-sync operations",
        "read_only": bool(summary["read_only"]),
        "summary": summary,
        "notice": notice,
        "now": datetime.now(UTC),
        "cards": _cards(summary),
        "chart": _chart(rates),
    }
    return _TEMPLATES.TemplateResponse(
        request, "page.html", context, headers={"Cache-Control": "no-store"}
    )


def render_record(
    request: Request, body: dict[str, Any], *, read_only: bool, status_code: int = 200
) -> Response:
    """One parked record's page from its JSON ``body``: index row, headers, original event."""
    index = body.get("index")
    record = body.get("record")
    shown = None
    if record is not None:
        shown = (
            orjson.dumps(record["event"], option=orjson.OPT_INDENT_2).decode()
            if record["event"] is not None
            else record["value"]
        )
    context = {
        "title": "parked record" if index is None else f"Parked event {index['event_id']}",
        "read_only": read_only,
        "index": index,
        "index_fields": _INDEX_FIELDS,
        "record": record,
        "shown": shown,
        "error": body.get("error"),
    }
    return _TEMPLATES.TemplateResponse(request, "record.html", context, status_code=status_code)
