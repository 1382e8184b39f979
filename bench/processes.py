"""Servers the benchmarks start: a free loopback port and a process that answers before the run begins."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

READY_TIMEOUT = 60  # seconds a starting server may take on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(name: str, command: list[str], env: dict[str, str], cwd: Path, log: Path, probe: str) -> Iterator[int]:
    """Start ``command`` (its output in ``log``), wait until ``probe`` (a URL) answers, yield the process id;
    stop the process at the end. A process that stops or never answers ends the benchmark with its log."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=str(cwd), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} stopped:\n" + log.read_text()[-3000:])
            try:
                if requests.get(probe, timeout=5).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer {probe}:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
