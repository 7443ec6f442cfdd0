"""wrk runs, HTTP probes and memory sampling for the benchmark scripts."""

from __future__ import annotations

import http.client
import os
import re
import resource
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

STATUS_SCRIPT = Path(__file__).with_name("status.lua")


@dataclass
class WrkResult:
    """What one wrk run saw."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: dict[int, int]  # responses by HTTP status, counted by status.lua
    socket_errors: int
    wrk_cpu_s: float  # CPU time wrk itself used: it shares the machine with the server
    output: str = field(repr=False)

    @property
    def bad_status(self) -> int:
        """Responses that were not 2xx: a fast 404, 500 or redirect is not a page served."""
        return sum(n for code, n in self.statuses.items() if not 200 <= code < 300)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, timeout: float = 10.0) -> tuple[int, dict[str, str], str]:
    """GET a URL without following redirects: status, lower-cased headers, body text."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path or "/")
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body
    finally:
        conn.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Block until the server answers 200, or fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            if fetch(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f}s")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS_MS[unit]


def _int_after(pattern: str, output: str) -> int:
    match = re.search(pattern, output)
    return int(match.group(1)) if match else 0


def parse_wrk(output: str, cpu_s: float) -> WrkResult:
    """Read requests/s, latency percentiles and error counts from wrk's report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=_int_after(r"(\d+) requests in", output),
        statuses={int(c): int(n) for c, n in re.findall(r"^status (\d+): (\d+)", output, re.M)},
        socket_errors=sum(map(int, socket_errors.groups())) if socket_errors else 0,
        wrk_cpu_s=cpu_s,
        output=output,
    )


def run_wrk(
    url: str, duration: int, connections: int, threads: int, close: bool = False
) -> WrkResult:
    """Load one URL with wrk and return what it measured.

    close=True sends "Connection: close", so every request opens a new connection, as
    behind a proxy that does not keep upstream connections alive (nginx's default).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--script",
            str(STATUS_SCRIPT),
            *(["--header", "Connection: close"] if close else []),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_wrk(done.stdout, cpu)


def _cpu_ticks(pids: list[int]) -> int:
    """User plus system clock ticks the processes have used."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total


def wait_idle(root: int, timeout: float = 60.0, window: float = 0.3) -> None:
    """Wait until the server stops working off requests a finished wrk left queued.

    wrk stops sending when its time is up, but a busy server still answers what
    its backlog holds; that work must not be billed to the next endpoint.
    """
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = process_tree(root)
        before = _cpu_ticks(pids)
        time.sleep(window)
        if (_cpu_ticks(pids) - before) / tick < 0.05 * window:  # under 5% of one core
            return


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                # The command name may hold spaces; the parent pid follows its closing ")".
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(name))
    return tree


def process_tree(root: int) -> list[int]:
    """The root process and all its descendants."""
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS splits pages shared after fork fairly."""
    values = {"Rss": 0, "Pss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in values:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["Rss"], values["Pss"]


class MemorySampler:
    """Samples the server's process tree in the background and keeps the peaks:
    of the whole tree, and of each process (the root is the server's master,
    the others its workers)."""

    def __init__(self, root_pid: int, interval: float = 0.5) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peak_rss_kib = 0
        self.peak_pss_kib = 0
        self.processes = 0
        self.peaks: dict[int, tuple[int, int]] = {}  # pid -> (peak RSS, peak PSS) in KiB
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        """Add up the tree's memory now and keep it if it is the largest seen."""
        pids = process_tree(self.root_pid)
        sizes = [_memory_kib(pid) for pid in pids]
        for pid, (rss, pss) in zip(pids, sizes, strict=True):
            old_rss, old_pss = self.peaks.get(pid, (0, 0))
            self.peaks[pid] = (max(old_rss, rss), max(old_pss, pss))
        self.processes = max(self.processes, len(pids))
        self.peak_rss_kib = max(self.peak_rss_kib, sum(rss for rss, _ in sizes))
        self.peak_pss_kib = max(self.peak_pss_kib, sum(pss for _, pss in sizes))

    def worker_peak_kib(self) -> tuple[int, int]:
        """The largest peak (RSS, PSS) of one worker; the master's when it has none."""
        workers = [peak for pid, peak in self.peaks.items() if pid != self.root_pid]
        peaks = workers or [self.peaks.get(self.root_pid, (0, 0))]
        return max(rss for rss, _ in peaks), max(pss for _, pss in peaks)
