"""Benchmark: 1,000 queued scores delivered to loopback LMS doubles (AGS + OAuth2 over real HTTP) by the
production processes, in both modes:

* ``redis``: MEDIENWERK_REDIS_URL set, ``medienwerk worker`` processes (``--worker-processes`` of them, with
  ``--worker-threads`` each) run the delivery jobs from Redis; gunicorn (the shipped settings, 2 workers)
  serves the tool, whose key set the LMS doubles fetch to check the token requests.
* ``embedded``: no Redis; the gunicorn workers run the jobs themselves from the SQLite queue in the instance
  folder (what an install without Redis does).

Each run starts from an empty database that ``medienwerk db upgrade`` migrates, registers ``--registrations``
LMSs (one double each, on loopback ports) and queues the scores as progress changes do (an outbox row each),
then enqueues one delivery job per score, as 1,000 separate progress changes would, and waits until every
score is in the doubles' gradebooks. It prints scores/s, the SQL statements and commits per score of the
delivering processes (counted in them by bench/counted.py), the token requests per LMS and the gradebook
entries.

    .venv/bin/python bench/ags_delivery.py                                   # both modes, SQLite
    .venv/bin/python bench/ags_delivery.py --mode redis \\
        --db "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_ags"

THE DATABASE IS EMPTIED (its tables dropped; a PostgreSQL URI's ``search_path`` schema is created if
missing: give it a scratch schema), and so is the Redis database (``--redis``, default number 14). Bounded:
at most 100,000 scores, and each run gives up after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import counted  # noqa: E402
from seed_dashboards import ensure_schema  # noqa: E402

BIN = Path(sys.executable).parent
SECRET = "bench-secret-ags-delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A WSGI app on a loopback port, in a thread of this process (the LMS doubles)."""

    def __init__(self, wsgi: Any) -> None:
        self.server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Result:
    mode: str
    scores: int
    delivered: int
    seconds: float
    drained: float
    cpu_tool: float
    cpu_lms: float
    statements: int
    commits: int
    token_requests: dict[str, int]
    gradebook: int
    processes: str


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.1)


