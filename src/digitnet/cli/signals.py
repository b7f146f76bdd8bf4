"""Ctrl-C and SIGTERM during training: stop after the current batch instead of dying mid-update."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_after_batch_on_signals(request_stop: Callable[[], None]) -> Iterator[list[int]]:
    """While active, SIGINT (Ctrl-C) and SIGTERM call ``request_stop`` (the run stops after its
    current batch) instead of killing the process; yields the list of signals received. A second
    signal gets the usual behaviour (KeyboardInterrupt, termination), for a user who really wants out.

    Does nothing outside the main thread, where Python cannot install signal handlers.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def on_signal(signum, frame):
        # printing here could re-enter a print the signal interrupted: the caller reports it
        received.append(signum)
        request_stop()
        signal.signal(signum, previous[signum])

    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}  # before a signal can need it
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_status(signum: int) -> int:
    """The shell convention for a process ended by a signal: 128 + its number (130, 143)."""
    return 128 + signum
