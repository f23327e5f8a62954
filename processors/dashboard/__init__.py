"""The operations dashboard at ``GET /``: companies, lanes, parked work, attention, throughput.

Server-rendered HTML (Jinja2 templates in ``templates/``, autoescaped, filled in by
``_render``) on top of a JSON API (``GET /v1/dashboard``); no front-end build. See ``_app``
for the routes and actions.
"""

from __future__ import annotations

from processors.dashboard._app import Dashboard
from processors.dashboard._sampler import Rate, ThroughputSampler, counter_totals

__all__ = ["Dashboard", "Rate", "ThroughputSampler", "counter_totals"]
