"""Half of a check on the machine's second core: a forked process, its own connection, one answer.

A complete ``verify`` is pure Python for the most part (folding every record and comparing it with
its view rows), so one process uses one core whatever the machine has. :class:`Half` forks the
process — the child starts with what the parent holds at that moment (for the incremental check,
the records to read and the digests remembered), without pickling it — opens a connection of its
own (a connection must never cross a fork), reads in a read snapshot of its own, and sends back what
``work`` returns, pickled. Given a ``position``, the child works only when its snapshot's view is at
that position (else a writer committed in between, and it answers nothing); without one, ``work``
says which position it read and the caller compares (:mod:`qingdan.core.halves`).

Whatever goes wrong in the child — it cannot connect, the view moved on, ``work`` raises, it is
killed — :meth:`Half.result` is None and the caller does that half itself, or the whole check in
one process: a second process only ever makes a check faster, never different. Written by hand
because neither ``multiprocessing``'s pools nor ``concurrent.futures`` give a worker the parent's
memory as it is at one moment (both pickle the work to a process started before it).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import traceback
import warnings
from collections.abc import Callable
from typing import Any

#: ``QINGDAN_VERIFY_PROCESSES``: 1 keeps a check in one process; 2 splits it even for a small log
ENV = "QINGDAN_VERIFY_PROCESSES"
#: a log of fewer events is checked in one process (a second one costs about what it saves: the
#: fork, a connection, the answer pickled)
THRESHOLD = 5000


def processes(events: int, threshold: int = THRESHOLD) -> int:
    """How many processes a check of ``events`` events may use: two when the machine gives this
    process a second core, it can fork, and no other thread runs in it but psycopg's pool's (a fork
    copies only the calling thread: a lock another one held would stay held in the child) — for a log of at least
    ``threshold`` events, or any log when :data:`ENV` says 2; one when it says 1."""
    setting = os.environ.get(ENV, "").strip()
    if setting == "1" or not hasattr(os, "fork") or not _alone():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2:
        return 1
    return 2 if setting == "2" or events >= threshold else 1


# The threads psycopg's connection pool runs (eventsourcing's PostgreSQL recorder has one): a
# scheduler and workers that open, check and close the pool's connections. The child never touches
# the pool, so a lock one of them holds at the fork, or a connection it is opening, is never waited
# on in the child (which leaves by ``os._exit``, closing nothing it inherited).
_POOL_THREAD = re.compile(r"pool-\d+-(scheduler|worker-\d+)")


def _alone(ignoring: frozenset[threading.Thread] = frozenset()) -> bool:
    """No thread runs in this process but this one (and psycopg's pool's own, and ``ignoring``)."""
    current = threading.current_thread()
    return all(thread is current or thread in ignoring or (thread.daemon and _POOL_THREAD.fullmatch(thread.name))
               for thread in threading.enumerate())


def shareable(store: Any) -> bool:
    """Whether another process can open the database ``store`` reads (not an in-memory SQLite one)."""
    if store.backend != "sqlite":
        return True
    name = store.env.get("SQLITE_DBNAME", "")
    return bool(name) and name != ":memory:" and "mode=memory" not in name


class Half:
    """``work(store, *args, **kwargs)`` run in a forked child on a connection of its own (``store``),
    in a read snapshot at the view's ``position`` (None: any; ``work`` says which it read)."""

    def __init__(self, store: Any, position: int | None, work: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(writer, type(store), store.env, position, work, args, kwargs),
                                  daemon=True, name="qingdan-verify")
        with warnings.catch_warnings():  # (Python 3.12 on warns of a fork with threads: see _alone)
            warnings.simplefilter("ignore", DeprecationWarning)
            process.start()
        self._process: Any = process
        writer.close()

    def cancel(self) -> None:
        """Stop the child if it still runs (its answer is not wanted)."""
        if self._process is not None:
            self._process.terminate()
            self._reader.close()
            self._process.join()
            self._process = None

    def result(self) -> Any:
        """What ``work`` returned, or None when the child could not give it."""
        try:
            return self._reader.recv()
        except (EOFError, OSError):
            return None
        finally:
            self._reader.close()
            self._process.join()
            self._process = None  # (and with it what the work was given)


def _child(writer: Any, store_class: type, env: dict[str, str], position: int | None, work: Callable[..., Any],
           args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    result = None
    try:
        store = store_class.reader(env)
        try:
            with store.read_snapshot():
                if position is None or store.position() == position:
                    result = work(store, *args, **kwargs)
        finally:
            store.close()
    except BaseException:  # noqa: BLE001  (the parent does this half itself: see the module's docstring)
        result = None
        if os.environ.get("QINGDAN_DEBUG") == "1":
            traceback.print_exc()
    try:
        writer.send(result)
    except BaseException:  # noqa: BLE001  (e.g. a result that cannot be pickled: the same)
        pass
    finally:
        writer.close()
