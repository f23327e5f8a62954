"""Chaos testing kit: a seeded workload, an invariant checker and a killable processor process.

Reused by ``tests/chaos`` and the integration tests that crash the processor. By concept:

- ``workload``: N companies x M events of every type the processor writes, in publish order.
- ``checker``: pure. Given the workload and what was observed it counts, per company and
  object type, what was lost, duplicated, reordered, written to the wrong company, left
  untagged, left uncommitted or stalled.
- ``observe``: publish a workload, wait for it to settle, collect the observations from
  the simulator, the broker and PostgreSQL; ``verify`` checks and prints the verdict line.
- ``process``: ``python -m processors run`` as a child process, to be killed with signals.
- ``kills``: SIGKILLs aimed at writes in flight, and the proof that they landed there.
"""

from __future__ import annotations

from tests.chaos.kit.checker import (
    OBJECT_KINDS,
    LedgerRow,
    Observations,
    QbObject,
    Result,
    Verdict,
    check,
    commit_violations,
    marker,
    written_kind,
)
from tests.chaos.kit.kills import Kill, kill_mid_write, writes_cut
from tests.chaos.kit.observe import Feed, ledger_statuses, observe, verify, wait_settled
from tests.chaos.kit.process import ProcessorProcess, settings_env
from tests.chaos.kit.workload import (
    LIFECYCLE,
    WRITE_MIX,
    ChaosCompany,
    Workload,
    connect_companies,
    generate_workload,
)

__all__ = [
    "LIFECYCLE",
    "OBJECT_KINDS",
    "WRITE_MIX",
    "ChaosCompany",
    "Feed",
    "Kill",
    "LedgerRow",
    "Observations",
    "ProcessorProcess",
    "QbObject",
    "Result",
    "Verdict",
    "Workload",
    "check",
    "commit_violations",
    "connect_companies",
    "generate_workload",
    "kill_mid_write",
    "ledger_statuses",
    "marker",
    "observe",
    "settings_env",
    "verify",
    "wait_settled",
    "writes_cut",
    "written_kind",
]
