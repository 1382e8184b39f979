"""Benchmark: full OIDC login + launch, medienwerk side by side with a minimal pylti1p3 tool and an endpoint pair
that validates nothing, on this machine, under the same gunicorn settings and the same client harness.

Goal (issue 15): medienwerk at least 4x the minimal pylti1p3 tool and at least 75 % of the do-nothing pair; at most
6 SQL statements per returning launch. The script prints the figures and asserts nothing.

1. The platform: a :class:`lms.demo.platform.PlatformDouble` (its key, its claims with AGS and NRPS as the demo LMS
   sends them) signs real RS256 id_tokens here, in the harness, for every contender alike; its key set is served by
   a gunicorn of its own (the minimal tool fetches it at every launch, medienwerk once).
2. The contenders, each ``gunicorn --workers 2 --worker-class gthread --threads 4 --keep-alive 5`` on a free loopback
   port: (a) medienwerk (``lms:create_app()``) on PostgreSQL, in a schema of its own whose TABLES ARE DROPPED AND
   CREATED (default ``bench_launch``), and Redis (a database it EMPTIES, default 8); login and launch rate limits
   raised, everything else as configured in production; (b) bench/minimal_pylti1p3_tool.py, written as pylti1p3's
   README shows; (c) bench/do_nothing_tool.py.
3. Warm-up: --volunteers distinct volunteers launch once into each contender (medienwerk then knows them: every
   timed launch is a returning volunteer's launch, the common case).
4. --rounds rounds; in each, every contender in turn gets --seconds of --threads client threads, each looping:
   GET login (not following the redirect) -> the platform checks the authentication request and signs the
   id_token -> POST launch (not following its redirect); cookies are dropped after each launch, the connection
   kept.
5. Per contender: launches/s, p50/p95 of login+launch, the server's CPU time per launch (gunicorn master and
   workers; for medienwerk also its PostgreSQL backends, found by application_name), the harness's CPU per launch,
   errors; the ratios; and, in-process on the same database, the SQL statements of a returning volunteer's login
   and launch (--profile: also where a launch's time goes, with pyinstrument if installed).

    .venv/bin/python bench/launch.py                                   # 3 rounds x 8 s x 3 contenders, 8 threads
    .venv/bin/python bench/launch.py --rounds 3 --seconds 10 --threads 8 --profile
    .venv/bin/python bench/launch.py --tool-root /tmp/medienwerk-old   # medienwerk served from another checkout

Bounded: every request has a timeout, every run a deadline; the servers are stopped at the end. The machine is
shared: run it when nothing else is heavy, and compare the ratios (measured in alternation) rather than absolute
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_launch"
APP_NAME = "bench-launch-medienwerk"  # PostgreSQL application_name of medienwerk's connections (CPU accounting)
REDIS_DEFAULT = "redis://127.0.0.1:6379/8"
SECRET = "bench-launch-secret-3c1f9a0e5d7b4e21"
GUNICORN = ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--keep-alive", "5", "--timeout", "30"]
CLK_TCK = os.sysconf("SC_CLK_TCK")

sys.path.insert(0, str(BENCH))
from processes import free_port, serving  # noqa: E402


def jwks_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The platform's key set (WSGI), served by a gunicorn of its own: ``launch:jwks_app`` with BENCH_JWKS_FILE."""
    body = Path(os.environ["BENCH_JWKS_FILE"]).read_bytes()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# -- servers ------------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    pid: int
    log: Path


