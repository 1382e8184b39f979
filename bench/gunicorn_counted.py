"""gunicorn settings for benchmarks: the shipped ones (lms/gunicorn_conf.py) plus statement counting in every
worker (bench/counted.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lms.gunicorn_conf import *  # noqa: E402, F403 - the shipped settings
from lms.gunicorn_conf import worker_exit  # noqa: E402, F401 - the shipped graceful shutdown


def post_fork(server: Any, worker: Any) -> None:
    import counted

    counted.install()
