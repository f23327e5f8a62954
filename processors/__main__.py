"""``python -m processors`` is the ``qbd-sync`` command."""

from __future__ import annotations

from processors.cli import main

main()
