"""The deployment files start what they say: the systemd units' commands (web with the shipped gunicorn settings,
the Redis worker) and the nginx site in front of the web process, over TLS, on loopback ports."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.test_serving import (
    READY_TIMEOUT,
    _free_port,
    _job_result,
    _wait_until_ready,
    install,  # noqa: F401 - the fixture: an empty database, an instance folder
)

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
