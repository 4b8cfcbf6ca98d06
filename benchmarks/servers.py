"""Start the model server (`mlops serve`) as a real process for a benchmark, and stop it afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ml.errors import MlopsError


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ServerProcess:
    """A running `mlops serve`: its /invocations URL and the process that leads its session."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU seconds used so far by the server and its worker processes."""
        return session_cpu_seconds(self.pid)

    def pids(self) -> list[int]:
        """The server's live processes: the one that leads its session and its workers."""
        return [pid for pid, _ in _session_stats(self.pid)]


def _stat_fields(stat: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces), or None once the process is gone.

    From there: state ppid pgrp session ... utime (index 11) stime (12), in clock ticks.
    """
    try:
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cpu_ticks(fields: list[str]) -> int:
    """utime + stime of one process's stat fields (see _stat_fields), in clock ticks."""
    return int(fields[11]) + int(fields[12])


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by one process (all its threads), not its children."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return 0.0 if fields is None else _cpu_ticks(fields) / os.sysconf("SC_CLK_TCK")


def _session_stats(session_id: int) -> Iterator[tuple[int, list[str]]]:
    """(pid, stat fields) of every live process in a session."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields is not None and int(fields[3]) == session_id:
            yield int(stat.parent.name), fields


def session_cpu_seconds(session_id: int) -> float:
    """User and system CPU seconds of every live process in a session (a server started in its own session)."""
    return sum(_cpu_ticks(fields) for _, fields in _session_stats(session_id)) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def served(
    model_dir: Path, *, timeout_s: float = 180.0, log_path: Path | None = None, **flags: object
) -> Iterator[str]:
    """Run `mlops serve model_dir --flag value ...` on a free port; yield its /invocations URL."""
    with server_process(model_dir, timeout_s=timeout_s, log_path=log_path, **flags) as server:
        yield server.url


@contextlib.contextmanager
def server_process(
    model_dir: Path, *, timeout_s: float = 180.0, log_path: Path | None = None, **flags: object
) -> Iterator[ServerProcess]:
    """Run `mlops serve model_dir --flag value ...` in its own session on a free port, until the block ends."""
    port = free_port()
    args = [sys.executable, "-m", "mlops_cli", "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port)]
    for name, value in flags.items():
        if value is not None:
            args += [f"--{name.replace('_', '-')}", str(value)]
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise MlopsError(f"server exited with {proc.returncode} before it was ready: {' '.join(args)}")
            try:
                with urllib.request.urlopen(f"{base}/ping", timeout=2) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MlopsError(f"server not ready after {timeout_s:.0f}s: {' '.join(args)}")
            time.sleep(0.5)
        yield ServerProcess(f"{base}/invocations", proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def traffic_per_worker(log_path: Path, *, at_least: int = 0, timeout_s: float = 10.0) -> dict[str, dict[str, int]]:
    """Invocations and distinct client connections per worker pid, from a server's JSON access log.

    Keep-alive connections stay with the worker that accepted them, so a closed loop with few clients can leave
    a worker idle (one worker may accept a burst of connections at once); this shows whether that happened.
    A worker writes a request's line after answering it: a running server's log is read again, up to `timeout_s`,
    until it holds `at_least` invocations.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        counts = _traffic_in_log(log_path)
        if sum(c["invocations"] for c in counts.values()) >= at_least or time.monotonic() >= deadline:
            return counts
        time.sleep(0.05)


def _traffic_in_log(log_path: Path) -> dict[str, dict[str, int]]:
    seen: dict[str, tuple[int, set[str]]] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("path") == "/invocations" and "pid" in entry:
            count, clients = seen.get(str(entry["pid"]), (0, set()))
            clients.add(str(entry.get("client", "")))
            seen[str(entry["pid"])] = (count + 1, clients)
    return {pid: {"invocations": count, "connections": len(clients)} for pid, (count, clients) in sorted(seen.items())}