def reset_database(env: dict[str, str], uri: str, instance: Path) -> None:
    import sqlalchemy

    from lms import create_app
    from lms.core.extensions import db

    ensure_schema(uri)
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "JOBS_SQLITE_PATH": str(instance / "jobs.sqlite")}
    )
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sqlalchemy.text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    done = subprocess.run([str(BIN / "medienwerk"), "db", "upgrade"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)


def run(mode: str, args: argparse.Namespace, uri: str) -> Result:
    import redis

    tmp = Path(tempfile.mkdtemp(prefix=f"medienwerk-bench-ags-{mode}-"))
    instance = tmp / "instance"
    counts_dir = tmp / "counts"
    counts_dir.mkdir()
    instance.mkdir()
    tool_port = free_port()
    tool_url = f"http://127.0.0.1:{tool_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIENWERK_")}
    env.update(
        {
            "MEDIENWERK_SQLALCHEMY_DATABASE_URI": uri,
            "MEDIENWERK_SECRET_KEY": SECRET,
            "MEDIENWERK_INSTANCE_PATH": str(instance),
            "MEDIENWERK_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",  # the LMS doubles answer on loopback
            "MEDIENWERK_BIND": f"127.0.0.1:{tool_port}",
            "MEDIENWERK_WORKERS": "2",
            "BENCH_COUNTS_DIR": str(counts_dir),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
        }
    )
    if mode == "redis":
        redis.Redis.from_url(args.redis).flushdb()
        env["MEDIENWERK_REDIS_URL"] = args.redis
    reset_database(env, uri, instance)

    # the LMS doubles: one per registration, each on its own loopback port
    from lms.demo.platform import PlatformDouble, create_platform_app

    doubles = []
    for r in range(args.registrations):
        double = PlatformDouble(issuer="http://placeholder", client_id=f"bench-client-{r}")
        server = Server(create_platform_app(double))
        double.issuer = server.url
        double.tool_login_url = tool_url + "/lti/login"
        double.tool_launch_url = tool_url + "/lti/launch"
        doubles.append((double, server, server.server.app.extensions["platform_services"]))

    # this process only seeds and enqueues: it runs no jobs
    from lms import create_app
    from lms.core.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": SECRET,
            "REDIS_URL": env.get("MEDIENWERK_REDIS_URL"),
            "JOBS_SQLITE_PATH": str(instance / "jobs.sqlite"),
        }
    )

    logs = tmp / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], name: str) -> subprocess.Popen[bytes]:
        with (logs / f"{name}.log").open("w") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    web = start([str(BIN / "gunicorn"), "-c", str(BENCH / "gunicorn_counted.py"), "lms:create_app()"], "web")
    workers = []
    ids: list[int] = []
    if mode == "redis":
        for n in range(args.worker_processes):
            command = [sys.executable, str(BENCH / "counted.py"), "worker", "--workers", str(args.worker_threads)]
            workers.append(start(command, f"worker-{n}"))
    try:
        wait_until(lambda: healthy(tool_url, web, logs), 60, "gunicorn")
        if mode == "embedded":
            # each gunicorn worker starts its job consumer with its first request
            for _ in range(40):
                requests.get(tool_url + "/healthz", timeout=10)
        from lms.core.jobs import jobs
        from lms.grades.jobs import deliver_scores

        warm = [deliver_scores.enqueue([]) for _ in range(8)]
        for w in warm:
            w.get(blocking=True, timeout=60)  # the consumers are up
        # seeded now, right before the jobs are enqueued: the minutely sweep must not deliver them first
        ids = seed(app, doubles, args.scores)
        time.sleep(0.6)  # every counted process has written its counts since
        before = counted.read(counts_dir)
        delivering = [p.pid for p in (workers if mode == "redis" else [web])]
        cpu_before, bench_cpu_before = counted.cpu_seconds(delivering), time.process_time()

        t0 = time.perf_counter()
        for row_id in ids:  # one job per score, as one progress change after another would enqueue it
            deliver_scores.enqueue([row_id])
        delivered = 0
        deadline = time.monotonic() + args.deadline
        while time.monotonic() < deadline:
            delivered = delivered_count(app)
            if delivered >= len(ids):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        cpu_tool, cpu_lms = counted.cpu_seconds(delivering) - cpu_before, time.process_time() - bench_cpu_before
        # the jobs still queued (each finds its row delivered) belong to the cost: wait until the queue is
        # empty and a last job per consumer thread has run after them
        wait_until(lambda: jobs.huey.pending_count() == 0, args.deadline, "the job queue")
        for last in [deliver_scores.enqueue([]) for _ in range(8)]:
            last.get(blocking=True, timeout=60)
        drained = time.perf_counter() - t0
        time.sleep(0.6)
        after = counted.read(counts_dir)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT if process in workers else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for _, server, _ in doubles:
            server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return Result(
        mode=mode,
        scores=len(ids),
        delivered=delivered,
        seconds=seconds,
        drained=drained,
        cpu_tool=cpu_tool,
        cpu_lms=cpu_lms,
        statements=after["statements"] - before["statements"],
        commits=after["commits"] - before["commits"],
        token_requests={d.client_id: svc.token_requests[d.client_id] for d, _, svc in doubles},
        gradebook=sum(len(svc.grades) for _, _, svc in doubles),
        processes=(
            f"{args.worker_processes} × medienwerk worker --workers {args.worker_threads} (Redis)"
            if mode == "redis"
            else "2 gunicorn workers, each with its embedded job consumer"
        ),
    )


