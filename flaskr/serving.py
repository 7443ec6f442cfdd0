"""The server behind `flaskr serve`: granian, chosen by measurement (bench/RESULTS.md)."""

from __future__ import annotations

import math
import mmap
import os
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server
from werkzeug.wsgi import ClosingIterator

#: Where each worker keeps its count of requests in progress (set for the workers only).
REQUESTS_DIR_ENV = "_FLASKR_SERVE_REQUESTS_DIR"

_COUNT = struct.Struct("q")


def run_server(
    host: str, port: int, workers: int, threads: int, access_log: bool, grace: float
) -> int:
    """Serve the blog until SIGINT/SIGTERM; return how many requests were cut off at the end.

    On SIGTERM granian stops accepting and lets requests in progress finish for
    `grace` seconds, then kills the workers that are still busy.
    """
    counts = tempfile.mkdtemp(prefix="flaskr-serve-")
    os.environ[REQUESTS_DIR_ENV] = counts
    try:
        Server(
            "flaskr.serving:create_served_app",
            factory=True,  # built in each worker: no database connection crosses a fork
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            # Threads let a request that waits on the database not idle a whole worker.
            blocking_threads=threads,
            websockets=False,
            log_level=LogLevels.warning,
            log_access=access_log,
            respawn_failed_workers=True,
            workers_kill_timeout=max(1, math.ceil(grace)),
        ).serve()
        return _requests_in_progress(counts)
    finally:
        os.environ.pop(REQUESTS_DIR_ENV, None)
        shutil.rmtree(counts, ignore_errors=True)


def _requests_in_progress(folder: str) -> int:
    """Requests the workers were still serving when they stopped (nonzero: killed mid-request)."""
    total = 0
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read(_COUNT.size)
        if len(data) == _COUNT.size:
            total += _COUNT.unpack(data)[0]
    return total


def create_served_app() -> Flask:
    """The app of one granian worker, counting its requests in progress for the parent."""
    from flaskr import create_app
    from flaskr.mail import sender as mail_sender

    app = create_app()
    # Mail queued while no server ran goes out now, not at the next message.
    mail_sender.start(app)
    folder = os.environ.get(REQUESTS_DIR_ENV)
    if folder:
        counter = _RequestCounter(os.path.join(folder, str(os.getpid())))
        app.wsgi_app = counter.wrap(app.wsgi_app)  # type: ignore[method-assign]
    return app


class _RequestCounter:
    """This worker's requests in progress, kept in a file the parent reads after the end."""

    def __init__(self, path: str) -> None:
        with open(path, "w+b") as f:
            f.write(bytes(_COUNT.size))
            f.flush()
            # A shared mapping survives the worker being killed: the count is
            # in the page cache, not in the dying process.
            self._map = mmap.mmap(f.fileno(), _COUNT.size)
        self._count = 0
        self._lock = threading.Lock()

    def _add(self, step: int) -> None:
        with self._lock:
            self._count += step
            _COUNT.pack_into(self._map, 0, self._count)

    def wrap(self, wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """wsgi_app, counted from the request's start until its response is closed."""

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            self._add(1)
            try:
                body = wsgi_app(environ, start_response)
            except BaseException:
                self._add(-1)
                raise
            return ClosingIterator(body, [lambda: self._add(-1)])

        return counted
