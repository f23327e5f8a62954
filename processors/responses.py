"""The one JSON response every HTTP route of qbd-sync answers with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["json_response"]


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """``body`` as JSON (orjson), never cached by a proxy or browser."""
    return Response(
        orjson.dumps(body),
        status,
        {"Cache-Control": "no-store", **(headers or {})},
        media_type="application/json",
    )