@contextmanager
def gunicorn(name: str, app: str, cwd: Path, env: dict[str, str], tmp: Path, probe: str) -> Iterator[Server]:
    port = free_port()
    log = tmp / f"{name}.log"
    command = [str(BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", app]
    url = f"http://127.0.0.1:{port}"
    with serving(f"{name}: gunicorn", command, env, cwd, log, url + probe) as pid:
        yield Server(name, url, pid, log)


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIENWERK_", "BENCH_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu(pid: int) -> float:
    """CPU seconds of a gunicorn master and its workers."""
    try:
        children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    return process_cpu(pid) + sum(process_cpu(c) for c in children)


# -- the platform and the client -----------------------------------------------------------------------------------


@dataclass
class Platform:
    """The platform double's claims and key, signing here (the key loaded once: loading a PEM costs more than
    signing with it)."""

    double: Any
    private_key: Any
    kid: str

    def id_token(self, query: dict[str, str], sub: str, client_id: str) -> dict[str, str]:
        import jwt

        if query.get("client_id") != client_id or query.get("response_type") != "id_token" or not query.get("nonce"):
            raise ValueError("not an authentication request of this client")
        claims = self.double.claims(
            "volunteer",
            query["nonce"],
            sub=sub,
            name=f"Botschafter*in {sub}",
            given_name="Botschafter*in",
            family_name=sub,
            email=f"{sub}@example.org",
        )
        claims["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] = query["redirect_uri"]
        token = jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})
        return {"id_token": token, "state": query["state"]}


@dataclass
class Contender:
    name: str
    server: Server
    login_path: str
    launch_path: str
    with_db: bool = False

    @property
    def launch_url(self) -> str:
        return self.server.url + self.launch_path


def login_params(platform: Platform, contender: Contender, sub: str) -> dict[str, str]:
    double = platform.double
    return {
        "iss": double.issuer,
        "login_hint": sub,
        "target_link_uri": contender.launch_url,
        "lti_message_hint": f"volunteer:{double.resource_link['id']}",
        "client_id": double.client_id,
        "lti_deployment_id": double.deployment_id,
    }


def one_launch(http: requests.Session, platform: Platform, contender: Contender, sub: str) -> tuple[bool, str]:
    """Login, the platform's answer, launch; (ok, what went wrong)."""
    resp = http.get(
        contender.server.url + contender.login_path,
        params=login_params(platform, contender, sub),
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code not in (302, 303):
        return False, f"login {resp.status_code}"
    query = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}
    fields = platform.id_token(query, sub, platform.double.client_id)
    resp = http.post(query["redirect_uri"], data=fields, allow_redirects=False, timeout=30)
    http.cookies.clear()  # a browser keeps one launch's state cookie; the next launch starts without it
    if resp.status_code not in (200, 303):
        return False, f"launch {resp.status_code}"
    return True, ""


@dataclass
class Run:
    launches: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    harness_cpu: float = 0.0

    def add(self, other: Run) -> None:
        self.launches += other.launches
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.server_cpu += other.server_cpu
        self.db_cpu += other.db_cpu
        self.harness_cpu += other.harness_cpu


def drive(
    platform: Platform,
    contender: Contender,
    subs: list[str],
    threads: int,
    *,
    seconds: float | None = None,
    once: bool = False,
    db_pids: Any = None,
) -> Run:
    """``threads`` clients launching for ``seconds`` (or every sub once, ``once``)."""
    run = Run()
    lock = threading.Lock()
    queue = list(subs)
    counter = {"next": 0}
    stop = time.monotonic() + (seconds or 3600)
    barrier = threading.Barrier(threads + 1)

    def client() -> None:
        http = requests.Session()
        latencies: list[float] = []
        errors: dict[str, int] = {}
        barrier.wait()
        while time.monotonic() < stop:
            with lock:
                index = counter["next"]
                counter["next"] += 1
            if once and index >= len(queue):
                break
            sub = queue[index % len(queue)]
            started = time.perf_counter()
            try:
                ok, problem = one_launch(http, platform, contender, sub)
            except (requests.RequestException, ValueError, KeyError) as exc:
                ok, problem = False, type(exc).__name__
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors[problem] = errors.get(problem, 0) + 1
        with lock:
            run.latencies += latencies
            run.launches += len(latencies)
            for k, v in errors.items():
                run.errors[k] = run.errors.get(k, 0) + v

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    cpu0, db0, harness0 = tree_cpu(contender.server.pid), db_cpu(db_pids), time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join(timeout=(seconds or 600) + 60)
    run.seconds = time.perf_counter() - started
    run.server_cpu = tree_cpu(contender.server.pid) - cpu0
    run.db_cpu = db_cpu(db_pids) - db0
    run.harness_cpu = time.process_time() - harness0
    return run


def db_cpu(pids: Any) -> float:
    return sum(process_cpu(p) for p in pids()) if pids is not None else 0.0


# -- medienwerk: the database, and what a launch costs in-process ------------------------------------------------


def prepare_medienwerk(uri: str, redis_url: str, platform: Platform, tmp: Path) -> None:
    """Empty tables in the scratch schema, the platform registered (and the tool's key), an empty Redis database."""
    import redis
    import sqlalchemy

    redis.Redis.from_url(redis_url).flushdb()
    base = uri.split("?", 1)[0]
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    engine.dispose()
    from lms import create_app
    from lms.core.extensions import db
    from lms.demo.platform import register_double

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": SECRET,
            "REDIS_URL": redis_url,
            "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite"),
            "TESTING": True,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        register_double(platform.double, name="Bench-LMS", chamber_slug="hwk-bench")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def count_in_process(uri: str, redis_url: str, platform: Platform, tmp: Path, profile: bool) -> None:
    """The SQL statements of a returning volunteer's login and launch (test client, same database and Redis), and
    with --profile where the time of 200 launches goes."""
    from sqlalchemy import event

    from lms import create_app
    from lms.core.config import rate_limits
    from lms.core.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": SECRET,
            "REDIS_URL": redis_url,
            "JOBS_SQLITE_PATH": str(tmp / "jobs-count.sqlite"),
            "ALLOWED_PRIVATE_HOSTS": ("127.0.0.1",),
            "RATE_LIMITS": rate_limits("login=1000000/minute,launch=1000000/minute"),
        }
    )
    client = app.test_client()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:110])

    def launch(sub: str) -> tuple[list[str], list[str]]:
        statements.clear()
        resp = client.get("/lti/login", query_string=login_params_local(platform, sub))
        assert resp.status_code == 302, resp.text[:300]
        login = list(statements)
        query = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}
        statements.clear()
        resp = client.post("/lti/launch", data=platform.id_token(query, sub, platform.double.client_id))
        assert resp.status_code == 303, resp.text[:300]
        return login, list(statements)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first_login, first = launch("bench-new-volunteer")
        login, returning = launch("bench-new-volunteer")
        print("\nSQL statements, in-process (test client; PostgreSQL, launch state in Redis):")
        print(f"  a new volunteer's first launch: {len(first)} (login {len(first_login)})")
        print(f"  a returning volunteer's launch: {len(returning)} (login {len(login)}):")
        for statement in returning:
            print(f"    {statement}")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    if profile:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("  (--profile: pyinstrument is not installed; pip install pyinstrument)")
            return
        profiler = Profiler(interval=0.0005)
        cpu = time.process_time()
        profiler.start()
        for n in range(200):
            launch(f"bench-v{n % 50}")
        profiler.stop()
        cpu = time.process_time() - cpu
        print(f"\nIn-process login + launch incl. signing the id_token: {cpu / 200 * 1000:.1f} ms CPU each; profile:")
        print(profiler.output_text(unicode=True, show_all=False))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def login_params_local(platform: Platform, sub: str) -> dict[str, str]:
    double = platform.double
    return {
        "iss": double.issuer,
        "login_hint": sub,
        "target_link_uri": "http://localhost/lti/launch",
        "lti_message_hint": f"volunteer:{double.resource_link['id']}",
        "client_id": double.client_id,
        "lti_deployment_id": double.deployment_id,
    }


