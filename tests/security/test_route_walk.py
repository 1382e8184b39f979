"""Every route of the app, every method it allows, tried with ids that belong to someone else.

The walk reads the URL map, so a new route is covered the day it is added. For every rule with an id
(``<int:…>``) it substitutes another chamber's ids, and another course's ids, and expects 403 or 404 — never an
answer with the other's data, never a redirect to it, never a 500. Every page for trainers or coordinators answers
a volunteer (and every coordinators' page a trainer) with 403 or 404 even with the volunteer's own ids, and with
exactly 403 where the URL names nothing. A route with an id parameter the walk does not know fails the walk: add
its objects to ``tests/security/conftest.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.progress.helpers import M2
from tests.security.conftest import Actor, CourseData, World, post_data

TOOL = "/t/<lt>"
# the ids the world knows (tests/security/conftest.py), by parameter name
TENANT_IDS = {"chamber_id", "user_id", "session_id", "recording_id", "submission_id", "outbox_id"}
# what a volunteer may open (with their own ids); everything else under /t/ is for trainers or coordinators
VOLUNTEER_BLUEPRINTS = {"home", "courses", "certificate_pages"}
VOLUNTEER_ENDPOINTS = {
    "live_sessions.index",
    "live_sessions.calendar",
    "live_sessions.detail",
    "live_sessions.session_ics",
    "live_sessions.signup",
    "live_sessions.withdraw",
    "live_sessions.join",
    "live_sessions.waiting",
    "live_sessions.status",
    "GET live_sessions.recordings",  # the published ones; refreshing them from BBB (POST) is the trainers'
}
# what only coordinators may open or do (trainers look, coordinators act)
COORDINATOR_ENDPOINTS = {
    "audit.index",
    "dashboards.export",
    "dashboards.reminders_page",
    "personal_data.summary",
    "personal_data.export_json",
    "personal_data.delete",
    "awards.revoke",
    "awards.reissue",
    "chamber_values.index",
    "chamber_values.edit",
}
REFUSED = (403, 404)


@pytest.fixture
def world(module_world: World) -> World:
    """Built once for the module: the walk only reads (a request that changed something is a failure anyway)."""
    return module_world


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _id_params(rule: Rule) -> list[str]:
    return [
        name for name, converter in rule._converters.items() if converter.__class__.__name__.endswith("IntConverter")
    ]


def _content_values(rule: Rule, world: World) -> dict[str, Any]:
    """Values for the parameters that are not tenant ids: content ids and names (the same in every chamber)."""
    from lms.courses.setup import current_course

    with world.app.app_context():
        module = current_course().module(M2)
        assert module is not None and module.task is not None
        item_id = module.task.id
    values: dict[str, Any] = {}
    for name in rule.arguments - {"lt"} - set(_id_params(rule)):
        if name == "module_id":
            values[name] = M2
        elif name == "item_id":
            values[name] = item_id
        elif name == "filename":
            values[name] = "bild.png"
        elif name == "action":
            values[name] = "delete"
        else:  # a string id of a domain the world does not build (e.g. an award): one that does not exist
            values[name] = "999999"
    return values


def _unknown_ids(rule: Rule) -> list[str]:
    return [name for name in _id_params(rule) if name not in TENANT_IDS]


def _call(world: World, actor: Actor | None, rule: Rule, method: str, values: dict[str, Any]) -> Any:
    adapter = world.app.url_map.bind("localhost")
    if actor is not None:
        values = {**values, "lt": actor.token}
    path = adapter.build(rule.endpoint, values, method=method)
    data = post_data(actor) if (method == "POST" and actor is not None) else None
    resp = world.client.open(path, method=method, data=data)
    if resp.status_code in (301, 308):  # a page that moved (an old URL): its new place must refuse as well
        resp = world.client.open(resp.headers["Location"], method=method, data=data)
    return resp


def _foreign_markers(world: World, course: CourseData | None = None) -> list[str]:
    """Text that only the other's pages would show: their people's names and their hand-ins."""
    if course is not None:
        n = world.a.courses.index(course) + 1
        return [f"Vera A{n}", f"Abgabe a{n}"]
    return ["Vera B", "Tom B", "Cora B", "Abgabe b"]


def _assert_refused(resp: Any, what: str, markers: list[str], exact: int | None = None) -> None:
    allowed = (exact,) if exact else REFUSED
    assert resp.status_code in allowed, f"{what}: {resp.status_code} (expected {allowed})"
    text = resp.get_data(as_text=True)
    leaked = [m for m in markers if m in text]
    assert not leaked, f"{what}: shows {leaked}"


def _tool_rules(world: World) -> Iterator[Rule]:
    for rule in sorted(world.app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(TOOL):
            yield rule


def _variants(rule: Rule, own: dict[str, int], other: dict[str, int]) -> Iterator[tuple[str, dict[str, int]]]:
    """Each non-empty set of id parameters taken from the other, the rest from the actor's own."""
    params = _id_params(rule)
    for size in range(1, len(params) + 1):
        for foreign in itertools.combinations(params, size):
            yield "+".join(foreign), {p: (other[p] if p in foreign else own[p]) for p in params}


