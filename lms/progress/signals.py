"""Signals of the progress domain. Receivers run inside the sender's transaction: they may flush, never
commit, so their writes land or fail together with the progress they react to."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sent by lms.progress.services after a user's progress on a module changed (a lesson completed, a
# self-check attempt, a task handed in, approved or returned), after the flush and before the commit;
# the sender is the service function; kwargs: user_id (int), module_id (str).
# lms.progress.queries.module_completion(user_id, module_id) already sees the change.
progress_changed = _signals.signal("progress-changed")