def healthy(url: str, process: subprocess.Popen[bytes], logs: Path) -> bool:
    if process.poll() is not None:
        raise SystemExit("gunicorn stopped:\n" + (logs / "web.log").read_text())
    try:
        return requests.get(url + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def delivered_count(app: Any) -> int:
    from sqlalchemy import func, select

    from lms.core.extensions import db
    from lms.grades.models import DELIVERED, ScoreOutbox

    with app.app_context():
        count = db.session.execute(
            select(func.count()).select_from(ScoreOutbox).where(ScoreOutbox.status == DELIVERED)
        ).scalar_one()
        db.session.remove()
        return int(count)


def seed(app: Any, doubles: list[tuple[Any, Server, Any]], scores: int) -> list[int]:
    """Registrations, a course with a gradable link each, volunteers with a queued score (no job enqueued)."""
    from lms.core.extensions import db
    from lms.grades import services
    from lms.grades.models import GradeLink, GradeLinkUser
    from lms.platforms.services import add_platform
    from lms.users.models import LmsCourse, User

    ids: list[int] = []
    with app.app_context():
        for r, (double, _server, svc) in enumerate(doubles):
            platform = add_platform(
                issuer=double.issuer,
                client_id=double.client_id,
                deployment_id="1",
                auth_login_url=double.auth_login_url,
                auth_token_url=double.auth_token_url,
                key_set_url=double.key_set_url,
                name=f"Bench-LMS {r}",
                chamber_slug=f"bench-{r}",
            ).platform
            course = LmsCourse(issuer=double.issuer, context_id="bench-course", chamber_id=platform.chamber_id)
            db.session.add(course)
            db.session.flush()
            link = GradeLink(
                platform_id=platform.id,
                course_id=course.id,
                deployment_id="1",
                resource_link_id="bench-link",
                title="Bench",
                item_kind="overview",
                lineitems_url=svc.lineitems_url("bench-course"),
                lineitem_url=svc.link_lineitem("bench-course", "bench-link")["id"],
                scopes=list(svc.ags_scopes),
            )
            db.session.add(link)
            db.session.flush()
            share = scores // len(doubles) + (1 if r < scores % len(doubles) else 0)
            for n in range(share):
                sub = f"bench-{r}-{n}"
                svc.known_users.add(sub)
                svc.gradable.add(sub)
                user = User(issuer=double.issuer, sub=sub, chamber_id=platform.chamber_id)
                db.session.add(user)
                db.session.flush()
                member = GradeLinkUser(link_id=link.id, user_id=user.id, platform_user_id=sub)
                db.session.add(member)
                db.session.flush()
                row = services.queue_score(link, member, services.CurrentScore(n % 101, False))
                assert row is not None
                ids.append(row.id)
        db.session.info.pop(services.SESSION_KEY, None)  # the benchmark enqueues the jobs itself
        db.session.commit()
        db.session.remove()
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("redis", "embedded", "both"), default="both")
    parser.add_argument("--scores", type=int, default=1000)
    parser.add_argument("--registrations", type=int, default=2)
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=4)
    parser.add_argument("--db", default=None, help="SQLAlchemy URI (default: a temporary SQLite file)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="a Redis database it may empty")
    parser.add_argument("--deadline", type=float, default=300.0)
    args = parser.parse_args()
    args.scores = max(1, min(args.scores, 100_000))
    args.registrations = max(1, args.registrations)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    uri = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='medienwerk-bench-ags-')}/bench.sqlite"
    modes = ("redis", "embedded") if args.mode == "both" else (args.mode,)
    ok = True
    print(f"database: {uri.split('@')[-1].split('?')[0]}; {args.scores} scores, {args.registrations} LMSs")
    for mode in modes:
        r = run(mode, args, uri)
        rate = r.delivered / r.seconds if r.seconds else 0.0
        print(f"\n[{mode}] {r.processes}")
        print(f"  delivered        {r.delivered} of {r.scores} in {r.seconds:.2f} s: {rate:.1f} scores/s")
        print(f"  queue drained    after {r.drained:.2f} s (the later jobs find their scores delivered)")
        print(
            f"  SQL per score    {r.statements / max(1, r.delivered):.2f} statements, "
            f"{r.commits / max(1, r.delivered):.2f} commits (all statements of the delivering processes until "
            f"the queue was empty: {r.statements} / {r.commits})"
        )
        print(
            f"  CPU per score    {1000 * r.cpu_tool / max(1, r.delivered):.1f} ms in the delivering processes, "
            f"{1000 * r.cpu_lms / max(1, r.delivered):.1f} ms in the LMS doubles (until the last was delivered)"
        )
        print(f"  token requests   {', '.join(f'{k}: {v}' for k, v in r.token_requests.items())}")
        print(f"  gradebook        {r.gradebook} entries")
        ok = ok and (
            r.delivered == r.scores
            and r.gradebook == r.scores
            and rate >= 100
            and all(v == 1 for v in r.token_requests.values())
        )
    print("\ntargets (every score delivered, >= 100 scores/s, one token per LMS): " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
