"""Turn what happened to each row of a batch into a :class:`RowResult`, and the batch into a report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    QUEUED = "queued"
    FAILED = "failed"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    UNRECORDED = "sent, not recorded"
    #: another sender holds the row's claim (alive, within its lease): it sends and records it
    ELSEWHERE = "claimed by another sender"
    #: the server accepted this run's copy, but the lease had run out and another sender had
    #: taken the row over: that sender records it (and may have sent it a second time)
    TAKEN_OVER = "sent, taken over"


OK_OUTCOMES = frozenset({Outcome.SENT, Outcome.ALREADY_SENT, Outcome.TAKEN_OVER})
#: outcomes listed in a summary only when they happened
RARE_OUTCOMES = (Outcome.CONFLICT, Outcome.UNRECORDED, Outcome.ELSEWHERE, Outcome.TAKEN_OVER)


@dataclass(frozen=True)
class RowResult:
    """What happened to one row (or one outbox entry, for a retry)."""

    where: str
    email: str
    outcome: Outcome
    detail: str = ""
    key: str = ""
    attempts: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class BatchReport:
    """Counts per outcome, and each row's result unless ``keep`` is off (a long streamed batch)."""

    results: list[RowResult] = field(default_factory=list)
    stopped: str = ""          # why the run stopped early (rows left queued), if it did
    keep: bool = True
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        if self.keep:
            self.results.append(result)

    def count(self, outcome: Outcome) -> int:
        return self.counts[outcome]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def exit_code(self) -> int:
        """0 when every row is delivered (now or before), else 1."""
        return 0 if all(n == 0 or o in OK_OUTCOMES for o, n in self.counts.items()) else 1


Progress = Callable[[int, int, RowResult], None]
