"""A deadline for every wait on a database server, enforced from the client side.

A server-side statement_timeout cannot help when the server itself stops
answering (a stopped process, a frozen VM, a half-open network path), and TCP
keepalives and TCP_USER_TIMEOUT never fire while the peer's kernel still
acknowledges. So one thread per process checks the calls in flight a few
times a second and shuts down the socket of any that outlives its deadline:
the driver, blocked reading that socket, wakes up with a connection error.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

#: How often overdue calls are looked for; a cut comes at most this late.
TICK_SECONDS = 0.1

log = logging.getLogger(__name__)


class Watchdog:
    """Shuts down the socket of any watched call that outlives its deadline."""

    def __init__(self) -> None:
        self._calls: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._running = False
        # A forked child (a server worker) inherits the calls but not the thread.
        os.register_at_fork(after_in_child=self._forget)

    def arm(self, key: int, fileno: int, seconds: float) -> None:
        """Start watching the call identified by key, waiting on socket fileno."""
        if not self._running:
            self._start()
        self._calls[key] = (time.monotonic() + seconds, fileno)

    def disarm(self, key: int) -> None:
        """The call is over: stop watching it."""
        # Under the lock: once this returns, the watchdog will not touch the
        # socket, which its owner may close (and the OS reuse) right after.
        with self._lock:
            self._calls.pop(key, None)

    def _start(self) -> None:
        with self._lock:
            if not self._running:
                threading.Thread(target=self._run, name="flaskr-db-watchdog", daemon=True).start()
                self._running = True

    def _forget(self) -> None:
        self._calls = {}
        self._lock = threading.Lock()
        self._running = False

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            now = time.monotonic()
            for key, call in list(self._calls.items()):
                if call[0] <= now:
                    with self._lock:
                        if self._calls.get(key) is call:
                            del self._calls[key]
                            self._cut(call[1])

    def _cut(self, fileno: int) -> None:
        try:
            sock = socket.socket(fileno=fileno)
        except OSError:
            return  # not a socket any more: the call is ending by itself
        try:
            sock.shutdown(socket.SHUT_RDWR)
            log.warning("the database server stopped answering: connection cut")
        except OSError:
            pass  # already closed by the peer: the driver sees that by itself
        finally:
            sock.detach()  # the descriptor stays the driver's to close


#: The process's one watchdog.
watchdog = Watchdog()