def test_the_walk_knows_every_id_parameter(world: World) -> None:
    unknown = {rule.rule: _unknown_ids(rule) for rule in world.app.url_map.iter_rules() if _unknown_ids(rule)}
    assert not unknown, f"routes with ids the walk does not build objects for: {unknown}"


@pytest.mark.parametrize("role", ["volunteer", "trainer", "coordinator"])
def test_ids_of_another_chamber_are_refused(world: World, role: str) -> None:
    actor = world.a.actors[role]
    own, other = world.a.courses[0].ids(), world.b.courses[0].ids()
    checked = 0
    for rule in _tool_rules(world):
        if not _id_params(rule) or _unknown_ids(rule):
            continue
        content = _content_values(rule, world)
        for method in _methods(rule):
            for which, ids in _variants(rule, own, other):
                resp = _call(world, actor, rule, method, {**content, **ids})
                _assert_refused(
                    resp, f"{role} {method} {rule.rule} with the other chamber's {which}", _foreign_markers(world)
                )
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", ["volunteer", "trainer"])
def test_ids_of_another_course_are_refused(world: World, role: str) -> None:
    """Trainers and volunteers see their own courses; a coordinator sees the whole chamber (not tested here)."""
    actor = world.a.actors[role]
    other_course = world.a.courses[1]
    own, other = world.a.courses[0].ids(), other_course.ids()
    checked = 0
    for rule in _tool_rules(world):
        if not _id_params(rule) or _unknown_ids(rule):
            continue
        content = _content_values(rule, world)
        for method in _methods(rule):
            for which, ids in _variants(rule, own, other):
                resp = _call(world, actor, rule, method, {**content, **ids})
                _assert_refused(
                    resp,
                    f"{role} {method} {rule.rule} with another course's {which}",
                    _foreign_markers(world, other_course),
                )
                checked += 1
    assert checked >= 20


def _volunteer_may(rule: Rule, method: str) -> bool:
    blueprint = rule.endpoint.split(".")[0]
    return (
        blueprint in VOLUNTEER_BLUEPRINTS
        or rule.endpoint in VOLUNTEER_ENDPOINTS
        or f"{method} {rule.endpoint}" in VOLUNTEER_ENDPOINTS
    )


def test_a_volunteer_gets_no_trainer_or_coordinator_page(world: World) -> None:
    actor = world.a.actors["volunteer"]
    own = world.a.courses[0].ids()
    checked = 0
    for rule in _tool_rules(world):
        if _unknown_ids(rule):
            continue
        values = {**_content_values(rule, world), **{p: own[p] for p in _id_params(rule)}}
        names_nothing = not (rule.arguments - {"lt"})
        for method in _methods(rule):
            if _volunteer_may(rule, method):
                continue
            resp = _call(world, actor, rule, method, values)
            _assert_refused(
                resp, f"volunteer {method} {rule.rule}", ["Vera A2", "Abgabe a1"], exact=403 if names_nothing else None
            )
            checked += 1
    assert checked >= 30


def test_a_trainer_gets_no_coordinator_page(world: World) -> None:
    actor = world.a.actors["trainer"]
    own = world.a.courses[0].ids()
    rules = [r for r in _tool_rules(world) if r.endpoint in COORDINATOR_ENDPOINTS and not _unknown_ids(r)]
    assert len(rules) >= 5
    for rule in rules:
        values = {**_content_values(rule, world), **{p: own[p] for p in _id_params(rule)}}
        names_nothing = not (rule.arguments - {"lt"})
        for method in _methods(rule):
            resp = _call(world, actor, rule, method, values)
            _assert_refused(resp, f"trainer {method} {rule.rule}", [], exact=403 if names_nothing else None)


def test_public_routes_with_ids_refuse_the_other_chambers_objects(world: World) -> None:
    """Routes outside a launch (signed links) named with ids and a forged signature or token."""
    other = world.b.courses[0].ids()
    checked = 0
    for rule in world.app.url_map.iter_rules():
        if rule.rule.startswith(TOOL) or not _id_params(rule) or _unknown_ids(rule):
            continue
        values = {**{k: "forged" for k in rule.arguments}, **{p: other[p] for p in _id_params(rule)}}
        for method in _methods(rule):
            resp = _call(world, None, rule, method, values)
            assert resp.status_code in (400, 403, 404), f"{method} {rule.rule}: {resp.status_code}"
            checked += 1


def test_the_world_is_real(world: World) -> None:
    """The walk proves something only if the same requests with the actor's own ids succeed."""
    trainer = world.a.actors["trainer"]
    own = world.a.courses[0]
    ok = [
        world.client.get(trainer.url(f"live/{own.session_id}/attendance")),
        world.client.get(trainer.url(f"reviews/{own.submission_id}")),
        world.client.get(trainer.url(f"dashboard/volunteers/{own.volunteer_id}")),
        world.client.get(world.a.actors["coordinator"].url(f"dashboard/volunteers/{own.volunteer_id}/data/summary")),
        world.client.get(world.a.actors["volunteer"].url(f"live/{own.session_id}")),
        world.client.get(world.a.actors["coordinator"].url(f"chamber-values/{own.chamber_id}")),
    ]
    assert [r.status_code for r in ok] == [200] * len(ok)
    assert "Vera A1" in ok[0].get_data(as_text=True)
