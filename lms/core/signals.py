"""Signals: how a domain tells domains above it that something happened, without importing them.

Receivers run inside the sender's transaction: they may flush, never
commit, so their writes land or fail together with the sender's."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent by the launch view after the user, course and launch session are recorded, before the commit;
# kwargs: launch (lti.claims.Launch), record (lms.users.services.LaunchRecord: user, course_id, role,
# email_withdrawn), platform (lms.platforms.registry.RegisteredPlatform: id, chamber_id, not an ORM object),
# launch_session. Receivers run on every launch: a returning person's launch should cost them a statement at most.
launch_recorded = _signals.signal("launch-recorded")

# sent by lms.progress.services after a user's progress on a module changed (a lesson completed, a
# self-check attempt, a task handed in, approved or returned), after the flush and before the commit;
# the sender is the service function; kwargs: user_id (int), module_id (str).
# lms.progress.queries.module_completion(user_id, module_id) already sees the change.
progress_changed = _signals.signal("progress-changed")
