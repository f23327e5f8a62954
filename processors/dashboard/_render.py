"""HTML for the dashboard: ``page.html`` filled in with plain Python (no template engine).

Every value from the database or a record goes through ``html.escape``; the page works
without JavaScript (the one script only carries the admin token into action forms).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib.resources import files
from string import Template
from typing import Any, Final
from urllib.parse import quote

import orjson

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
_READ_ONLY_TITLE: Final = "read-only: set QBD_SYNC_ADMIN_TOKEN to enable actions"


@cache
def _template() -> Template:
    return Template(files("processors.dashboard").joinpath("page.html").read_text("utf-8"))


def _e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _ago(iso: str | None, now: datetime) -> str:
    if not iso:
        return '<span class="muted">never</span>'
    seconds = (now - datetime.fromisoformat(iso)).total_seconds()
    text = f"in {_span(-seconds)}" if seconds < 0 else f"{_span(seconds)} ago"
    return f'<span title="{_e(iso)}">{text}</span>'


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _short(text: str | None, limit: int) -> str:
    """``text`` cut at ``limit`` characters, the whole of it in a tooltip."""
    if not text or len(text) <= limit:
        return _e(text)
    return f'<span title="{_e(text)}">{_e(text[: limit - 1].rstrip())}…</span>'


def _pill(text: str, kind: str) -> str:
    return f'<span class="pill {kind}">{_e(text.replace("_", " "))}</span>'


def _button(action: str, label: str, *, read_only: bool, primary: bool = False) -> str:
    cls = ' class="primary"' if primary else ""
    if read_only:
        return f'<button type="button"{cls} disabled title="{_READ_ONLY_TITLE}">{label}</button>'
    return (
        f'<form class="action" method="post" action="{_e(action)}">'
        f'<input type="hidden" name="token" value=""><button type="submit"{cls}>'
        f"{label}</button></form>"
    )


def _table(headers: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<div class="empty">{_e(empty)}</div>'
    head = "".join(f"<th>{h}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _section(title: str, count: str, content: str, section_id: str) -> str:
    return (
        f'<section id="{section_id}"><h2>{_e(title)} <span class="count">{_e(count)}</span>'
        f"</h2>{content}</section>"
    )


def _chart(rates: list[Rate], width: int = 760, height: int = 150) -> str:
    """Synced and problem events per second as two polylines in an inline SVG."""
    pad_l, pad_b, pad_t = 40, 20, 8
    if len(rates) < 2:
        return '<div class="empty">Collecting samples; the chart appears after a minute.</div>'
    series = {
        "#1a7f4b": [r.per_s["synced"] for r in rates],
        "#b42318": [r.problems_per_s for r in rates],
    }
    top = max(1.0, *(max(values) for values in series.values()))
    span_x, span_y = width - pad_l - 4, height - pad_b - pad_t
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="100%" height="{height}" role="img" '
        'aria-label="events per second">'
    ]
    for frac in (0.0, 0.5, 1.0):
        y = pad_t + span_y * (1 - frac)
        parts.append(
            f'<line x1="{pad_l}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e3e8ee"/>'
            f'<text x="{pad_l - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6b7785">{top * frac:.3g}</text>'
        )
    for color, values in series.items():
        points = " ".join(
            f"{pad_l + span_x * i / (len(values) - 1):.1f},{pad_t + span_y * (1 - v / top):.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
    shown = _span(rates[-1].at - rates[0].at)
    parts.append(
        f'<text x="{pad_l}" y="{height - 4}" font-size="11" fill="#6b7785">'
        f'{shown} ago</text><text x="{width}" y="{height - 4}" font-size="11" '
        'fill="#6b7785" text-anchor="end">now</text></svg>'
    )
    legend = (
        '<div class="legend"><span><i style="background:#1a7f4b"></i>synced / s</span>'
        '<span><i style="background:#b42318"></i>failed + parked + rejected / s</span>'
        "</div>"
    )
    return "".join(parts) + legend


def _cards(s: dict[str, Any]) -> str:
    states: dict[str, int] = {}
    for company in s["companies"]:
        states[company["state"]] = states.get(company["state"], 0) + 1
    parked_records = sum(company["parked"] for company in s["companies"])
    totals = s["totals"]
    cards = [
        (
            "Companies",
            s["companies_total"],
            f"{states.get('online', 0)} online · {states.get('parked', 0)} parked",
        ),
        ("Parked records", parked_records, "waiting in the DLQ"),
        ("Needs attention", len(s["attention"]), "open items"),
        ("Failed events", len(s["failed"]), "refused by QuickBooks"),
        ("Queued in lanes", s["lanes_queued"], "on this instance"),
        ("Synced", totals["synced"], f"{totals['consumed']} consumed since start"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{_e(label)}</div>'
            f'<div class="value">{value}</div>'
            f'<div class="sub">{_e(sub)}</div></div>'
            for label, value, sub in cards
        )
        + "</div>"
    )


def _td(content: str, cls: str = "") -> str:
    return f'<td class="{cls}">{content}</td>' if cls else f"<td>{content}</td>"


def _error_text(error: dict[str, Any] | None, *, user_facing: bool) -> str:
    if not error:
        return '<span class="muted">—</span>'
    message = (error.get("user_facing_message") if user_facing else None) or error.get("message")
    return f"<code>{_e(error.get('code'))}</code> {_short(message, 110)}"


def _companies(s: dict[str, Any], now: datetime, read_only: bool) -> str:
    rows = []
    for c in s["companies"]:
        company_id = c["company_id"]
        name = f"<b>{_e(c['company_name'] or company_id)}</b>"
        action = f"/v1/dashboard/companies/{quote(company_id, safe='')}/replay"
        button = _button(action, "Replay", read_only=read_only, primary=c["parked"] > 0)
        cells = [
            _td(f'{name}<div class="muted mono">{_e(company_id)}</div>'),
            _td(_pill(c["state"], _STATE_PILL.get(c["state"], "none"))),
            _td(str(c["lane_depth"]), "num"),
            _td(str(c["parked"]), "num"),
            _td(_ago(c["last_sync_at"], now)),
            _td(_error_text(c["last_error"], user_facing=True), "err"),
            _td(button),
        ]
        rows.append(f'<tr data-company="{_e(company_id)}">{"".join(cells)}</tr>')
    count = f"{len(rows)} of {s['companies_total']}"
    headers = ["Company", "State", "Lane", "Parked", "Last sync", "Last error", ""]
    return _section(
        "Companies", count, _table(headers, rows, "No company has sent events yet."), "companies"
    )


def _attention(s: dict[str, Any], now: datetime) -> str:
    rows = []
    for a in s["attention"]:
        link = f' <a href="{_e(a["auth_flow_url"])}">setup link</a>' if a["auth_flow_url"] else ""
        kind = _pill(a["category"], _CATEGORY_PILL.get(a["category"], "none"))
        cells = [
            _td(_e(a["company_id"]), "mono"),
            _td(f'{kind}<div class="mono muted">{_e(a["code"])}</div>'),
            _td(f"{_short(a['user_facing_message'], 130)}{link}"),
            _td(str(a["occurrences"]), "num"),
            _td(_ago(a["last_seen"], now)),
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return _section(
        "Needs attention",
        f"{len(rows)} open",
        _table(["Company", "Kind", "What to do", "Seen", "Last"], rows, "Nothing needs attention."),
        "attention",
    )


def _failed(s: dict[str, Any], now: datetime, read_only: bool) -> str:
    rows = []
    for f in s["failed"]:
        action = f"/v1/dashboard/events/{quote(f['event_id'], safe='')}/rerun"
        cells = [
            _td(_e(f["event_id"]), "mono"),
            _td(_e(f["company_id"]), "mono"),
            _td(_e(f["event_type"])),
            _td(_error_text(f["error"], user_facing=False), "err"),
            _td(_ago(f["failed_at"], now)),
            _td(_button(action, "Re-run", read_only=read_only)),
        ]
        rows.append(f'<tr data-event="{_e(f["event_id"])}">{"".join(cells)}</tr>')
    return _section(
        "Failed events",
        f"{len(rows)} most recent",
        _table(["Event", "Company", "Type", "Error", "Failed", ""], rows, "No failed events."),
        "failed",
    )


def _dlq(s: dict[str, Any], now: datetime) -> str:
    rows = []
    for d in s["dlq"]:
        href = f"/dashboard/dlq/{d['dlq_partition']}/{d['dlq_offset']}"
        status = _pill(d["status"], "warn" if d["status"] == "parked" else "ok")
        topic, partition, offset = d["original"]
        rows.append(
            f'<tr><td class="mono">{_e(d["company_id"])}</td>'
            f'<td class="mono"><a href="{_e(href)}">{_e(d["event_id"])}</a></td>'
            f'<td>{status}</td><td class="err">{_e(d["reason"])}</td>'
            f'<td class="mono muted">{_e(topic)}/{partition}/{offset}</td>'
            f"<td>{_ago(d['parked_at'], now)}</td></tr>"
        )
    return _section(
        "Parked records (DLQ)",
        f"{len(rows)} most recent",
        _table(
            ["Company", "Event", "Status", "Reason", "Original", "Parked"],
            rows,
            "The DLQ is empty.",
        ),
        "dlq",
    )


def _fill(title: str, meta: str, body: str, read_only: bool) -> str:
    admin = (
        '<span class="pill none" title="set QBD_SYNC_ADMIN_TOKEN to enable actions">'
        "read-only</span>"
        if read_only
        else '<input id="admin-token" type="password" placeholder="admin token" '
        'autocomplete="off" aria-label="admin token">'
    )
    return _template().substitute(title=_e(title), meta=meta, admin=admin, body=body)


def render_page(summary: dict[str, Any], rates: list[Rate], *, notice: str | None = None) -> str:
    """The dashboard page."""
    now = datetime.now(UTC)
    read_only = bool(summary["read_only"])
    health = summary["health"]
    status = (
        ""
        if health is None
        else _pill("ready", "ok")
        if health["ready"]
        else _pill("not ready", "bad")
    )
    meta = f"group <code>{_e(summary['group_id'])}</code> {status}"
    chart = _section(
        "Throughput",
        f"this instance, sampled every {summary['throughput']['interval_s']:g} s",
        _chart(rates),
        "throughput",
    )
    body = "".join(
        [
            f'<div class="notice" role="status">{_e(notice)}</div>' if notice else "",
            _cards(summary),
            f'<div class="grid2"><div>{_companies(summary, now, read_only)}</div>'
            f"<div>{chart}{_attention(summary, now)}</div></div>",
            _failed(summary, now, read_only),
            _dlq(summary, now),
        ]
    )
    return _fill("qbd-sync operations", meta, body, read_only)


def render_record(body: dict[str, Any], *, read_only: bool) -> str:
    """One parked record: its index row, headers and original event."""
    parts = ['<p><a href="/">← dashboard</a></p>']
    if "index" not in body:
        parts.append(f'<div class="notice">{_e(body.get("error"))}</div>')
        return _fill("parked record", "", "".join(parts), read_only)
    index, record = body["index"], body["record"]
    title = f"Parked event {index['event_id']}"
    parts.append(f"<section><h2>{_e(title)}</h2><table>")
    for key in ("company_id", "status", "reason", "error_code", "parked_at", "replayed_at"):
        parts.append(f"<tr><th>{_e(key)}</th><td>{_e(index[key])}</td></tr>")
    parts.append("</table></section>")
    if record is None:
        parts.append(f'<div class="notice">{_e(body.get("error"))}</div>')
    else:
        headers = "".join(
            f'<tr><td class="mono">{_e(k)}</td><td class="mono">{_e(v)}</td></tr>'
            for k, v in record["headers"]
        )
        parts.append(
            _section("Headers", str(len(record["headers"])), f"<table>{headers}</table>", "headers")
        )
        shown = (
            orjson.dumps(record["event"], option=orjson.OPT_INDENT_2).decode()
            if record["event"] is not None
            else record["value"]
        )
        parts.append(
            _section("Original event", f"key {record['key']}", f"<pre>{_e(shown)}</pre>", "event")
        )
    return _fill(title, "", "".join(parts), read_only)
