"""Make a process die with its parent (standard library only).

The build's workers and their kernels must not outlive the build: a ``kill -9``
of ``python -m helpers build`` must not leave processes behind that keep
writing into the site. Two mechanisms, both set up by :func:`die_with_parent`:

- Linux's ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel sends the signal the
  moment the parent exits (strictly, the parent *thread* that started us: the
  build starts workers, and workers start kernels, from their main thread).
- A watchdog thread that polls ``os.getppid()`` every ``poll`` seconds and ends
  the process when it changes (the parent died and we were re-parented): the
  fallback where prctl is unavailable.

This file is also loaded by path (not as ``helpers.publish.build.lifeline``)
by :mod:`helpers.publish.build.kernel_launcher`, so that kernels do not import
the ``helpers`` package before the notebook does; keep it free of package imports.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def _prctl_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(expected_parent: int | None = None, sig: int = signal.SIGKILL, poll: float = 0.5) -> None:
    """End this process (with ``sig``) as soon as its parent process ends.

    Parameters
    ----------
    expected_parent : int, optional
        The parent's pid as the parent knows it (e.g. passed in the environment).
        When the current parent differs (the parent died before this call), the
        process ends at once. Default: the current parent.
    sig : int
        Signal that ends the process (default SIGKILL: no handler can delay it).
    poll : float
        Seconds between two checks of the watchdog thread.
    """
    parent = expected_parent or os.getppid()
    _prctl_pdeathsig(sig)
    if os.getppid() != parent:  # the parent is already gone
        os.kill(os.getpid(), sig)
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                try:
                    os.kill(os.getpid(), sig)
                finally:
                    os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
