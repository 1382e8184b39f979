"""Certificates: the public verification and key pages, the volunteer's certificates page with its downloads, and
the coordinators' list of awards with revocation and re-issue.

- ``certificates`` (public, no launch): ``/verify/<id>`` (HTML, JSON with ``Accept: application/json``),
  ``/certificates/jwks`` and ``/certificates/keys/<kid>`` (the credential keys), ``/certificates/issuers/<slug>``
  (a chamber's Open Badges issuer profile) and ``/certificates/achievements/<tier>`` (a tier as an Achievement).
- ``certificate_pages``: ``/t/<lt>/certificates/`` the volunteer's certificates, the name form and the downloads
  (PDF, ``.jwt``, ``.json``).
- ``awards``: ``/t/<lt>/dashboard/awards/`` for coordinators (trainers read their courses' awards).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from lms.certificates import credentials, pdf, queries, services
from lms.certificates.models import Award
from lms.core.blueprints import tool_blueprint
from lms.core.errors import Forbidden, Invalid
from lms.core.extensions import db
from lms.core.paging import page_number
from lms.core.urls import tool_url
from lms.courses.setup import current_course
from lms.platforms.models import Chamber
from lms.users.models import User
from lms.users.scope import Scope, scope_of

bp = Blueprint("certificates", __name__)
pages = tool_blueprint("certificate_pages", __name__, "/certificates")
awards = tool_blueprint("awards", __name__, "/dashboard/awards")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _json(data: Any, status: int = 200, *, download: str | None = None, mimetype: str = "application/json") -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), status=status, mimetype=mimetype)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return response


# --- public ----------------------------------------------------------------------------------------------


@bp.get("/verify/<award_id>")
def verify(award_id: str) -> Any:
    """Valid, revoked (or replaced) or unknown, with tier, date and chamber; the name only as the certificate
    shows it. Nothing else about the person."""
    cert = queries.certificate(award_id)
    if _wants_json():
        if cert is None:
            return _json({"id": award_id[:64], "status": "unknown"}, 404)
        data: dict[str, Any] = {
            "id": cert.id,
            "status": cert.state,
            "tier": cert.tier_title,
            "issued": cert.issued_at.date().isoformat(),
            "chamber": cert.chamber_name,
            "name": cert.name,
            "modules": [{"title": m.title, "version": m.version} for m in cert.modules],
            "tutorials_attended": cert.tutorials_attended,
        }
        if cert.revoked_at is not None:
            data["revoked"] = cert.revoked_at.date().isoformat()
        if cert.superseded_by:
            data["superseded_by"] = tool_url("certificates.verify", award_id=cert.superseded_by)
        return _json(data)
    html = render_template("certificates/verify.html", cert=cert, award_id=award_id[:64])
    return Response(html, status=200 if cert is not None else 404)


@bp.get("/certificates/jwks")
def jwks() -> Response:
    """The public keys of the Open Badges credentials (their ``kid`` is the key's own URL)."""
    response = _json(credentials.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/certificates/keys/<kid>")
def key(kid: str) -> Response:
    """One public key as a bare JWK: what the ``kid`` URL in a credential's header dereferences to."""
    found = next((k for k in credentials.published_keys() if k.kid == kid), None)
    if found is None:
        abort(404)
    return _json(credentials.public_jwk(found))


@bp.get("/certificates/issuers/<slug>")
def issuer(slug: str) -> Response:
    """A chamber as an Open Badges issuer (Profile)."""
    chamber = db.session.query(Chamber).filter_by(slug=slug).one_or_none()
    if chamber is None:
        abort(404)
    return _json({"@context": credentials.CONTEXT, **credentials.issuer_profile(chamber.slug, chamber.name)})


@bp.get("/certificates/achievements/<tier_id>")
def achievement(tier_id: str) -> Response:
    """A tier as an Open Badges Achievement: name, description, criteria and its DigComp alignment."""
    course = current_course()
    tier = course.qualification(tier_id)
    if tier is None:
        abort(404)
    modules = queries.module_lines(course, tier.modules)
    data = credentials.achievement(tier.id, tier.title, tier.description, modules, tier.live_tutorials)
    return _json({"@context": credentials.CONTEXT, **data})


# --- the volunteer's certificates --------------------------------------------------------------------------


def _own(award_id: str) -> tuple[queries.Certificate, User, Award]:
    """The launch's own valid award, with a name on it (else 404; without a name: to the name form)."""
    user = g.launch.user
    cert = queries.own_certificate(user.id, award_id)
    if cert is None:
        abort(404)
    if not cert.name:
        abort(redirect(url_for("certificate_pages.index")))
    award = db.session.get(Award, cert.id)
    assert award is not None
    return cert, user, award


@pages.get("/")
def index() -> str:
    user = g.launch.user
    if g.launch.role == "volunteer":
        services.award_if_reached(user.id)
    certs = queries.certificates_of(user.id)
    return _index(certs, user)


def _index(certs: list[queries.Certificate], user: User, *, error: str | None = None, typed: str = "") -> str:
    ask_name = any(c.state == queries.VALID and not c.name for c in certs) and services.needs_name(user)
    return render_template(
        "certificates/index.html",
        certs=certs,
        ask_name=ask_name,
        error=error,
        typed=typed,
        name_max=services.NAME_MAX,
        course=current_course(),
    )


@pages.post("/name")
def name() -> Any:
    user = g.launch.user
    typed = request.form.get("name", "")
    try:
        services.set_typed_name(user, typed)
    except Invalid as exc:
        db.session.rollback()
        return _index(queries.certificates_of(user.id), user, error=str(exc), typed=typed[:200]), 422
    return redirect(url_for("certificate_pages.index", done="name"))


@pages.get("/<award_id>/zertifikat.pdf")
def certificate_pdf(award_id: str) -> Response:
    cert, _user, _award = _own(award_id)
    verify_url = tool_url("certificates.verify", award_id=cert.id)
    body = pdf.render(cert, verify_url, current_app.config["TIMEZONE"])
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="medienwerk-zertifikat-{cert.tier_id}.pdf"'},
    )


def _credential(award_id: str) -> dict[str, Any]:
    cert, user, award = _own(award_id)
    if not award.recipient_salt:
        abort(404)
    return credentials.credential(cert, user, award.recipient_salt)


@pages.get("/<award_id>/open-badge.jwt")
def credential_jwt(award_id: str) -> Response:
    vc = _credential(award_id)
    token = credentials.sign(vc)
    return Response(
        token,
        mimetype="application/jwt",
        headers={"Content-Disposition": f'attachment; filename="medienwerk-open-badge-{award_id}.jwt"'},
    )


@pages.get("/<award_id>/open-badge.json")
def credential_json(award_id: str) -> Response:
    vc = _credential(award_id)
    return _json(vc, download=f"medienwerk-open-badge-{award_id}.json", mimetype="application/vc+ld+json")


# --- coordinators ------------------------------------------------------------------------------------------


def _scope() -> Scope:
    return scope_of(g.launch)


def _managed(award_id: str) -> tuple[Scope, Award]:
    scope = _scope()
    if not scope.may_manage:
        raise Forbidden()
    award = queries.award_in_scope(scope, award_id)
    if award is None:
        abort(404)
    return scope, award


@awards.get("/")
def award_list() -> str:
    scope = _scope()
    course = current_course()
    tier = request.args.get("tier") or None
    if tier is not None and course.qualification(tier) is None:
        tier = None
    state = request.args.get("state") or None
    if state not in (None, queries.VALID, queries.REVOKED, queries.SUPERSEDED):
        state = None
    page = queries.awards_page(scope, page_number(request.args.get("page")), tier, state)
    return render_template(
        "certificates/awards.html",
        scope=scope,
        course=course,
        page=page,
        counts=queries.valid_counts(scope),
        tier=tier,
        state=state,
    )


@awards.get("/<award_id>")
def award_detail(award_id: str) -> str:
    scope = _scope()
    award = queries.award_in_scope(scope, award_id)
    if award is None:
        abort(404)
    return _detail(scope, award)


def _detail(scope: Scope, award: Award, *, error: str | None = None, reason: str = "", status: int = 200) -> Any:
    html = render_template(
        "certificates/award.html",
        scope=scope,
        award=award,
        cert=queries.certificate_of(award),
        error=error,
        reason=reason,
        verify_url=tool_url("certificates.verify", award_id=award.id),
    )
    return html if status == 200 else (html, status)


@awards.post("/<award_id>/revoke")
def revoke(award_id: str) -> Any:
    scope, award = _managed(award_id)
    reason = request.form.get("reason", "")
    try:
        services.revoke(award, reason, actor=g.launch.user, actor_role=g.launch.role)
    except Invalid as exc:
        db.session.rollback()
        return _detail(scope, award, error=str(exc), reason=reason[:500], status=422)
    return redirect(url_for("awards.award_detail", award_id=award.id, done="revoked"))


@awards.post("/<award_id>/reissue")
def reissue(award_id: str) -> Any:
    _scope_, award = _managed(award_id)
    new = services.reissue(award, actor=g.launch.user, actor_role=g.launch.role)
    return redirect(url_for("awards.award_detail", award_id=new.id, done="reissued"))


# --- the module overview's part (templates/certificates/_overview.html) ------------------------------------


def overview_certificates(launch: Any, tiers: Iterable[Any] | None = None) -> list[queries.Certificate]:
    """A volunteer's certificates for the module overview (a template global: the overview belongs to the progress
    domain, which cannot call this one). ``tiers`` is the overview's own tier progress: a tier it shows as reached
    without an award is awarded here, so the common case costs one query."""
    if launch is None or launch.role != "volunteer":
        return []
    certs = queries.certificates_of(launch.user_id)
    held = {c.tier_id for c in certs}
    missing = tiers is None or any(t.achieved and t.qualification.id not in held for t in tiers)
    if missing and services.award_if_reached(launch.user_id):
        certs = queries.certificates_of(launch.user_id)
    return certs
