"""A join surge: N volunteers press "join" at the same moment (the tutorial starts, no meeting exists yet).

Seeds its own data (a chamber, a course, a tutorial starting in five minutes, N volunteers signed up with launch
tokens), serves the tool and the BBB double on loopback ports, fires N join POSTs from a thread pool and prints
the timing figures and how many `create` and `getMeetingInfo` calls reached BBB (create: exactly one).

The tool runs as in production, under gunicorn with the shipped settings (lms/gunicorn_conf.py, 2 workers with 4
threads each; `--server inprocess` serves it from a thread of the benchmark instead). By default all N joins come
from `--workers` threads that start together (the worst case: everyone clicks in the same instant); `--over S`
spreads them evenly over S seconds instead ("300 joins in a few seconds").

    .venv/bin/python bench/live_join_surge.py                      # 300 joins, 50 threads at once, SQLite
    .venv/bin/python bench/live_join_surge.py --over 3             # 300 joins spread over 3 seconds
    .venv/bin/python bench/live_join_surge.py \
        --db "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_surge"

Bounded: at most 2000 joins, and the whole run gives up after --deadline seconds (default 120).
A database given with --db has its tables dropped and recreated (a PostgreSQL URI's search_path schema is
created if missing): use a scratch database or schema.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import statistics
import subprocess
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
sys.path.insert(0, str(ROOT / "bench"))

from counted import cpu_seconds  # noqa: E402
from seed_dashboards import ensure_schema  # noqa: E402

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(uri: str, bbb_url: str, tmp: str):  # type: ignore[no-untyped-def]
    """The tool under gunicorn with the shipped settings (2 workers), as in production; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIENWERK_")}
    env.update(
        {
            "MEDIENWERK_SQLALCHEMY_DATABASE_URI": uri,
            "MEDIENWERK_SECRET_KEY": "bench",
            "MEDIENWERK_INSTANCE_PATH": f"{tmp}/instance",
            "MEDIENWERK_BBB_URL": bbb_url + "/bigbluebutton/",
            "MEDIENWERK_BBB_SECRET": SECRET,
            "MEDIENWERK_BBB_TIMEOUT": "10",
            "MEDIENWERK_BIND": f"127.0.0.1:{port}",
            "MEDIENWERK_WORKERS": "2",
        }
    )
    os.makedirs(f"{tmp}/instance", exist_ok=True)
    log = Path(tmp) / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:lms.gunicorn_conf", "lms:create_app()"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start:\n" + log.read_text())
            try:
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        for _ in range(20):  # both workers have served (and started their job consumers) before the surge
            requests.get(url + "/healthz", timeout=5)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--joins", type=int, default=300)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--db", default=None, help="SQLAlchemy URI (default: a temporary SQLite file)")
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--server", choices=("gunicorn", "inprocess"), default="gunicorn")
    parser.add_argument("--over", type=float, default=0.0, help="spread the joins over this many seconds")
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
    ensure_schema(uri)
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
    with contextlib.ExitStack() as stack:
        if args.server == "gunicorn":
            tool_url, pid = stack.enter_context(gunicorn(uri, bbb_url, tmp))
        else:
            (tool_url, tool_server), pid = serve(app), os.getpid()
            stack.callback(tool_server.shutdown)  # type: ignore[attr-defined]
        code = surge(args, n, app, double, session_id, people, tool_url, pid)
    bbb_server.shutdown()  # type: ignore[attr-defined]
    if args.db:
        with app.app_context():
            from lms.core.extensions import db

            db.drop_all()
    return code


def surge(args, n, app, double, session_id, people, tool_url, pid) -> int:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(min(args.workers, n))
    lock = threading.Lock()
    results: list[tuple[int, float]] = []
    begin = time.perf_counter() + 0.5

    def one(person: tuple[str, str], index: int) -> None:
        token, csrf = person
        http = requests.Session()
        if args.over > 0:
            time.sleep(max(0.0, begin + index * args.over / n - time.perf_counter()))  # its arrival time
        elif index < args.workers:
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

    cpu_before = cpu_seconds([pid])
    t_start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(one, p, i) for i, p in enumerate(people)]
        done, pending = wait(futures, timeout=args.deadline)
        for f in pending:
            f.cancel()
    wall = time.perf_counter() - t_start
    cpu = cpu_seconds([pid]) - cpu_before

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
    how = f"spread over {args.over:g} s" if args.over > 0 else f"{args.workers} threads at once"
    print(f"wall time: {wall:.2f} s, throughput: {len(results) / wall:.0f} joins/s; {how}; server: {args.server}")
    print(
        f"latency ms: p50 {pct(0.50):.0f}, p90 {pct(0.90):.0f}, p99 {pct(0.99):.0f}, "
        f"max {latencies[-1] * 1000 if latencies else float('nan'):.0f}, "
        f"mean {statistics.mean(latencies) * 1000 if latencies else float('nan'):.0f}"
    )
    if args.server == "gunicorn":
        print(f"server CPU per join: {1000 * cpu / max(1, len(results)):.1f} ms (gunicorn's processes)")
    creates = double.call_count("create")
    print(
        f"BBB create calls: {creates}, meetings really created: {double.create_count(meeting_id)}, "
        f"getMeetingInfo calls: {double.call_count('getMeetingInfo')}"
    )
    return 0 if creates == 1 and ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
