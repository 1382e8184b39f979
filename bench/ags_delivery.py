"""Benchmark: queue 1,000 scores and deliver them to loopback platform doubles over real HTTP (AGS + OAuth2).

Targets (issue 3): at least 100 deliveries/s, and one token request per registration (and hour).

Own seed data in its own database: SQLite in a temporary folder by default, or the database named by
MEDIENWERK_BENCH_DATABASE_URI (its tables are DROPPED and re-created: use a scratch database). Everything runs
in this process: the tool (for its JWKS) and one platform double per registration, each on a loopback port;
worker threads deliver like `medienwerk worker` threads would (claim, POST, record).

    .venv/bin/python bench/ags_delivery.py
    MEDIENWERK_BENCH_DATABASE_URI=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/ags_delivery.py

Knobs (environment): BENCH_SCORES (1000), BENCH_REGISTRATIONS (2), BENCH_WORKERS (4), BENCH_TIME_LIMIT (120 s).
Bounded: at most BENCH_SCORES rows, and the delivery stops at the time limit.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lms import create_app  # noqa: E402
from lms.core.extensions import db  # noqa: E402
from lms.demo.platform import PlatformDouble, create_platform_app  # noqa: E402


class Server:
    def __init__(self, wsgi: Any) -> None:
        self.server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> int:
    scores = min(int(os.environ.get("BENCH_SCORES", "1000")), 100_000)
    registrations = max(1, int(os.environ.get("BENCH_REGISTRATIONS", "2")))
    workers = max(1, int(os.environ.get("BENCH_WORKERS", "4")))
    time_limit = float(os.environ.get("BENCH_TIME_LIMIT", "120"))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    tmp = tempfile.mkdtemp(prefix="medienwerk-bench-")
    uri = os.environ.get("MEDIENWERK_BENCH_DATABASE_URI") or f"sqlite:///{tmp}/bench.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "JOBS_SQLITE_PATH": f"{tmp}/jobs.sqlite",
            "ALLOWED_PRIVATE_HOSTS": ("127.0.0.1",),  # the LMS doubles answer on loopback
        }
    )

    from lms.grades import services
    from lms.grades.jobs import deliver_due
    from lms.grades.models import GradeLink, GradeLinkUser
    from lms.platforms.services import add_platform, ensure_active_key
    from lms.users.models import LmsCourse, User

    with app.app_context():
        db.drop_all()
        db.create_all()
        ensure_active_key()
        db.session.commit()

    tool = Server(app)
    doubles: list[tuple[PlatformDouble, Server, Any]] = []
    for r in range(registrations):
        double = PlatformDouble(issuer="http://placeholder", client_id=f"bench-client-{r}")
        server = Server(create_platform_app(double))
        double.issuer = server.url
        double.tool_login_url = tool.url + "/lti/login"
        double.tool_launch_url = tool.url + "/lti/launch"
        doubles.append((double, server, server.server.app.extensions["platform_services"]))

    # -- seed: registrations, a course and a gradable link each, volunteers with a queued score ------------
    t0 = time.perf_counter()
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
            share = scores // registrations + (1 if r < scores % registrations else 0)
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
                services.queue_score(link, member, services.CurrentScore(float(n % 101), False))
        db.session.info.pop(services.SESSION_KEY, None)  # the bench delivers itself, no job queue
        db.session.commit()
    queued_in = time.perf_counter() - t0

    # -- deliver -------------------------------------------------------------------------------------------
    delivered = [0] * workers
    failed = [0] * workers
    deadline = time.monotonic() + time_limit

    def worker(i: int) -> None:
        with app.app_context():
            while time.monotonic() < deadline:
                outcomes = deliver_due(limit=200, deadline=deadline)
                if not outcomes:
                    break
                delivered[i] += sum(1 for o in outcomes if o.delivered)
                failed[i] += sum(1 for o in outcomes if not o.delivered)

    t1 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t1

    total = sum(delivered)
    in_gradebook = sum(len(svc.grades) for _, _, svc in doubles)
    posts = sum(1 for _, _, svc in doubles for entry in svc.score_log if entry[2] == 200)
    print(f"database            {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    print(f"queued              {scores} scores in {queued_in:.2f} s")
    print(f"delivered           {total} in {elapsed:.2f} s with {workers} worker threads ({sum(failed)} not delivered)")
    print(f"deliveries/s        {total / elapsed:.1f}")
    print(f"gradebook entries   {in_gradebook} (score POSTs answered 200: {posts})")
    for double, _server, svc in doubles:
        print(f"token requests      {double.client_id}: {svc.token_requests[double.client_id]}")

    for _, server, _svc in doubles:
        server.stop()
    tool.stop()
    with app.app_context():
        db.session.remove()
        if not os.environ.get("MEDIENWERK_BENCH_DATABASE_URI"):
            db.drop_all()
        db.engine.dispose()
    ok = (
        total == scores
        and in_gradebook == scores
        and total / elapsed >= 100
        and all(svc.token_requests[d.client_id] == 1 for d, _, svc in doubles)
    )
    print("targets             " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
