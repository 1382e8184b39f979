"""A join surge: N volunteers press "join" at the same moment (the tutorial starts, no meeting exists yet).

Serves the tool and the BBB double on loopback ports, seeds its own data (a chamber, a course, a tutorial
starting in five minutes, N volunteers signed up with launch tokens), fires N join POSTs from a thread pool
and prints the timing figures and how many `create` calls reached BBB (it must be exactly one).

    .venv/bin/python bench/live_join_surge.py                      # 300 joins, 50 threads, SQLite
    .venv/bin/python bench/live_join_surge.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Bounded: at most 2000 joins, and the whole run gives up after --deadline seconds (default 120).
The PostgreSQL run drops and recreates the tables of the given database: use a scratch database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-0b1c2d3e4f5a6b7c8d9e"


def serve(wsgi: object) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def seed(app, n: int) -> tuple[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    import secrets

    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.core.security import create_launch_session, csrf_token
    from lms.live_sessions.models import LiveProfile, LiveSession, Signup
    from lms.platforms.models import Chamber, Platform
    from lms.users.models import Enrollment, LmsCourse, User

    with app.app_context():
        db.drop_all()
        db.create_all()
        chamber = Chamber(slug="hwk-bench", name="HWK Bench")
        db.session.add(chamber)
        db.session.flush()
        platform = Platform(
            chamber_id=chamber.id,
            name="Bench-LMS",
            issuer="https://bench.invalid",
            client_id="b",
            auth_login_url="https://bench.invalid/a",
            auth_token_url="https://bench.invalid/t",
            key_set_url="https://bench.invalid/k",
        )
        course = LmsCourse(chamber_id=chamber.id, issuer=platform.issuer, context_id="bench-course", title="Bench")
        db.session.add_all([platform, course])
        db.session.flush()
        live = LiveSession(
            chamber_id=chamber.id,
            course_id=course.id,
            title="Surge-Tutorial",
            description="",
            module_ids=[],
            starts_at=utcnow() + dt.timedelta(minutes=5),
            timezone="Europe/Berlin",
            duration_minutes=60,
            capacity=None,
            audience="course",
            record=False,
            mute_on_start=True,
            wait_for_moderator=False,
            welcome="",
            early_entry_minutes=15,
            meeting_id="mw-bench-" + secrets.token_hex(6),
            callback_token=secrets.token_urlsafe(32),
        )
        db.session.add(live)
        people = []
        for i in range(n):
            user = User(chamber_id=chamber.id, issuer=platform.issuer, sub=f"v{i}", name=f"Botschafter*in {i}")
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrollment(user_id=user.id, course_id=course.id, role="volunteer"))
            db.session.add(Signup(session_id=live.id, user_id=user.id, status="confirmed"))
            db.session.add(
                LiveProfile(
                    user_id=user.id, pseudonym=f"mw{secrets.token_hex(8)}", feed_token=secrets.token_urlsafe(32)
                )
            )
            session, token = create_launch_session(
                user_id=user.id, course_id=course.id, platform_id=platform.id, deployment_id="1", role="volunteer"
            )
            people.append((token, csrf_token(session)))
        db.session.commit()
        return live.id, people


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--joins", type=int, default=300)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--db", default=None, help="SQLAlchemy URI (default: a temporary SQLite file)")
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args()
    n = max(1, min(args.joins, 2000))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from lms import create_app
    from lms.demo.bbb_double import create_bbb_double

    double_app = create_bbb_double(SECRET, "sha256")
    double = double_app.extensions["bbb_double"]
    bbb_url, bbb_server = serve(double_app)
    tmp = tempfile.mkdtemp(prefix="medienwerk-bench-")
    uri = args.db or f"sqlite:///{tmp}/bench.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": uri,
            "JOBS_SQLITE_PATH": f"{tmp}/jobs.sqlite",
            "BBB_URL": bbb_url + "/bigbluebutton/",
            "BBB_SECRET": SECRET,
            "BBB_TIMEOUT": 10.0,
        }
    )
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    started = time.monotonic()
    session_id, people = seed(app, n)
    print(f"seeded {n} volunteers in {time.monotonic() - started:.1f} s ({uri.split(':')[0]})")
    tool_url, tool_server = serve(app)

    barrier = threading.Barrier(min(args.workers, n))
    lock = threading.Lock()
    results: list[tuple[int, float]] = []

    def one(person: tuple[str, str], index: int) -> None:
        token, csrf = person
        http = requests.Session()
        if index < args.workers:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)  # the first wave starts together
        t0 = time.perf_counter()
        try:
            resp = http.post(
                f"{tool_url}/t/{token}/live/{session_id}/join",
                data={"csrf_token": csrf},
                allow_redirects=False,
                timeout=30,
            )
            status = resp.status_code
        except requests.RequestException:
            status = 0
        with lock:
            results.append((status, time.perf_counter() - t0))

    t_start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one, p, i) for i, p in enumerate(people)]
        done, pending = wait(futures, timeout=args.deadline)
        for f in pending:
            f.cancel()
    wall = time.perf_counter() - t_start

    latencies = sorted(t for _, t in results)
    ok = sum(1 for s, _ in results if s == 303)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    with app.app_context():
        from lms.core.extensions import db
        from lms.live_sessions.models import LiveSession

        meeting_id = db.session.get(LiveSession, session_id).meeting_id
    print(
        f"joins: {len(results)} answered of {n} ({len(pending)} not finished), {ok} redirected to BBB, "
        f"{len(results) - ok} failed; statuses: {sorted({s for s, _ in results})}"
    )
    print(f"wall time: {wall:.2f} s, throughput: {len(results) / wall:.0f} joins/s, workers: {args.workers}")
    print(
        f"latency ms: p50 {pct(0.50):.0f}, p90 {pct(0.90):.0f}, p99 {pct(0.99):.0f}, "
        f"max {latencies[-1] * 1000 if latencies else float('nan'):.0f}, "
        f"mean {statistics.mean(latencies) * 1000 if latencies else float('nan'):.0f}"
    )
    creates = double.call_count("create")
    print(
        f"BBB create calls: {creates}, meetings really created: {double.create_count(meeting_id)}, "
        f"getMeetingInfo calls: {double.call_count('getMeetingInfo')}"
    )
    tool_server.shutdown()  # type: ignore[attr-defined]
    bbb_server.shutdown()  # type: ignore[attr-defined]
    if args.db:
        with app.app_context():
            db.drop_all()
    return 0 if creates == 1 and ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
