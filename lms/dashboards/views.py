"""/t/<lt>/dashboard/…: the coordinators' product (trainers: the same pages, read-only, for their courses).

Each view loads the scope of the launch (:func:`lms.users.scope.scope_of`: 403 for volunteers, 404 for anything
outside the scope), asks one reporting function and renders. Detail views and exports are logged (audit).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.audit.services import record
from lms.core.blueprints import tool_blueprint
from lms.core.db import commit_now, utcnow
from lms.core.errors import Forbidden, Invalid
from lms.courses.setup import current_course
from lms.dashboards import charts, exports, queries, reminders, reports
from lms.progress import queries as progress_queries
from lms.users.scope import Scope, scope_of

bp = tool_blueprint("dashboards", __name__, "/dashboard")

MAX_INACTIVE_DAYS = 3650


def _scope() -> Scope:
    return scope_of(g.launch)


def _int_arg(name: str, minimum: int = 0, maximum: int | None = None) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(_("Bitte gib bei „%(name)s“ eine ganze Zahl ein.", name=name))
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise Invalid(
            _(
                "Bitte gib bei „%(name)s“ eine Zahl zwischen %(low)s und %(high)s ein.",
                name=name,
                low=minimum,
                high=maximum,
            )
        )
    return value


def _filters() -> queries.Filters:
    course = current_course()
    tier = request.args.get("tier") or None
    if tier not in (None, "none", *(q.id for q in course.qualifications)):
        tier = None
    module_id = request.args.get("module") or None
    if module_id is not None and course.module(module_id) is None:
        module_id = None
    state = request.args.get("state") or None
    if state not in (None, *queries.MODULE_STATES):
        state = None
    sort = request.args.get("sort") or "name"
    return queries.Filters(
        chamber_id=_int_arg("chamber", 1),
        course_id=_int_arg("course", 1),
        tier=tier,
        module_id=module_id,
        module_state=state if module_id else None,
        inactive_days=_int_arg("inactive", 0, MAX_INACTIVE_DAYS),
        search=(request.args.get("q") or "").strip()[:100] or None,
        sort=sort if sort in queries.SORTS else "name",
        page=_int_arg("page", 1) or 1,
    )


def _common(scope: Scope) -> dict[str, Any]:
    return {"scope": scope, "course": current_course()}


@bp.route("/")
def overview() -> str:
    scope = _scope()
    course = current_course()
    figures = queries.overview(scope, course)
    weeks = queries.completions_per_week(scope, course)
    total = figures.total
    funnel_steps = [
        (_("Haben medienwerk geöffnet"), float(total.volunteers)),
        (_("Haben angefangen"), float(total.started)),
    ]
    funnel_steps += [(q.title, float(total.tiers.get(q.id, 0))) for q in course.qualifications]
    tier_funnel = charts.funnel_chart(
        "tier-funnel", _("Vom ersten Öffnen bis zur Qualifizierungsstufe"), funnel_steps, category_label=_("Schritt")
    )
    per_week = charts.line_chart(
        "per-week",
        _("Erledigte Lerneinheiten pro Kalenderwoche"),
        [w for w, _n in weeks],
        [charts.Series(_("Erledigte Lerneinheiten"), [float(n) for _w, n in weeks])],
        category_label=_("Woche"),
    )
    return render_template(
        "dashboards/overview.html", figures=figures, tier_funnel=tier_funnel, per_week=per_week, **_common(scope)
    )


@bp.route("/volunteers")
def volunteers() -> str:
    scope = _scope()
    filters = _filters()
    course = current_course()
    result = queries.matrix(scope, course, filters)
    return render_template(
        "dashboards/volunteers.html",
        matrix=result,
        filters=filters,
        courses=queries.courses_in_scope(scope),
        chambers=queries.chambers_in_scope(scope) if scope.central else [],
        states=queries.MODULE_STATES,
        **_common(scope),
    )


@bp.route("/volunteers/export")
def export() -> Any:
    scope = _scope()
    if not scope.may_manage:
        raise Forbidden()
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    filters = _filters()
    course = current_course()
    table = reports.progress_table(scope, course, filters)
    record(
        "report_exported",
        chamber_id=g.launch.user.chamber_id,
        actor=g.launch.user,
        actor_role=g.launch.role,
        detail={"format": fmt, "filters": filters.args()},
    )

    commit_now()  # the audit entry lands before the (streamed) download starts
    return exports.export_response(
        table,
        fmt,
        delimiter=";" if request.args.get("delimiter") == "semicolon" else ",",
        filename_stem="fortschritt",
        when=utcnow().date(),
        tz=current_app.config["TIMEZONE"],
    )


@bp.route("/volunteers/<int:user_id>")
def volunteer(user_id: int) -> str:
    scope = _scope()
    person = queries.volunteer_in_scope(scope, user_id)
    if person is None:
        abort(404)
    course = current_course()
    progress = progress_queries.course_progress(person.id, course)
    tiers = progress_queries.qualification_progress(person.id, progress, course)
    record(
        "volunteer_viewed",
        chamber_id=person.chamber_id,
        actor=g.launch.user,
        actor_role=g.launch.role,
        subject_id=person.id,
    )
    return render_template(
        "dashboards/volunteer.html",
        person=person,
        progress=progress,
        tiers=tiers,
        overall=progress_queries.overall_percent(p.percent for p in progress.values()),
        timeline=queries.timeline(person.id),
        modules={m.id: m for m in course.modules},
        items={i.id: i for m in course.modules for i in m.items},
        **_common(scope),
    )


@bp.route("/modules/")
def modules() -> str:
    scope = _scope()
    return render_template("dashboards/modules.html", **_common(scope))


@bp.route("/modules/<module_id>")
def module(module_id: str) -> str:
    scope = _scope()
    course = current_course()
    found = course.module(module_id)
    if found is None:
        abort(404)
    stats = queries.module_statistics(scope, course, found)
    funnel = charts.funnel_chart(
        f"funnel-{found.id}",
        _("Wie viele welche Lerneinheit abgeschlossen haben"),
        [(t, float(n)) for t, n in stats.funnel],
        category_label=_("Lerneinheit"),
    )
    return render_template("dashboards/module.html", stats=stats, funnel=funnel, **_common(scope))


@bp.route("/live")
def live() -> str:
    scope = _scope()
    months = queries.live_statistics(scope)
    chart = charts.bar_chart(
        "live-months",
        _("Anmeldungen und Teilnahme pro Monat"),
        [m.month for m in months],
        [
            charts.Series(_("Angemeldet"), [float(m.signed_up) for m in months]),
            charts.Series(_("Teilgenommen"), [float(m.attended) for m in months]),
            charts.Series(_("Nicht erschienen"), [float(m.no_shows) for m in months]),
            charts.Series(_("Warteliste"), [float(m.waitlisted) for m in months]),
        ],
        category_label=_("Monat"),
    )
    return render_template("dashboards/live.html", months=months, chart=chart, **_common(scope))


@bp.route("/not-started")
def not_started() -> str:
    scope = _scope()
    page = queries.not_started(scope, _int_arg("page", 1) or 1)
    return render_template("dashboards/not_started.html", page=page, **_common(scope))


@bp.route("/reminders", methods=["GET", "POST"])
def reminders_page() -> Any:
    scope = _scope()
    if not scope.may_manage:
        raise Forbidden()
    raw_ids = request.values.getlist("user")
    ids = sorted({int(v) for v in raw_ids if v.isdigit() and len(v) < 10})
    plan = reminders.plan(scope, ids)
    if request.method == "GET":
        return render_template(
            "dashboards/reminders.html",
            plan=plan,
            subject=reminders.DEFAULT_SUBJECT,
            message=reminders.default_message(),
            errors={},
            **_common(scope),
        )
    subject = " ".join(request.form.get("subject", "").split())
    message = request.form.get("message", "").replace("\r\n", "\n").strip()
    errors = reminders.check(subject, message)
    if errors or not plan.to_send:
        return render_template(
            "dashboards/reminders.html",
            plan=plan,
            subject=subject,
            message=message,
            errors=errors or {"recipients": _("Niemand aus der Auswahl kann jetzt eine Erinnerung bekommen.")},
            **_common(scope),
        ), 422
    sent = reminders.send(plan, subject, message, sender=g.launch.user, sender_role=g.launch.role)
    return redirect(url_for(".volunteers", reminded=sent), code=303)
