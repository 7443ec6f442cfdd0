"""Real servers for tests: `flaskr serve` (granian) or waitress on this test's database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

FLASKR = str(Path(sys.executable).with_name("flaskr"))
WAITRESS = str(Path(sys.executable).with_name("waitress-serve"))
#: The two ways the README deploys flaskr: its own `flaskr serve` (granian), and the
#: tutorial's waitress. `{port}` is filled in.
COMMANDS = {
    "granian": [FLASKR, "serve", "--workers", "1", "--port", "{port}"],
    "waitress": [WAITRESS, "--port", "{port}", "--call", "flaskr:create_app"],
}
STARTUP_SECONDS = 60


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers_hello(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /hello HTTP/1.0\r\n\r\n")
        return sock.recv(100).startswith(b"HTTP/1.0 200")


class Servers:
    """Starts servers on a test's database and stops them all at the end."""

    def __init__(self, app_config: Mapping[str, Any], folder: Path) -> None:
        self.app_config = app_config
        self.folder = folder
        self.processes: list[subprocess.Popen] = []

    def start(self, command: list[str], **settings: str) -> int:
        """Run command (with `{port}`) with these FLASKR_* settings; its port once it answers."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASKR_")}
        env.update(
            FLASKR_DATABASE=self.app_config["DATABASE"],
            FLASKR_SECRET_KEY="0123456789abcdef" * 3,
            **{f"FLASKR_{name}": value for name, value in settings.items()},
        )
        if self.app_config["DATABASE_URL"]:
            env["FLASKR_DATABASE_URL"] = str(self.app_config["DATABASE_URL"])
        process = subprocess.Popen(
            [part.format(port=port) for part in command],
            env=env,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                if _answers_hello(port):
                    return port
            except OSError:
                time.sleep(0.2)
        process.kill()
        raise AssertionError(process.communicate()[0].decode())

    def stop_all(self) -> None:
        """SIGTERM every server's process group; SIGKILL what is still there after 20 s."""
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()


def servers_for(app_config: Mapping[str, Any], folder: Path) -> Iterator[Servers]:
    """Fixture body: a Servers for this test, stopped when it ends."""
    servers = Servers(app_config, folder)
    try:
        yield servers
    finally:
        servers.stop_all()
