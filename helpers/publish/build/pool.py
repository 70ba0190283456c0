"""The build's worker processes: run reports in parallel, stop them on demand, never leave them behind.

A small pool written for the build rather than :class:`concurrent.futures.ProcessPoolExecutor`,
because the build needs what the executor does not give:

- to know which worker runs which report (a worker that dies fails its report, not the pool);
- to stop running workers *now* on Ctrl-C or SIGTERM (the executor only cancels queued work)
  while still collecting the results of workers that are finishing a report;
- workers that die with the build (:func:`helpers.publish.build.lifeline.die_with_parent`), so a
  ``kill -9`` of the build leaves nothing running.

Each worker has one duplex pipe: the build sends a task (a dict) or ``None`` (exit); the worker
sends ``("running", name)`` and then ``("result", result_dict)``.
"""
from __future__ import annotations

import os
import signal
import time
from collections import deque
from multiprocessing.connection import wait as mp_wait

#: Seconds a stopping worker gets to finish what it is publishing before it is killed.
STOP_GRACE = 5.0


class Stop:
    """Set by the build's signal handlers; the pool polls it."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None
        self.count = 0

    def __call__(self, signum, frame) -> None:  # a signal handler
        self.requested = True
        self.signal = signum
        self.count += 1


class _Worker:
    def __init__(self, ctx, target, args):
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.proc.start()
        child.close()
        self.task: dict | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid


def run(tasks: list[dict], jobs: int, *, target, target_args=(), on_running=None, on_result=None,
        on_tick=None, stop: Stop | None = None, ctx=None) -> bool:
    """Run ``tasks`` on up to ``jobs`` worker processes; return False if stopped early.

    ``target(conn, *target_args)`` is the worker's main function (see
    :func:`helpers.publish.build.worker.serve`). ``on_running(name)`` and
    ``on_result(result)`` are called in this process as messages arrive,
    ``on_tick()`` about four times a second. When ``stop.requested`` becomes true,
    no new task starts, every worker gets SIGTERM (its handler ends its kernels;
    a worker that is publishing finishes that first and sends its result, which
    is passed to ``on_result``), and workers still alive after :data:`STOP_GRACE`
    seconds are killed. A worker that dies while running a task gives a failed
    result for that task.
    """
    import multiprocessing as mp

    ctx = ctx or mp.get_context("spawn")
    stop = stop or Stop()
    queue = deque(tasks)
    workers: list[_Worker] = []
    n_workers = max(1, min(jobs, len(tasks)))

    def handle(w: _Worker, msg) -> None:
        kind, payload = msg
        if kind == "running":
            if on_running:
                on_running(payload)
        elif kind == "result":
            w.task = None
            if on_result:
                on_result(payload)

    def receive(w: _Worker) -> bool:
        """Read every message waiting on ``w``'s pipe; False when the pipe is closed."""
        try:
            while w.conn.poll():
                handle(w, w.conn.recv())
        except (EOFError, OSError):
            return False
        return True

    def died(w: _Worker) -> None:
        receive(w)  # a result sent just before exiting
        workers.remove(w)
        w.conn.close()
        w.proc.join(timeout=1)
        if w.task is not None and on_result:
            code = w.proc.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            on_result({"name": w.task["name"], "status": "failed", "duration": 0.0, "warnings": [],
                       "interrupted": stop.requested,
                       "error": {"cell": None, "line": None, "source": "",
                                 "message": f"the worker process building it died ({how}); out of memory?"}})
        w.task = None

    try:
        while queue or any(w.task is not None for w in workers):
            if stop.requested:
                break
            # start tasks on idle workers, starting workers as needed
            for w in [w for w in workers if w.task is None]:
                if not queue:
                    break
                w.task = queue.popleft()
                w.conn.send(w.task)
            while queue and len(workers) < n_workers:
                w = _Worker(ctx, target, target_args)
                workers.append(w)
                w.task = queue.popleft()
                w.conn.send(w.task)
            ready = mp_wait([w.conn for w in workers] + [w.proc.sentinel for w in workers], timeout=0.25)
            for w in list(workers):
                if w.conn in ready and not receive(w):
                    died(w)
                elif w.proc.sentinel in ready:
                    died(w)
            if on_tick:
                on_tick()
        return not stop.requested
    finally:
        _shutdown(workers, stop, receive)


def _shutdown(workers: list, stop: Stop, receive) -> None:
    """Workers are told to exit (``None``); on a stop they get SIGTERM instead, then SIGKILL after the grace."""
    for w in workers:
        if not stop.requested:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        else:
            try:
                os.kill(w.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_GRACE
    alive = list(workers)
    while alive and time.monotonic() < deadline:
        ready = mp_wait([w.conn for w in alive] + [w.proc.sentinel for w in alive], timeout=0.1)
        for w in list(alive):
            if w.conn in ready:
                receive(w)
            if not w.proc.is_alive():
                receive(w)
                alive.remove(w)
    for w in alive:
        try:
            os.kill(w.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for w in workers:
        w.proc.join(timeout=2)
        w.conn.close()
