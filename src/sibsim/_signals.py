"""Interruptions: SIGTERM as an exception, and sections that finish before acting on one.

A batch scheduler, ``timeout`` or a container runtime stops a program with SIGTERM, whose
default action ends the process at once, leaving temporary files behind. The command line
turns SIGTERM into :class:`Terminated` (:func:`terminate_as_exception`), so that every
``finally`` block runs, as it does for Ctrl-C (``KeyboardInterrupt``).

Some steps must not be cut in the middle: a library writing a file may swallow an exception
raised inside one of its callbacks. :func:`deferred_signals` holds SIGINT and SIGTERM back
during such a step and reports whether one arrived, so that the caller can clean up (remove
its temporary file) before the signal is acted on as usual.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "deferred_signals", "terminate_as_exception"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM)."""


def _raise_terminated(signum, frame):
    raise Terminated(f"stopped by signal {signal.Signals(signum).name}")


def terminate_as_exception() -> None:
    """Make SIGTERM raise :class:`Terminated` in the main thread (the command line does).

    Returns
    -------
    None
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


class Pending:
    """The signals that arrived while they were held back."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.received)


@contextlib.contextmanager
def deferred_signals() -> Iterator[Pending]:
    """Hold SIGINT and SIGTERM back for the block; act on them when it ends.

    Yields
    ------
    Pending
        True once a signal has arrived: the block should then give up what it was about to
        make final. When the block ends, the first signal received is acted on as it would
        have been (``KeyboardInterrupt``, :class:`Terminated`, or the default action).
        Outside the main thread nothing is held back.
    """
    pending = Pending()
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}

    def hold(signum, frame):
        pending.received.append(signum)

    for signum in _SIGNALS:
        signal.signal(signum, hold)
    try:
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            _deliver(pending.received[0], previous[pending.received[0]])


def _deliver(signum: int, handler) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)
