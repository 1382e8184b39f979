"""The roster says when it was last synchronised in the page's language (German, or English after the choice)."""

from __future__ import annotations

import datetime as dt

import requests
from sqlalchemy import update

from lms.core.extensions import db
from lms.rosters.models import RosterSource
from tests.conftest import page_text
from tests.rosters.conftest import Rosters


def test_last_sync_follows_the_language(rosters: Rosters) -> None:
    landing = rosters.lti.launch("trainer")
    rosters.sync()
    with rosters.app.app_context():
        db.session.execute(update(RosterSource).values(last_synced_at=dt.datetime(2025, 7, 1, 6, 5, tzinfo=dt.UTC)))
        db.session.commit()

    german = page_text(requests.get(landing.url + "roster/", timeout=10).text)
    assert "Zuletzt abgeglichen 01.07.2025, 08:05" in german

    requests.get(landing.url + "?lang=en", timeout=10)
    english = page_text(requests.get(landing.url + "roster/", timeout=10).text)
    assert "Last synchronised Jul 1, 2025, 8:05" in english and "AM" in english
