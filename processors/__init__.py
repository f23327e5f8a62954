"""qbd-sync: keeps QuickBooks Desktop in step with a SaaS app through Kafka and Conductor."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
