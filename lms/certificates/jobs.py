"""The daily check of the tiers of everyone whose live-tutorial attendance changed (a correction by a trainer, or
attendance counted after a tutorial): the live-sessions domain sends no signal for these, so they are found by
the attendance rows' update time. Idempotent: a tier already awarded is never awarded again."""

from __future__ import annotations

import logging

from lms.certificates import services
from lms.core.jobs import jobs

log = logging.getLogger(__name__)

DAY = 24 * 60


@jobs.periodic(minutes=DAY)
def award_after_attendance_changes() -> int:
    awarded = services.check_changed_attendance()
    if awarded:
        log.info("certificates: %d award(s) after attendance changes", awarded)
    return awarded
