"""qbd-sync: keeps QuickBooks Desktop in step with a SaaS app through Kafka and Conductor.

What is public (stable for users; everything else is internal and may change):

- the command line ``qbd-sync`` (``processors.cli``; also ``python -m processors``) and its
  settings (``processors.config.Settings``, ``QBD_SYNC_*`` variables);
- ``processors.testing``: the embedded stack, settings factory, a running service, topic
  readers and the backoff testing switch, to test an integration the way qbd-sync tests
  itself;
- ``processors.kit``: FastStream publishers and subscribers for the services around
  qbd-sync (upstream producers, notification services);
- the event models in the ``schemas`` package, and the ``qbdsim`` Conductor simulator.

Internal modules (the engine, ``processors.pipeline``, stores, the gateway) are named for
what they are, so the code reads well, but they are not an API.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
