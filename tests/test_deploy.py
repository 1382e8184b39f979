"""The deployment files start what they say: the systemd units' commands (web with the shipped gunicorn settings,
the Redis worker) and the nginx site in front of the web process, over TLS, on loopback ports; stopping either unit
lets the job it is running finish (a score held by the LMS double while the stop arrives is delivered)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import Flask

from lms.demo.platform import PlatformDouble
from lms.demo.platform_services import PlatformServices
from tests.conftest import LiveServer, platform_double_for
from tests.test_serving import (
    READY_TIMEOUT,
    _free_port,
    _job_result,
    _register_by_cli,
    _wait_until_ready,
    install,  # noqa: F401 - the fixture: an empty database, an instance folder
)

pytestmark = pytest.mark.production  # the production database: PostgreSQL in the test command's second pass

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def _command(line: str) -> list[str]:
    """A unit's command line with the install path replaced by this environment's."""
    return [part.replace("/opt/medienwerk/venv/bin/", f"{BIN}/") for part in line.split()]


def test_web_unit_runs_migrations_then_gunicorn_with_the_shipped_settings(
    install: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    unit = _unit("medienwerk-web.service")
    pre = subprocess.run(_command(unit["ExecStartPre"][0]), env=install, capture_output=True, text=True, timeout=120)
    assert pre.returncode == 0, pre.stderr
    port = _free_port()
    web_env = {**install, "MEDIENWERK_BIND": f"127.0.0.1:{port}", "MEDIENWERK_WORKERS": "2"}
    log = tmp_path / "web.log"
    with log.open("w") as out:
        process = subprocess.Popen(_command(unit["ExecStart"][0]), env=web_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        assert _job_result(install) == 0  # without Redis the workers run the jobs
    finally:
        process.send_signal(signal.SIGTERM)  # systemd's stop (KillMode=mixed sends SIGTERM to the master)
        assert process.wait(timeout=60) == 0, log.read_text()


def test_worker_unit_runs_jobs_from_redis(install: dict[str, str], tmp_path: Path) -> None:  # noqa: F811 - the fixture
    redis_url = f"redis://127.0.0.1:6379/{9 + os.getpid() % 5}"
    worker_env = {**install, "MEDIENWERK_REDIS_URL": redis_url}
    upgrade = subprocess.run([f"{BIN}/medienwerk", "db", "upgrade"], env=worker_env, capture_output=True, timeout=120)
    assert upgrade.returncode == 0
    unit = _unit("medienwerk-worker.service")
    assert unit["KillSignal"] == ["SIGINT"]
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(_command(unit["ExecStart"][0]), env=worker_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert _job_result(worker_env) == 0, log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medienwerk.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_nginx_site_serves_the_tool_over_tls(install: dict[str, str], tmp_path: Path) -> None:  # noqa: F811 - the fixture
    if not os.path.exists(NGINX):
        pytest.fail("nginx is missing; the test command installs Debian's nginx-light")
    web_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    cert, key = _self_signed(tmp_path)
    site = (DEPLOY / "nginx-medienwerk.conf").read_text(encoding="utf-8")
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{web_port}")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{http_port};", site)
    site = re.sub(r"listen 443 ssl http2;.*", f"listen 127.0.0.1:{https_port} ssl http2;", site)
    site = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("/etc/ssl/medienwerk/fullchain.pem", str(cert)).replace(
        "/etc/ssl/medienwerk/privkey.pem", str(key)
    )
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fcgi;\n  uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/scgi;\n"
        f"  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    subprocess.run([f"{BIN}/medienwerk", "db", "upgrade"], env=install, check=True, capture_output=True, timeout=120)
    web_env = {
        **install,
        "MEDIENWERK_BIND": f"127.0.0.1:{web_port}",
        "MEDIENWERK_WORKERS": "1",
        "MEDIENWERK_PROXY_COUNT": "1",
    }
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(
            [f"{BIN}/gunicorn", "-c", "python:lms.gunicorn_conf", "lms:create_app()"],
            env=web_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"])
    try:
        _wait_until_ready(f"http://127.0.0.1:{web_port}", web, log)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:  # nginx is up when it answers (a readiness wait, not a timing assumption)
            try:  # the test's own self-signed certificate: not verified
                resp = requests.get(f"https://127.0.0.1:{https_port}/healthz", verify=False, timeout=5)  # noqa: S501
                break
            except requests.ConnectionError:
                assert nginx.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}
        plain = requests.get(f"http://127.0.0.1:{http_port}/healthz", allow_redirects=False, timeout=5)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        login = requests.get(f"https://127.0.0.1:{https_port}/lti/login", verify=False, timeout=5)  # noqa: S501
        assert login.status_code == 400  # the tool answered through the proxy (a login without parameters)
        assert "X-Frame-Options" not in login.headers
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=30)
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=60)


# -- stopping: a running job finishes first ----------------------------------------------------------------------


def _queue_a_score(env: dict[str, str], double: PlatformDouble, lms: PlatformServices) -> Flask:
    """A gradable link with one volunteer and a queued score, committed from this process: the commit enqueues
    the delivery job into the server's queue (Redis, or the instance's SQLite queue), as a progress change does."""
    from sqlalchemy import select

    from lms import create_app
    from lms.core.extensions import db
    from lms.grades import services
    from lms.grades.models import GradeLink, GradeLinkUser
    from lms.platforms.models import Platform
    from lms.users.models import LmsCourse, User

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": env["MEDIENWERK_SQLALCHEMY_DATABASE_URI"],
            "JOBS_SQLITE_PATH": str(Path(env["MEDIENWERK_INSTANCE_PATH"]) / "jobs.sqlite"),
            "REDIS_URL": env.get("MEDIENWERK_REDIS_URL"),
        }
    )
    lms.known_users.add("stop-test")
    lms.gradable.add("stop-test")
    with app.app_context():
        platform = db.session.execute(select(Platform)).scalar_one()
        course = LmsCourse(issuer=double.issuer, context_id="stop-course", chamber_id=platform.chamber_id)
        user = User(issuer=double.issuer, sub="stop-test", chamber_id=platform.chamber_id)
        db.session.add_all([course, user])
        db.session.flush()
        link = GradeLink(
            platform_id=platform.id,
            course_id=course.id,
            deployment_id=double.deployment_id,
            resource_link_id="stop-link",
            item_kind="overview",
            lineitems_url=lms.lineitems_url("stop-course"),
            lineitem_url=lms.link_lineitem("stop-course", "stop-link")["id"],
            scopes=list(lms.ags_scopes),
        )
        db.session.add(link)
        db.session.flush()
        member = GradeLinkUser(link_id=link.id, user_id=user.id, platform_user_id="stop-test")
        db.session.add(member)
        db.session.flush()
        services.queue_score(link, member, services.CurrentScore(40, False))
        db.session.commit()  # enqueues the delivery job
    return app


def _delivered(app: Flask) -> list[str]:
    from sqlalchemy import select

    from lms.core.extensions import db
    from lms.grades.models import ScoreOutbox

    with app.app_context():
        statuses = list(db.session.execute(select(ScoreOutbox.status)).scalars())
        db.session.remove()
        db.engine.dispose()
    return statuses


def _refused(url: str) -> bool:
    try:
        requests.get(url + "/healthz", timeout=5)
    except requests.ConnectionError:
        return True
    return False


def _wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll a condition; the deadline only guards against a hang."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_web_unit_stop_lets_the_running_job_finish(install: dict[str, str], tmp_path: Path) -> None:  # noqa: F811 - the fixture
    """systemd stops the web unit (SIGTERM to gunicorn's master) while a worker's job consumer is sending a score:
    the worker stops serving, finishes the job, records the delivery and exits cleanly."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    double, platform = platform_double_for(SimpleNamespace(url=url))  # type: ignore[arg-type]
    lms: PlatformServices = platform.server.app.extensions["platform_services"]
    lms.hold_scores = threading.Event()
    platform.start()
    unit = _unit("medienwerk-web.service")
    env = {
        **install,
        "MEDIENWERK_BIND": f"127.0.0.1:{port}",
        "MEDIENWERK_WORKERS": "1",
        "MEDIENWERK_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",  # the LMS double answers on loopback
    }
    log = tmp_path / "web.log"
    process = None
    try:
        subprocess.run(_command(unit["ExecStartPre"][0]), env=env, check=True, capture_output=True, timeout=120)
        _register_by_cli(env, double)
        with log.open("w") as out:
            process = subprocess.Popen(_command(unit["ExecStart"][0]), env=env, stdout=out, stderr=subprocess.STDOUT)
        _wait_until_ready(url, process, log)  # the first request starts the worker's job consumer
        app = _queue_a_score(env, double, lms)
        assert lms.score_arrived.wait(READY_TIMEOUT), log.read_text()  # the job is sending, held by the LMS
        process.send_signal(signal.SIGTERM)
        _wait_for(lambda: _refused(url), "gunicorn did not stop serving")
        assert process.poll() is None  # still finishing the job
        lms.hold_scores.set()
        assert process.wait(timeout=60) == 0, log.read_text()
        assert _delivered(app) == ["delivered"], log.read_text()
        grade = lms.grade("stop-test")
        assert grade is not None and grade.score_given == 40.0
    finally:
        lms.hold_scores.set()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        platform.stop()


def test_worker_unit_stop_lets_the_running_job_finish(install: dict[str, str], tmp_path: Path) -> None:  # noqa: F811 - the fixture
    """systemd stops the worker unit (its KillSignal, SIGINT) while it sends a score: the job finishes first."""
    from lms import create_app
    from lms.core.extensions import db

    env = {
        **install,
        "MEDIENWERK_REDIS_URL": f"redis://127.0.0.1:6379/{9 + os.getpid() % 5}",
        "MEDIENWERK_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
    }
    subprocess.run([f"{BIN}/medienwerk", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    # the tool's key set, which the LMS double reads to check the token request
    tool_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": env["MEDIENWERK_SQLALCHEMY_DATABASE_URI"]})
    tool = LiveServer(tool_app)
    double, platform = platform_double_for(tool)
    lms: PlatformServices = platform.server.app.extensions["platform_services"]
    lms.hold_scores = threading.Event()
    tool.start()
    platform.start()
    unit = _unit("medienwerk-worker.service")
    log = tmp_path / "worker.log"
    process = None
    try:
        _register_by_cli(env, double)
        app = _queue_a_score(env, double, lms)
        with log.open("w") as out:
            process = subprocess.Popen(_command(unit["ExecStart"][0]), env=env, stdout=out, stderr=subprocess.STDOUT)
        assert lms.score_arrived.wait(READY_TIMEOUT), log.read_text()
        process.send_signal(signal.SIGINT)
        _wait_for(lambda: "running jobs finish first" in log.read_text(), "the worker did not begin to stop")
        assert process.poll() is None
        lms.hold_scores.set()
        assert process.wait(timeout=60) == 0, log.read_text()
        assert _delivered(app) == ["delivered"], log.read_text()
    finally:
        lms.hold_scores.set()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        platform.stop()
        tool.stop()
        with tool_app.app_context():  # no connection left open (the PostgreSQL pass warns of those)
            db.engine.dispose()


# -- reloading: new code without refusing a request -----------------------------------------------------------


def _workers_of(pid: int) -> set[int]:
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_gunicorn_master_loads_no_application_code() -> None:
    """The master reads lms.gunicorn_conf only: workers started by a reload import the code installed now."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, lms.gunicorn_conf; print(sorted(m for m in sys.modules if 'lms' in m))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["['lms',", "'lms.gunicorn_conf']"]


def test_web_unit_reload_replaces_the_workers_while_requests_are_answered(
    install: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """`systemctl reload medienwerk-web` (the unit's ExecReload: SIGHUP to the master) starts new workers and lets
    the old ones finish their requests: nothing is refused meanwhile (an upgrade without downtime). gunicorn stops
    the old workers without waiting for the new ones to load the app, so a request may wait for that (seconds)."""
    unit = _unit("medienwerk-web.service")
    assert unit["ExecReload"] == ["/bin/kill -s HUP $MAINPID"]
    subprocess.run(_command(unit["ExecStartPre"][0]), env=install, check=True, capture_output=True, timeout=120)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**install, "MEDIENWERK_BIND": f"127.0.0.1:{port}", "MEDIENWERK_WORKERS": "2"}
    log = tmp_path / "web.log"
    with log.open("w") as out:
        process = subprocess.Popen(_command(unit["ExecStart"][0]), env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(url, process, log)
        _wait_for(lambda: len(_workers_of(process.pid)) == 2, "two workers")
        old = _workers_of(process.pid)
        process.send_signal(signal.SIGHUP)
        answers: list[int] = []

        def replaced() -> bool:
            answers.append(requests.get(url + "/healthz", timeout=READY_TIMEOUT).status_code)  # a refusal raises
            now = _workers_of(process.pid)
            return len(now) == 2 and not now & old

        _wait_for(replaced, "the workers were not replaced:\n" + log.read_text())
        assert answers and set(answers) == {200}
        assert requests.get(url + "/readyz", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()
