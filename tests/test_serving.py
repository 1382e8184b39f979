"""The tool as operators run it: real server processes on a fresh install.

- `db upgrade` + `platform add`, then gunicorn with two workers and 16 first launches at once: every launch
  works (the signing key exists before any request, and the schema allows one active key).
- Without Redis, the serving processes run the background jobs themselves, under `medienwerk run` as under
  gunicorn: a job enqueued from outside is run by the server and its result comes back.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import sqlalchemy
from flask import Flask

from lms import create_app
from lms.core.extensions import db
from lms.demo.platform import PlatformDouble
from tests.conftest import Lti, platform_double_for

BIN = Path(sys.executable).parent
READY_TIMEOUT = 60  # seconds a starting server may take on a busy machine before the test gives up


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _empty_database(uri: str) -> None:
    """Drop everything (the PostgreSQL run shares one schema between tests)."""
    engine = sqlalchemy.create_engine(uri)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture
def install(db_uri: str, tmp_path: Path) -> dict[str, str]:
    """A fresh install's environment: an empty database and an instance folder, no Redis."""
    _empty_database(db_uri)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIENWERK_")}
    env.update(
        {
            "MEDIENWERK_SQLALCHEMY_DATABASE_URI": db_uri,
            "MEDIENWERK_SECRET_KEY": "serving-test-secret",
            "MEDIENWERK_INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "medienwerk"), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _register_by_cli(env: dict[str, str], double: PlatformDouble) -> None:
    """``medienwerk platform add`` for the platform double, as an operator would type it."""
    _cli(
        env,
        "platform",
        "add",
        "--issuer",
        double.issuer,
        "--client-id",
        double.client_id,
        "--deployment-id",
        double.deployment_id,
        "--auth-login-url",
        double.auth_login_url,
        "--auth-token-url",
        double.auth_token_url,
        "--key-set-url",
        double.key_set_url,
        "--chamber",
        "hwk-test",
    )


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /healthz until the server answers (a readiness wait with a deadline, not a timing assumption)."""
    import time

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.2)
    raise AssertionError("server did not start:\n" + log.read_text())


def _job_result(env: dict[str, str]) -> Any:
    """Enqueue a real job into the install's embedded queue from this process and wait for the server to run
    it; None when nobody ran it in time."""
    from huey.exceptions import HueyException

    from lms.core.jobs import jobs
    from lms.grades.jobs import deliver_scores

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": env["MEDIENWERK_SQLALCHEMY_DATABASE_URI"],
            "JOBS_SQLITE_PATH": str(Path(env["MEDIENWERK_INSTANCE_PATH"]) / "jobs.sqlite"),
            "REDIS_URL": env.get("MEDIENWERK_REDIS_URL"),  # the server's queue: Redis when it has one
        }
    )
    assert jobs.app is app and not jobs.huey.immediate
    result = deliver_scores.enqueue([])
    try:
        return result.get(blocking=True, timeout=READY_TIMEOUT)
    except HueyException:
        return None


def test_gunicorn_with_two_workers_serves_sixteen_first_launches_at_once(
    install: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    tool = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    double, platform = platform_double_for(tool)  # type: ignore[arg-type]
    platform.start()
    try:
        assert "signing key" in _cli(install, "db", "upgrade")
        _register_by_cli(install, double)
        command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "lms:create_app()"]
        with _server(command, install, port, tmp_path / "gunicorn.log"):
            lti = Lti(tool=tool, platform=platform, double=double, app=Flask("unused"))  # type: ignore[arg-type]
            personas = ["volunteer", "trainer", "coordinator", "volunteer-private"] * 4
            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(lambda persona: lti.launch_with(persona), personas))
            assert [a.status_code for a in answers] == [200] * 16, [a.text[:300] for a in answers if a.ok is False]
            assert all("/t/" in a.url for a in answers)
            keys = requests.get(tool.url + "/lti/jwks", timeout=10).json()["keys"]
            assert len(keys) == 1
            assert _job_result(install) == 0  # each gunicorn worker runs the jobs without Redis
    finally:
        platform.stop()
    engine = sqlalchemy.create_engine(install["MEDIENWERK_SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        active = conn.execute(sqlalchemy.text("SELECT count(*) FROM tool_key WHERE active")).scalar_one()
    engine.dispose()
    assert active == 1


def test_medienwerk_run_runs_the_background_jobs(install: dict[str, str], tmp_path: Path) -> None:
    _cli(install, "db", "upgrade")
    port = _free_port()
    command = [str(BIN / "medienwerk"), "run", "--port", str(port)]
    with _server(command, install, port, tmp_path / "run.log"):
        assert _job_result(install) == 0


def test_a_second_active_key_is_refused_by_the_schema(app: Flask) -> None:
    from sqlalchemy.exc import IntegrityError

    from lms.platforms.models import ToolKey
    from lms.platforms.services import ensure_active_key

    with app.app_context():
        first = ensure_active_key()
        assert ensure_active_key().kid == first.kid
        db.session.commit()
        db.session.add(ToolKey(kid="second", private_pem="x", public_jwk={}, active=True))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_get_of_the_key_set_creates_no_key(client: Any, app: Flask) -> None:
    from lms.platforms.models import ToolKey

    assert client.get("/lti/jwks").get_json() == {"keys": []}
    with app.app_context():
        assert db.session.execute(sqlalchemy.select(ToolKey)).first() is None
