"""The server behind `flaskr serve`: granian, chosen by measurement (bench/RESULTS.md)."""

from __future__ import annotations

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server


def run_server(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Serve the blog until interrupted; each worker process builds its own app."""
    Server(
        "flaskr:create_app",
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
        workers_kill_timeout=10,
    ).serve()
