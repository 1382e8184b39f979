"""gunicorn settings that fit LTI traffic: ``gunicorn -c python:lms.gunicorn_conf 'lms:create_app()'``.

Launches are short requests with bursts (a class opening the activity at once); the slow parts are calls to the
LMS or BigBlueButton, which have their own timeouts (MEDIENWERK_BBB_TIMEOUT, the LMS clients). Threads let a
worker wait on those calls while serving others. Every value can be overridden on the command line or with
GUNICORN_* style environment variables of the deployment (see deploy/medienwerk-web.service).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

bind = os.environ.get("MEDIENWERK_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MEDIENWERK_WORKERS", str(min(4, multiprocessing.cpu_count() * 2))))
threads = int(os.environ.get("MEDIENWERK_THREADS", "4"))
worker_class = "gthread"
timeout = 30  # a request that takes longer is stuck: the database and BBB time out well before
graceful_timeout = 30  # on stop or reload, running requests and jobs get this long to finish
keepalive = 5  # behind nginx (deploy/nginx-medienwerk.conf keeps connections to the upstream)
max_requests = 2000  # a fresh worker now and then keeps memory flat
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("MEDIENWERK_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("MEDIENWERK_ACCESS_LOG") or None  # e.g. "-": with the redacting logger below
logger_class = "lms.core.logs.GunicornLogger"
control_socket_disable = True  # gunicorn's own control socket (in $HOME): systemd and signals control the server


def worker_exit(server: Any, worker: Any) -> None:
    """Graceful shutdown: a worker that runs the jobs itself (no Redis) lets running jobs finish first."""
    from lms.core.jobs import jobs

    jobs.stop_embedded()
