"""The name on the certificate: as the LMS sends it; when the LMS withholds it, the volunteer is asked once."""

from __future__ import annotations

from lms.certificates.models import Award, CertificateName
from lms.core.extensions import db
from lms.courses.setup import current_course
from tests.certificates.conftest import Certs, post_form
from tests.conftest import page_text


def test_the_volunteer_types_the_name_once_when_the_lms_withholds_it(certs: Certs) -> None:
    browser, timo = certs.reach_highest("demo-timo", "volunteer-private")
    award = certs.award(timo)
    assert award.display_name is None

    page = browser.get("certificates/")
    text = page_text(page.text)
    assert "Dein Name für die Zertifikate" in text and "Lernplattform gibt deinen Namen nicht" in text
    assert f"{award.id}/zertifikat.pdf" not in page.text  # no download without a name
    assert browser.get(f"certificates/{award.id}/zertifikat.pdf", allow_redirects=False).status_code == 302

    empty = post_form(browser, "certificates/name", name="   ")
    assert empty.status_code == 422 and "Bitte gib deinen Namen ein." in empty.text
    assert post_form(browser, "certificates/name", name="x" * 200).status_code == 422
    assert post_form(browser, "certificates/name", name="Timo\u0000Berger").status_code == 422

    saved = post_form(browser, "certificates/name", name="  Timo   Berger ")
    assert saved.status_code == 302
    after = browser.get("certificates/?done=name")
    assert "Dein Name für die Zertifikate" not in after.text and f"{award.id}/zertifikat.pdf" in after.text
    assert all(a.display_name == "Timo Berger" for a in certs.awards(timo))

    again = post_form(browser, "certificates/name", name="Jemand Anderes")
    assert again.status_code == 409  # asked once
    with certs.lti.app.app_context():
        assert db.session.get(CertificateName, timo).name == "Timo Berger"  # type: ignore[union-attr]


def test_a_later_tier_takes_the_typed_name(certs: Certs) -> None:
    browser = certs.launch("volunteer-private")
    timo = certs.user_id("demo-timo")
    first = ["m1-sicher-im-netz", "m2-live-beraten-mit-bigbluebutton", "m6-recht-am-bild-und-datenschutz"]
    certs.attend(timo, 1)
    certs.finish(timo, first)
    assert post_form(browser, "certificates/name", name="Timo Berger").status_code == 302
    certs.attend(timo, 1)
    with certs.lti.app.app_context():
        rest = [m.id for m in current_course().modules if m.id not in first]
    certs.finish(timo, rest)
    page = browser.get("m/")  # the module overview checks the tiers and links the downloads
    assert page.status_code == 200 and "Deine Zertifikate" in page.text
    with certs.lti.app.app_context():
        names = {a.tier_id: a.display_name for a in db.session.query(Award)}
    assert names == {"digital-startklar": "Timo Berger", "digitale-botschafterin": "Timo Berger"}
    assert "zertifikat.pdf" in page.text
