"""The delivery status page: trainers and coordinators see it and can resend; volunteers cannot."""

from __future__ import annotations

import re

import requests

from tests.conftest import page_text
from tests.grades.conftest import M1, Grades, csrf, csrf_for


def test_trainer_sees_status_per_volunteer_and_link_and_resends(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.lti.launch("volunteer-private")
    grades.services.gradable.discard("demo-lena")
    grades.change(grades.user_id("demo-lena"), M1, 50)
    grades.change(grades.user_id("demo-timo"), M1, 100)
    grades.deliver()

    landing = grades.lti.launch("trainer")
    assert "Notenübertragung" in page_text(landing.text)  # in the navigation
    page = requests.get(landing.url + "grades/", timeout=10)
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Lena Schreiner" in text and "Fehlgeschlagen" in text and "nicht als Teilnehmer*in" in text
    assert "Ohne Namen (Kennung demo-timo)" in text and "Übertragen" in text
    # CSP: no inline script or style (scripts from lms/static/ are fine)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and "style=" not in page.text

    grades.services.gradable.add("demo-lena")  # fixed in Moodle; the trainer resends
    lena_row = next(r for r in grades.rows() if r.platform_user_id == "demo-lena")
    token = csrf(page.text)
    assert requests.post(landing.url + f"grades/{lena_row.id}/resend", data={}, timeout=10).status_code == 400
    resent = requests.post(landing.url + f"grades/{lena_row.id}/resend", data={"csrf_token": token}, timeout=10)
    assert resent.status_code == 200 and "erneut gesendet" in page_text(resent.text)
    row = next(r for r in grades.rows() if r.platform_user_id == "demo-lena")
    assert (row.status, row.attempts, row.last_error_code) == ("pending", 0, None)
    grades.deliver()
    assert grades.services.grade("demo-lena") is not None


def test_resend_all_failed(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.services.gradable.discard("demo-lena")
    grades.change(grades.user_id(), M1, 50)
    grades.deliver()
    landing = grades.lti.launch("coordinator")
    page = requests.get(landing.url + "grades/", timeout=10)
    assert "Alle fehlgeschlagenen erneut senden" in page.text
    resp = requests.post(landing.url + "grades/resend-failed", data={"csrf_token": csrf(page.text)}, timeout=10)
    assert resp.status_code == 200
    assert grades.rows()[0].status == "pending"


def test_volunteers_cannot_see_or_resend(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    landing = grades.lti.launch("volunteer")
    assert "Notenübertragung" not in page_text(landing.text)
    assert requests.get(landing.url + "grades/", timeout=10).status_code == 403
    row = grades.rows()[0]
    token = csrf_for(grades.app, landing.url)
    resend = requests.post(landing.url + f"grades/{row.id}/resend", data={"csrf_token": token}, timeout=10)
    assert resend.status_code == 403


def test_resend_of_a_row_from_another_course_is_not_found(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    row = grades.rows()[0]
    grades.lti.double.context = {"id": "other-course", "title": "Anderer Kurs"}
    grades.lti.double.resource_link = {"id": "other-link", "title": "medienwerk"}
    landing = grades.lti.launch("trainer")
    page = requests.get(landing.url + "grades/", timeout=10)
    assert "Lena" not in page_text(page.text)
    token = csrf_for(grades.app, landing.url)
    resp = requests.post(landing.url + f"grades/{row.id}/resend", data={"csrf_token": token}, timeout=10)
    assert resp.status_code == 404
