"""Faults for tests: a TCP relay that can be cut or frozen, a server that never answers,
and child processes that obey file permissions even when the tests run as root."""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


class TcpProxy:
    """A loopback TCP relay to PostgreSQL that can be cut, restored, frozen and thawed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._flowing = threading.Event()
        self._flowing.set()

    def start(self) -> None:
        """Accept and relay connections until stop()."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and break every open one."""
        assert self._listener is not None
        self._flowing.set()
        # close() alone leaves a thread blocked in accept() listening; shutdown wakes it.
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def freeze(self) -> None:
        """Keep every connection open but pass nothing on: a server process that stopped.

        Bytes are still received (the kernel acknowledges them, as it does for a
        stopped server), so neither keepalives nor TCP_USER_TIMEOUT notice.
        """
        self._flowing.clear()

    def thaw(self) -> None:
        """Pass bytes on again, those held while frozen first."""
        self._flowing.set()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port whose listener completes TCP handshakes but never answers: yields the port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def within(seconds: float, call: Callable[[], Any]) -> tuple[Any, float]:
    """Run call in a thread; fail if it takes longer than seconds. Returns (result, elapsed)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], elapsed


def without_root_file_powers() -> None:
    """preexec_fn: make a root child process obey file modes like any other user."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def end_backend(database_url: str, pid: int) -> None:
    """End PostgreSQL's session `pid` from the server's side, as a restart or an
    administrator would, and wait until the server has let it go."""
    import psycopg
    import sqlalchemy as sa

    from flaskr.db.postgresql import libpq_conninfo

    conninfo = libpq_conninfo(sa.make_url(database_url))
    with psycopg.connect(conninfo, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        gone = "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)"
        for _ in range(100):
            if admin.execute(gone, (pid,)).fetchone()[0]:
                return
            time.sleep(0.01)
