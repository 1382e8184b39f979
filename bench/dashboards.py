"""Benchmark: the coordinators' dashboards with 10,000 volunteers in 20 chambers, served by gunicorn.

Targets (issue): overview, matrix page and volunteer detail p50 under 300 ms for the largest chamber and for the
central view of all volunteers; at most 10 SQL statements per page; the full CSV export streams in flat memory.
This script prints the figures and asserts nothing.

1. seeds with bench/seed_dashboards.py (unless --skip-seed): THE TABLES OF THE GIVEN DATABASE ARE DROPPED AND
   RE-CREATED. The default PostgreSQL URI below selects its own schema ``bench_dash`` (created if missing), so
   nothing else in the database is touched; without --db a temporary SQLite file is used;
2. creates launch sessions for the coordinator of the largest chamber and for the central team's coordinator;
3. serves the app with gunicorn (2 workers) on a free loopback port and times every page: 2 warm-ups, then
   --requests sequential GETs each, p50 and p95;
4. counts the SQL statements of every page in-process (test client, same tokens);
5. streams the central team's full CSV export over HTTP (rows, bytes, time, the gunicorn worker's RSS), and
   measures Python's peak memory (tracemalloc) in-process for exports of ~1,000 rows, the largest chamber and all
   rows (flat memory: the peak stops growing once a few 500-row batches have passed);
6. for pages over 300 ms p50: the slowest statement of the page (timed in-process).

    .venv/bin/python bench/dashboards.py                        # SQLite, 10,000 volunteers
    .venv/bin/python bench/dashboards.py --db "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_dash"
    .venv/bin/python bench/dashboards.py --db ... --skip-seed --requests 10

Bounded: at most --requests (<= 200) timed requests per page and coordinator; every request has a timeout; the
server is stopped at the end. The seeded schema stays for --skip-seed runs; remove it with
``DROP SCHEMA bench_dash CASCADE``. The timed requests run long enough for psycopg to prepare the statements
(after 5 executions per connection) and for PostgreSQL to switch to generic plans, as a long-running server does.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from processes import free_port, serving  # noqa: E402
from seed_dashboards import ensure_schema, seed  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-dashboards-secret-5f0c9a1e7d2b4c68"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_dash"
TARGET_MS = 300
TARGET_STATEMENTS = 10


@dataclass
class Who:
    label: str
    user_id: int
    platform_id: int
    chamber_id: int
    volunteer_id: int  # a volunteer with progress in the scope (for the detail page)
    token: str = ""


@dataclass
class Plan:
    largest: Who
    central: Who
    module_id: str
    small_chamber_id: int  # the chamber closest to 1,000 volunteers (the small export)
    small_chamber_volunteers: int
    volunteers: int


def describe(app: Any) -> Plan:
    """What the bench needs from the seeded database (also after --skip-seed)."""
    from sqlalchemy import func, select

    from lms.core.extensions import db
    from lms.courses.setup import current_course
    from lms.platforms.models import Chamber, Platform
    from lms.progress.models import ItemProgress
    from lms.users.models import Enrollment, User

    with app.app_context():
        volunteer = select(Enrollment.id).where(Enrollment.user_id == User.id, Enrollment.role == "volunteer").exists()
        sizes = dict(
            db.session.execute(
                select(User.chamber_id, func.count())
                .where(volunteer, User.is_coordinator.is_(False))
                .group_by(User.chamber_id)
            ).all()
        )
        if not sizes:
            raise SystemExit("no volunteers in the database: run without --skip-seed")
        largest = max(sizes, key=lambda c: sizes[c])
        central = db.session.execute(select(Chamber.id).where(Chamber.is_central.is_(True))).scalar_one()
        small = min(sizes, key=lambda c: (abs(sizes[c] - 1000), c))

        def coordinator(chamber_id: int) -> tuple[int, int]:
            user_id = (
                db.session.execute(
                    select(User.id)
                    .where(User.chamber_id == chamber_id, User.is_coordinator.is_(True))
                    .order_by(User.id)
                )
                .scalars()
                .first()
            )
            platform_id = (
                db.session.execute(select(Platform.id).where(Platform.chamber_id == chamber_id).order_by(Platform.id))
                .scalars()
                .first()
            )
            return int(user_id), int(platform_id)

        def busiest(chamber_id: int) -> int:
            """The volunteer of the chamber with the most item states (the heaviest detail page)."""
            return int(
                db.session.execute(
                    select(ItemProgress.user_id)
                    .join(User, User.id == ItemProgress.user_id)
                    .where(User.chamber_id == chamber_id)
                    .group_by(ItemProgress.user_id)
                    .order_by(func.count().desc(), ItemProgress.user_id)
                    .limit(1)
                ).scalar_one()
            )

        other = sorted(sizes, key=lambda c: -sizes[c])[1] if len(sizes) > 1 else largest
        lu, lp = coordinator(largest)
        cu, cp = coordinator(central)
        return Plan(
            largest=Who(f"largest chamber ({sizes[largest]:,} volunteers)", lu, lp, largest, busiest(largest)),
            central=Who(f"central view ({sum(sizes.values()):,} volunteers)", cu, cp, central, busiest(other)),
            module_id=current_course().modules[0].id,
            small_chamber_id=small,
            small_chamber_volunteers=sizes[small],
            volunteers=sum(sizes.values()),
        )


def launch(app: Any, who: Who) -> str:
    from lms.core.extensions import db
    from lms.core.security import create_launch_session

    with app.test_request_context():
        _session, token = create_launch_session(
            user_id=who.user_id, course_id=None, platform_id=who.platform_id, deployment_id="1", role="coordinator"
        )
        db.session.commit()
    return token


def pages(who: Who, module_id: str) -> list[tuple[str, str]]:
    base = f"/t/{who.token}/dashboard"
    return [
        ("overview", f"{base}/"),
        ("matrix", f"{base}/volunteers"),
        ("matrix sort=progress p5", f"{base}/volunteers?sort=progress&page=5"),
        ("volunteer detail", f"{base}/volunteers/{who.volunteer_id}"),
        ("module statistics", f"{base}/modules/{module_id}"),
        ("live statistics", f"{base}/live"),
    ]


# --- serving -------------------------------------------------------------------------------------------------------


@contextmanager
def gunicorn(uri: str, tmp: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIENWERK_")}
    env.update(
        {
            "MEDIENWERK_SQLALCHEMY_DATABASE_URI": uri,
            "MEDIENWERK_SECRET_KEY": SECRET,
            "MEDIENWERK_INSTANCE_PATH": str(tmp / "instance"),
        }
    )
    log = tmp / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "lms:create_app()"]
    url = f"http://127.0.0.1:{port}"
    with serving("gunicorn", command, env, ROOT, log, url + "/healthz") as pid:
        LOGS[pid] = log
        yield url, pid


LOGS: dict[int, Path] = {}


def log_hint(server_pid: int) -> str:
    """The last exception line in the server's log, and where the log is."""
    log = LOGS.get(server_pid)
    if log is None or not log.exists():
        return "the gunicorn log"
    errors = [line for line in log.read_text().splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return (f"server: {one_line(errors[-1], 300)}; " if errors else "") + f"log: {log}"


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


# --- measuring -----------------------------------------------------------------------------------------------------


def time_pages(url: str, plan: Plan, n: int) -> dict[tuple[str, str], tuple[float, float, set[int]]]:
    http = requests.Session()
    result = {}
    for who in (plan.largest, plan.central):
        for label, path in pages(who, plan.module_id):
            statuses: set[int] = set()
            for _ in range(2):
                statuses.add(http.get(url + path, timeout=120).status_code)
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                response = http.get(url + path, timeout=120)
                times.append((time.perf_counter() - t0) * 1000)
                statuses.add(response.status_code)
            result[(who.label, label)] = (statistics.median(times), percentile(times, 0.95), statuses)
    return result


@dataclass
class Statements:
    count: int
    sql_ms: float
    page_ms: float
    slowest: tuple[float, str]


def count_statements(app: Any, plan: Plan) -> dict[tuple[str, str], Statements]:
    from sqlalchemy import event

    from lms.core.extensions import db

    with app.app_context():
        engine = db.engine
    log: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        log.append(((time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000, statement))

    client = app.test_client()
    result = {}
    for who in (plan.largest, plan.central):
        for label, path in pages(who, plan.module_id):
            client.get(path)  # warm-up (the launch's last_seen_at is written at most once a minute)
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            try:
                t0 = time.perf_counter()
                response = client.get(path)
                page_ms = (time.perf_counter() - t0) * 1000
            finally:
                event.remove(engine, "before_cursor_execute", before)
                event.remove(engine, "after_cursor_execute", after)
            if response.status_code != 200:
                print(f"  ! {who.label} {label}: HTTP {response.status_code}")
            slowest = max(log, default=(0.0, ""))
            result[(who.label, label)] = Statements(len(log), sum(t for t, _s in log), page_ms, slowest)
            log.clear()
    return result


def export_over_http(url: str, server_pid: int, who: Who) -> None:
    path = f"{url}/t/{who.token}/dashboard/volunteers/export?format=csv"
    workers = _children(server_pid)
    before = {pid: _rss_kib(pid) for pid in workers}
    peak = dict(before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in workers:
                peak[pid] = max(peak.get(pid, 0), _rss_kib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    first_byte = None
    size = lines = 0
    failure = ""
    status = 0
    try:
        with requests.get(path, stream=True, timeout=300) as response:
            status = response.status_code
            for chunk in response.iter_content(65536):
                if first_byte is None:
                    first_byte = time.perf_counter() - t0
                size += len(chunk)
                lines += chunk.count(b"\n")
    except requests.RequestException as exc:  # the server broke off the stream
        failure = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - t0
    stop.set()
    sampler.join()
    grew = max((peak[p] - before.get(p, 0) for p in peak), default=0)
    worker = max(peak, key=lambda p: peak[p] - before.get(p, 0)) if peak else 0
    print(
        f"  HTTP  {who.label}: status {status}, {max(0, lines - 1):,} rows, {size / 1024:,.0f} KiB in {elapsed:.2f} s "
        f"(first byte after {(first_byte or 0) * 1000:.0f} ms, {size / 1024 / max(elapsed, 1e-9):,.0f} KiB/s)"
    )
    if failure:
        print(f"        THE STREAM BROKE OFF after {max(0, lines - 1):,} rows ({failure}); see {log_hint(server_pid)}")
    print(
        f"        gunicorn worker RSS: {before.get(worker, 0) / 1024:,.1f} MiB before, "
        f"{peak.get(worker, 0) / 1024:,.1f} MiB peak during the export (+{grew / 1024:,.1f} MiB)"
    )


def export_memory(app: Any, who: Who, query: str) -> tuple[int, int, int, float, str]:
    """Rows, bytes, peak traced Python memory above the start (bytes), seconds and the error if the stream broke
    off, consuming the streamed body."""
    client = app.test_client()
    path = f"/t/{who.token}/dashboard/volunteers/export?format=csv{query}"
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        response = client.get(path)
        size = lines = 0
        failure = ""
        try:
            for chunk in response.response:  # the streamed iterator, chunk by chunk
                size += len(chunk)
                lines += chunk.count(b"\n")
        except Exception as exc:  # noqa: BLE001 - reported: the export broke off
            failure = f"{type(exc).__name__}: {one_line(str(exc), 160)}"
        finally:
            response.close()
        elapsed = time.perf_counter() - t0
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(0, lines - 1), size, peak - start, elapsed, failure


def one_line(statement: str, limit: int = 600) -> str:
    text = re.sub(r"\s+", " ", statement).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- main ----------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--db",
        default=None,
        help=f"SQLAlchemy URI; its tables are dropped and re-created (default: a temporary SQLite file; "
        f"for PostgreSQL use its own schema, e.g. {PG_DEFAULT})",
    )
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page and coordinator")
    parser.add_argument("--skip-seed", action="store_true", help="use the data of an earlier run")
    args = parser.parse_args()
    n = max(1, min(args.requests, 200))
    began = time.perf_counter()

    from lms import create_app

    tmp = Path(tempfile.mkdtemp(prefix="medienwerk-bench-"))
    uri = args.db or f"sqlite:///{tmp}/bench.sqlite"
    if args.skip_seed and not args.db:
        raise SystemExit("--skip-seed needs --db (the default SQLite file is new every run)")
    ensure_schema(uri)
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": uri,
        "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite"),
    }
    app = create_app(config)
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    print(f"database            {uri.split('@')[-1]}")
    print(f"machine             {os.cpu_count()} cores, load average {load()} (other work inflates every figure)")
    if not args.skip_seed:
        summary = seed(app, volunteers=max(1, min(args.volunteers, 200_000)))
        summary.print()
    plan = describe(app)
    for who in (plan.largest, plan.central):
        who.token = launch(app, who)
    print(f"coordinators        {plan.largest.label}: user {plan.largest.user_id}; {plan.central.label}: user "
          f"{plan.central.user_id}")  # fmt: skip
    print(f"detail pages        volunteers {plan.largest.volunteer_id} (largest) and {plan.central.volunteer_id} "
          f"(central); module page {plan.module_id}")  # fmt: skip

    # -- 3. gunicorn ---------------------------------------------------------------------------------------------------
    with gunicorn(uri, tmp) as (url, server_pid):
        timings = time_pages(url, plan, n)
        print(f"\nHTTP timings (gunicorn, 2 workers; {n} sequential requests after 2 warm-ups), ms:")
        print(f"  {'view':<44} {'page':<26} {'p50':>8} {'p95':>8}  status")
        for (who, label), (p50, p95, statuses) in timings.items():
            mark = "  > 300 ms" if p50 > TARGET_MS else ""
            print(f"  {who:<44} {label:<26} {p50:8.1f} {p95:8.1f}  {sorted(statuses)}{mark}")

        # -- 4. statements -------------------------------------------------------------------------------------------
        counted = count_statements(app, plan)
        print("\nSQL statements per page (in-process, test client):")
        print(f"  {'view':<44} {'page':<26} {'stmts':>5} {'SQL ms':>8} {'page ms':>8}")
        for (who, label), s in counted.items():
            mark = "  > 10" if s.count > TARGET_STATEMENTS else ""
            print(f"  {who:<44} {label:<26} {s.count:5d} {s.sql_ms:8.1f} {s.page_ms:8.1f}{mark}")

        # -- 5. export -----------------------------------------------------------------------------------------------
        print("\nCSV export of the central view:")
        export_over_http(url, server_pid, plan.central)
    small = f"&chamber={plan.small_chamber_id}"
    export_memory(app, plan.central, small)  # warm-up: statement caches, translations
    for label, query in (
        (f"one chamber (~{plan.small_chamber_volunteers:,})", small),
        ("the largest chamber", f"&chamber={plan.largest.chamber_id}"),
        (f"all ({plan.volunteers:,})", ""),
    ):
        rows, size, peak, seconds, failure = export_memory(app, plan.central, query)
        print(
            f"  in-process {label:<24} {rows:>7,} rows, {size / 1024:8,.0f} KiB in {seconds:5.2f} s, "
            f"peak Python memory (tracemalloc) {peak / 1024 / 1024:6.2f} MiB"
        )
        if failure:
            print(f"        THE STREAM BROKE OFF after {rows:,} rows: {failure}")

    # -- 6. why a page is slow -------------------------------------------------------------------------------------
    slow = [(key, timings[key][0]) for key in timings if timings[key][0] > TARGET_MS]
    if slow:
        print("\nslowest statement of each page over 300 ms p50 (in-process timing):")
        for key, p50 in slow:
            s = counted[key]
            head = f"  {key[0]} / {key[1]}: p50 {p50:.0f} ms;"
            print(f"{head} slowest statement {s.slowest[0]:.0f} ms of {s.sql_ms:.0f} ms SQL:")
            print(f"    {one_line(s.slowest[1])}")

    over = [k for k, s in counted.items() if s.count > TARGET_STATEMENTS]
    print(
        f"\ntargets             p50 <= {TARGET_MS} ms: {'met' if not slow else f'NOT met on {len(slow)} page(s)'}; "
        f"<= {TARGET_STATEMENTS} statements: {'met' if not over else f'NOT met on {len(over)} page(s)'}"
    )
    print(f"bench took          {time.perf_counter() - began:.0f} s; load average at the end {load()}")
    with app.app_context():
        from lms.core.extensions import db

        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
