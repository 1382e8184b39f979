"""Count the SQL statements, commits and CPU time of the processes that benchmarks start: ``medienwerk worker`` through
``python bench/counted.py worker --workers 4``, the gunicorn workers through ``bench/gunicorn_counted.py``.

The counts go to ``$BENCH_COUNTS_DIR/<pid>.json`` four times a second (written whole, then renamed), so the
benchmark reads them before and after its measurement without signalling the processes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

_counts = {"statements": 0, "commits": 0}
_lock = threading.Lock()
_installed = {"done": False}


def _count(name: str) -> None:
    with _lock:
        _counts[name] += 1


def _write(folder: Path) -> None:
    with _lock:
        snapshot = dict(_counts)
    target = folder / f"{os.getpid()}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot), encoding="utf-8")
    tmp.replace(target)


def install() -> None:
    """Listen on every engine of this process; start the writer thread (call it after a fork)."""
    if _installed["done"]:
        return
    _installed["done"] = True
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def on_statement(*_: Any, **__: Any) -> None:
        _count("statements")

    def on_commit(*_: Any) -> None:
        _count("commits")

    event.listen(Engine, "before_cursor_execute", on_statement)
    event.listen(Engine, "commit", on_commit)
    folder = Path(os.environ["BENCH_COUNTS_DIR"])

    def writer() -> None:
        while True:
            _write(folder)
            time.sleep(0.25)

    threading.Thread(target=writer, daemon=True, name="bench-counts").start()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes and their children (gunicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            todo.extend(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def read(folder: Path) -> dict[str, int]:
    """The sum over every counted process of the folder."""
    total = {"statements": 0, "commits": 0}
    for path in folder.glob("*.json"):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in total:
            total[key] += int(entry.get(key, 0))
    return total


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    install()
    from lms.cli import main

    main(sys.argv[1:], prog_name="medienwerk")
