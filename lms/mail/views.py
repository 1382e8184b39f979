"""/demo-mail/: in the demo, e-mails are shown here instead of being sent."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from lms.core.extensions import db
from lms.mail.models import OutboxMail

bp = Blueprint("mail", __name__, url_prefix="/demo-mail")


@bp.route("/")
def demo_outbox() -> str:
    if not current_app.config.get("DEMO"):
        abort(404)
    mails = list(db.session.execute(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(200)).scalars())
    return render_template("mail/demo_outbox.html", mails=mails)
