"""Wiring: launches carrying an NRPS claim tell us where the course's roster is."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lms.core.signals import launch_recorded
from lms.rosters import jobs, models, services  # noqa: F401 - jobs and tables register themselves
from lms.rosters.views import bp, legacy

_wired = {"done": False}


def on_launch(sender: Any, *, launch: Any, record: Any, platform: Any, launch_session: Any, **_: Any) -> None:
    services.record_source(launch, platform.id, record.course_id)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(legacy)
    if not _wired["done"]:
        _wired["done"] = True
        launch_recorded.connect(on_launch, weak=False)
