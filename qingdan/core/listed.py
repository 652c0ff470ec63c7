"""Each record's runs on the lists: what ``qd_listed`` holds, derived from the view's rows.

A list read by offset counts the records it skips. ``qd_versions`` holds one row per state of a
record (about six a hazard by the end of a campaign: each status, each correction, as known then and
now), so counting walked six index entries a record. A record's *runs* are the stretches of
effective dates in which it is on the lists under one kind, number and campaign, withdrawn or not —
the rows of one state after another joined — which is one run for nearly every record, two for a
withdrawn one. ``qd_listed`` holds them, bitemporally like the rows: ``[valid_from, valid_to)`` as
known for ``[recorded_from, recorded_to)``. As of any date and as known at any time a record has at
most one run there, exactly when it has one row in ``qd_versions``, with the same number and campaign
— so the numbers of a page are found by walking the runs, and only that page's rows are read.

The view writes the runs as its rows change (:meth:`qingdan.core.view.View._apply`, through
:class:`Relisting`), the store fills them in for a view written before the table existed
(:func:`history`), and ``verify`` compares them with the rows (:func:`agree`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: the status a list leaves out unless asked for withdrawn entries too
WITHDRAWN = "withdrawn"

#: One row's part in the lists: (kind, number, campaign, status, valid_from, valid_to).
Span = tuple[Any, ...]
#: One run: (kind, number, campaign, withdrawn 0/1, valid_from, valid_to or None).
Run = tuple[Any, ...]
#: ``qd_listed``'s columns (but its id), as a row of it is written and read
LISTED_COLUMNS = ("aggregate_id, kind, number, campaign, withdrawn, valid_from, valid_to, "
                  "recorded_from, recorded_to")


def runs(spans: Iterable[Span]) -> tuple[Run, ...]:
    """The runs of one record's rows as known at one time (rows that are current together: their
    effective dates do not overlap), in date order."""
    out: list[Run] = []
    for kind, number, campaign, status, valid_from, valid_to in sorted(spans, key=lambda s: s[4]):
        if valid_to is not None and valid_to <= valid_from:
            continue  # an empty interval lists nothing
        flag = 1 if status == WITHDRAWN else 0
        if out and out[-1][5] == valid_from and out[-1][:4] == (kind, number, campaign, flag):
            out[-1] = (*out[-1][:5], valid_to)
        else:
            out.append((kind, number, campaign, flag, valid_from, valid_to))
    return tuple(out)


def _visible(rows: Sequence[Any], moment: str, at: int) -> list[Any]:
    """The rows whose recorded interval (``row[at]``, ``row[at + 1]``) holds ``moment``."""
    return [r for r in rows if r[at] <= moment and (r[at + 1] is None or moment < r[at + 1])]


def history(rows: Sequence[Span]) -> list[tuple[Any, ...]]:
    """The runs of one record as known over time, from all its view rows, each row given as
    ``(*span, recorded_from, recorded_to)``: each run as ``(*run, recorded_from, recorded_to)``, a
    run open until the record's runs change."""
    moments = sorted({r[6] for r in rows} | {r[7] for r in rows if r[7] is not None})
    out: list[tuple[Any, ...]] = []
    current: tuple[Run, ...] = ()
    since = ""
    for moment in moments:
        now = runs(r[:6] for r in _visible(rows, moment, 6))
        if now != current:
            out += [(*run, since, moment) for run in current]
            current, since = now, moment
    out += [(*run, since, None) for run in current]
    return out


def agree(spans: Sequence[Span], listed: Sequence[tuple[Any, ...]]) -> bool:
    """Whether a record's runs (``(*run, recorded_from, recorded_to)``) are its view rows' (``(*span,
    recorded_from, recorded_to)``) at every recorded time — compared at every bound of either, as the
    view's own audit compares rows with the fold. Values that are not text where text is stored do not
    agree with anything."""
    moments = ({r[6] for r in spans} | {r[7] for r in spans if r[7] is not None}
               | {r[6] for r in listed} | {r[7] for r in listed if r[7] is not None})
    try:
        for moment in sorted(moments):
            mine = tuple(tuple(r[:6]) for r in sorted(_visible(listed, moment, 6), key=lambda r: r[4]))
            if mine != runs(r[:6] for r in _visible(spans, moment, 6)):
                return False
    except TypeError:
        return False
    return True


@dataclass(slots=True)
class Listed:
    """One row of ``qd_listed`` (:mod:`qingdan.core.listed`) a write adds."""

    aggregate_id: str
    run: Run
    recorded_from: str
    recorded_to: str | None = None

    def values(self) -> tuple[Any, ...]:
        """The columns of ``LISTED_COLUMNS``, in order."""
        return (self.aggregate_id, *self.run, self.recorded_from, self.recorded_to)


class Relisting:
    """What a write changes of the records' runs in ``table`` (:mod:`qingdan.core.listed`): the runs
    it adds, by record its open ones, and the records whose runs in the table it closes."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.added: list[Listed] = []
        self.open: dict[str, list[Listed]] = {}
        self.closing: list[tuple[str, str]] = []

    def change(self, key: str, recorded: str, runs: tuple[Run, ...], stored: bool) -> None:
        """The record's runs change at ``recorded``: close its open ones (in the table, or added
        earlier in this write: a run opened and closed at one time is never written) and add these."""
        mine = self.open.get(key)
        if mine is None:
            if stored:  # it may have runs in the table
                self.closing.append((recorded, key))
        else:
            for row in mine:
                row.recorded_to = recorded
        self.open[key] = [Listed(key, run, recorded) for run in runs]
        self.added += self.open[key]

    def close(self, store: Any) -> None:
        """Before any run is added: the record's new runs are open too."""
        if self.closing:
            store.executemany(f"UPDATE {self.table} SET recorded_to = ? WHERE aggregate_id = ? "
                              "AND recorded_to IS NULL", self.closing)
            self.closing = []

    def write(self, store: Any, finished: Callable[[str], bool] = lambda key: True) -> None:
        """Add the runs of the records no later run of events changes (after :meth:`close`)."""
        done = [row for row in self.added if finished(row.aggregate_id)]
        store.executemany(f"INSERT INTO {self.table} ({LISTED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [row.values() for row in done if row.recorded_to != row.recorded_from])
        self.added = [row for row in self.added if not finished(row.aggregate_id)]
        for key in {row.aggregate_id for row in done}:
            self.open.pop(key, None)
