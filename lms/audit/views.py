"""/t/<lt>/audit/: the audit log of the chamber, for its coordinators (the central team: all chambers)."""

from __future__ import annotations

from flask import g, render_template, request

from lms.audit import services
from lms.core.blueprints import tool_blueprint
from lms.core.security import role_required
from lms.users.scope import scope_of
from lti.roles import Role

bp = tool_blueprint("audit", __name__, "/audit")


@bp.route("/")
@role_required(Role.COORDINATOR)
def index() -> str:
    scope = scope_of(g.launch)
    page = services.entries_for(
        list(scope.chamber_ids) if scope.chamber_ids is not None else None,
        request.args.get("page", 1, type=int) or 1,
    )
    return render_template("audit/index.html", page=page, central=scope.central)
