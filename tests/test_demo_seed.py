"""The demo's invented chamber: volunteers at every stage, so that the coordinators' pages show something."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.core.extensions import db
from lms.demo.seed import SUB_PREFIX, seed_demo
from lms.platforms.services import find_platform
from lms.progress.models import ItemProgress, TaskSubmission
from lms.users.models import User
from tests.conftest import Lti, page_text
from tests.progress.helpers import Browser


def test_seeding_fills_the_dashboards_once(lti: Lti) -> None:
    with lti.app.test_request_context():
        platform = find_platform(lti.double.issuer, lti.double.client_id)
        assert platform is not None
        assert seed_demo(platform, dict(lti.double.context)) == 36
        db.session.commit()
        assert seed_demo(platform, dict(lti.double.context)) == 0  # the second start adds nothing
        seeded = db.session.execute(
            select(func.count()).select_from(User).where(User.sub.like(f"{SUB_PREFIX}%"), User.email.is_not(None))
        ).scalar_one()
        assert 0 < seeded < 36  # some LMSs share no e-mail
        assert db.session.execute(select(func.count()).select_from(ItemProgress)).scalar_one() > 100
        statuses = set(db.session.execute(select(TaskSubmission.status)).scalars())
        assert {"submitted", "approved"} <= statuses
    text = page_text(Browser(lti, "coordinator").get("dashboard/").text)
    assert "Botschafter*innen 36" in text
    not_started = page_text(Browser(lti, "coordinator").get("dashboard/not-started").text)
    assert "Jana Roth" in not_started