def postgres_backends(uri: str) -> Any:
    """A function returning the pids of medienwerk's PostgreSQL backends (by application_name)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri.split("?", 1)[0])

    def pids() -> list[int]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sqlalchemy.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": APP_NAME},
                ).scalars()
            )

    return pids


# -- the report -----------------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def report(runs: dict[str, Run], rounds: list[dict[str, Run]]) -> None:
    print(
        "\nPer round, launches/s: "
        + "; ".join(", ".join(f"{name} {r.launches / r.seconds:.0f}" for name, r in one.items()) for one in rounds)
    )
    print(
        f"\n{'contender':<22} {'launches/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'server CPU ms':>14} "
        f"{'+ PostgreSQL':>13} {'harness ms':>11} {'launches':>9} {'errors':>7}"
    )
    for name, r in runs.items():
        n = max(r.launches, 1)
        print(
            f"{name:<22} {r.launches / r.seconds:>10.1f} {pct(r.latencies, 0.5):>8.1f} {pct(r.latencies, 0.95):>8.1f} "
            f"{r.server_cpu / n * 1000:>14.2f} {(r.db_cpu / n * 1000 if r.db_cpu else 0):>13.2f} "
            f"{r.harness_cpu / n * 1000:>11.2f} {r.launches:>9} {sum(r.errors.values()):>7}"
        )
        if r.errors:
            print(f"{'':<22} errors: {r.errors}")
    mw, minimal, floor = (runs.get(k) for k in ("medienwerk", "minimal pylti1p3", "do-nothing"))
    if mw and minimal and floor and minimal.launches and floor.launches:
        rate = {k: r.launches / r.seconds for k, r in runs.items()}
        print(
            f"\nmedienwerk / minimal pylti1p3: {rate['medienwerk'] / rate['minimal pylti1p3']:.2f}x (goal >= 4x); "
            f"medienwerk / do-nothing: {rate['medienwerk'] / rate['do-nothing'] * 100:.0f} % (goal >= 75 %)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=f"{PG_BASE}?options=-csearch_path%3D{SCHEMA}", help="PostgreSQL URI")
    parser.add_argument("--redis", default=REDIS_DEFAULT, help="a Redis database the benchmark may empty")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--seconds", type=float, default=8.0, help="per contender and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--volunteers", type=int, default=200, help="distinct returning volunteers")
    parser.add_argument("--minimal-key-cache", action="store_true", help="the minimal tool caches the key set")
    parser.add_argument("--tool-root", type=Path, default=ROOT, help="serve medienwerk from this checkout")
    parser.add_argument("--profile", action="store_true", help="in-process profile of 200 launches (pyinstrument)")
    parser.add_argument("--only", default="", help="comma-separated contenders: medienwerk,minimal,nothing")
    args = parser.parse_args()
    threads = max(1, min(args.threads, 64))
    seconds = max(1.0, min(args.seconds, 120.0))
    rounds_wanted = max(1, min(args.rounds, 10))
    only = {s.strip() for s in args.only.split(",") if s.strip()} or {"medienwerk", "minimal", "nothing"}

    sys.path.insert(0, str(ROOT))
    from cryptography.hazmat.primitives import serialization

    from lms.demo.platform import PlatformDouble, create_platform_app
    from lti.keys import generate_key

    uri = args.db + ("&" if "?" in args.db else "?") + f"application_name={APP_NAME}"
    tmp = Path(tempfile.mkdtemp(prefix="medienwerk-bench-launch-"))
    key = generate_key()
    jwks_file = tmp / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.public_jwk]}))
    subs = [f"bench-v{n}" for n in range(max(1, min(args.volunteers, 5000)))]

    with ExitStack() as stack:
        env = base_env(tmp)
        jwks = stack.enter_context(
            gunicorn("platform-jwks", "launch:jwks_app", BENCH, {**env, "BENCH_JWKS_FILE": str(jwks_file)}, tmp, "/")
        )
        double = PlatformDouble(issuer=jwks.url, key=key)
        create_platform_app(double)  # registers the AGS and NRPS claims the demo LMS sends (its routes are not served)
        platform = Platform(
            double=double,
            private_key=serialization.load_pem_private_key(key.private_pem.encode(), password=None),
            kid=key.kid,
        )
        config = tmp / "lti-config.json"
        config.write_text(
            json.dumps(
                {
                    "issuer": double.issuer,
                    "client_id": double.client_id,
                    "deployment_id": double.deployment_id,
                    "auth_login_url": double.auth_login_url,
                    "auth_token_url": double.auth_token_url,
                    "key_set_url": double.key_set_url,
                    "tool_private_key": generate_key().private_pem,
                    "secret_key": secrets.token_urlsafe(32),
                }
            )
        )
        contenders: list[Contender] = []
        db_pids = None
        if "medienwerk" in only:
            prepare_medienwerk(uri, args.redis, platform, tmp)
            mw_env = {
                **env,
                "MEDIENWERK_SQLALCHEMY_DATABASE_URI": uri,
                "MEDIENWERK_REDIS_URL": args.redis,
                "MEDIENWERK_SECRET_KEY": SECRET,
                "MEDIENWERK_INSTANCE_PATH": str(tmp / "instance"),
                "MEDIENWERK_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
                "MEDIENWERK_RATE_LIMITS": "login=1000000/minute,launch=1000000/minute",
            }
            server = stack.enter_context(
                gunicorn("medienwerk", "lms:create_app()", args.tool_root, mw_env, tmp, "/healthz")
            )
            contenders.append(Contender("medienwerk", server, "/lti/login", "/lti/launch", with_db=True))
            db_pids = postgres_backends(uri)
        bench_env = {**env, "BENCH_LTI_CONFIG": str(config)}
        if "minimal" in only:
            if args.minimal_key_cache:
                bench_env_minimal = {**bench_env, "BENCH_LTI_KEY_CACHE": "1"}
            else:
                bench_env_minimal = bench_env
            server = stack.enter_context(
                gunicorn("minimal-pylti1p3", "minimal_pylti1p3_tool:app", BENCH, bench_env_minimal, tmp, "/login/")
            )
            contenders.append(Contender("minimal pylti1p3", server, "/login/", "/launch/"))
        if "nothing" in only:
            server = stack.enter_context(gunicorn("do-nothing", "do_nothing_tool:app", BENCH, bench_env, tmp, "/login"))
            contenders.append(Contender("do-nothing", server, "/login", "/launch"))

        print(
            f"contenders: {', '.join(c.name for c in contenders)}; gunicorn {' '.join(GUNICORN)}; "
            f"{threads} client threads, {rounds_wanted} rounds x {seconds:.0f} s each; {len(subs)} volunteers"
        )
        for contender in contenders:
            warm = drive(platform, contender, subs, threads, once=True)
            print(f"warm-up {contender.name}: {warm.launches} launches, errors {warm.errors or 'none'}")
            if warm.errors:
                print(f"  server log: {contender.server.log}")
                errors = [
                    ln for ln in contender.server.log.read_text().splitlines() if re.search(r"Error|Exception", ln)
                ]
                print("  " + "\n  ".join(errors[-5:]))

        totals = {c.name: Run() for c in contenders}
        per_round: list[dict[str, Run]] = []
        for n in range(rounds_wanted):
            this_round: dict[str, Run] = {}
            order = contenders if n % 2 == 0 else list(reversed(contenders))
            for contender in order:
                run = drive(
                    platform, contender, subs, threads, seconds=seconds, db_pids=db_pids if contender.with_db else None
                )
                this_round[contender.name] = run
                totals[contender.name].add(run)
            per_round.append({c.name: this_round[c.name] for c in contenders})
        report(totals, per_round)
        if "medienwerk" in only and args.tool_root == ROOT:
            count_in_process(uri, args.redis, platform, tmp, args.profile)
        print(f"\nmachine: {os.cpu_count()} cores, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"server logs: {tmp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
