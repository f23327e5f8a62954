"""The middle of qbd-sync: what runs inside a company's lane (internal, not a public API).

LaneProcessor   what the engine calls; routes work by kind
Syncer          one event to a durable end state
ControlEvents   the events that write no app object (mapping.set, settings, connect, pulls)
AppObjects      one app object's events in order (creates before changes), its mapping's state
CompanyConnection  the only owner of company connection state and its transitions
Replayer        reads a company's parked records back from the DLQ, runs them in order
IdempotentWriter, Reader  Conductor calls under the outcome policy and the ledger
EndStates, ResultBook, Parker  synced / failed / waiting / parked, results, the DLQ
CatchUp         the background probes of parked companies, within the probe budget
ProbeSchedule, ProbeBudget  when to probe a parked company next; probes per second
SetupLinks      setup links and the setup prompt (CompanyConnection uses it)
StatusReadBack, StatusPoll  invoice status read back from QuickBooks, and its timer
"""

from __future__ import annotations

from processors.pipeline.catchup import CatchUp
from processors.pipeline.connection import NOT_CONNECTED, CompanyConnection, HealthResult
from processors.pipeline.control import ControlEvents, ReferenceLookup, StatusPull
from processors.pipeline.endstates import EndStates, mapping_code
from processors.pipeline.lane import LaneProcessor
from processors.pipeline.objects import AppObjects
from processors.pipeline.parking import Parker
from processors.pipeline.probes import ProbeBudget, ProbeSchedule
from processors.pipeline.readback import StatusPoll, StatusReadBack, StatusReport
from processors.pipeline.replay import Replayer, ReplayReport
from processors.pipeline.results import ResultBook
from processors.pipeline.setup import SETUP_LINK, SetupLinks
from processors.pipeline.syncer import Ran, Syncer
from processors.pipeline.writer import Draft, IdempotentWriter, Reader

__all__ = [
    "NOT_CONNECTED",
    "SETUP_LINK",
    "AppObjects",
    "CatchUp",
    "CompanyConnection",
    "ControlEvents",
    "Draft",
    "EndStates",
    "HealthResult",
    "IdempotentWriter",
    "LaneProcessor",
    "Parker",
    "ProbeBudget",
    "ProbeSchedule",
    "Ran",
    "Reader",
    "ReferenceLookup",
    "ReplayReport",
    "Replayer",
    "ResultBook",
    "SetupLinks",
    "StatusPoll",
    "StatusPull",
    "StatusReadBack",
    "StatusReport",
    "Syncer",
    "mapping_code",
]
