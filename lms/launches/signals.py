"""Signals other domains connect to. Receivers run inside the sender's transaction: they may flush, never
commit, so their writes land or fail together with the sender's."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent by the launch view after the user, course and launch session are recorded, before the commit;
# kwargs: launch (lti.claims.Launch), record (lms.users.services.LaunchRecord), platform, launch_session
launch_recorded = _signals.signal("launch-recorded")
