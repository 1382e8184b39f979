from __future__ import annotations

from flask import g, render_template

from lms.core.blueprints import tool_blueprint
from lms.core.security import current_role

bp = tool_blueprint("home", __name__)


@bp.route("/")
def index() -> str:
    return render_template(
        "home/index.html", launch=g.launch, user=g.launch.user, course=g.launch.course, role=current_role()
    )
