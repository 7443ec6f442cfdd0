"""The production server behind `flaskr serve`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    """gunicorn, configured from Python and building one app per worker process."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Built after the fork, so no database connection is shared between workers.
        from flaskr import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    """Serve until interrupted."""
    _Server(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "accesslog": "-" if access_log else None,
            "loglevel": "warning",
            "timeout": 30,
            "graceful_timeout": 10,
            "forwarded_allow_ips": "127.0.0.1",
        }
    ).run()
