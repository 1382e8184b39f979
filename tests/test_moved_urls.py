"""The German URLs of the first release redirect to the English ones, keeping method, form and query."""

from __future__ import annotations

from tests.conftest import Lti
from tests.progress.helpers import Browser


def test_old_grade_and_roster_urls_redirect(lti: Lti) -> None:
    trainer = Browser(lti, "trainer")
    old = trainer.get("noten/?page=2&status=failed", allow_redirects=False)
    assert old.status_code == 308
    assert old.headers["Location"].endswith("/grades/?page=2&status=failed")
    assert trainer.get("noten/").url.endswith("/grades/")
    roster = trainer.get("teilnehmende/", allow_redirects=False)
    assert roster.status_code == 308 and roster.headers["Location"].endswith("/roster/")
    sync = trainer.http.post(
        trainer.url("teilnehmende/abgleichen"),
        data={"csrf_token": trainer.launch_csrf()},
        allow_redirects=False,
        timeout=10,
    )
    assert sync.status_code == 308 and sync.headers["Location"].endswith("/roster/sync")
    assert Browser(lti, "volunteer").get("noten/").status_code == 403  # after the redirect: still not for them
