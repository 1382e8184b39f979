"""Property-based tests of the three parsers that read what others wrote: LTI claims (from any platform), BBB's
XML answers (from any server or proxy in between) and course content (from authors). Whatever they get, they
answer with their own error type or a result, never with another exception."""

from __future__ import annotations

import contextlib
import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.bbb import parsing  # the BBB client's XML reader (lms/bbb since the BBB refactor)
from lms.bbb.errors import BBBError
from lti.claims import AGS, DL, LTI, NRPS, Launch, parse_launch
from lti.errors import LtiError

SETTINGS = settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])

# --- LTI claims ---------------------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
CLAIMS = [
    "iss",
    "sub",
    "aud",
    "name",
    "given_name",
    "family_name",
    "email",
    LTI + "message_type",
    LTI + "version",
    LTI + "deployment_id",
    LTI + "roles",
    LTI + "context",
    LTI + "resource_link",
    LTI + "custom",
    LTI + "launch_presentation",
    LTI + "tool_platform",
    LTI + "target_link_uri",
    LTI + "for_user",
    AGS,
    NRPS,
    DL,
]
# bodies with the claims an LMS sends, each absent or any JSON value, plus some other keys
bodies = st.fixed_dictionaries({}, optional={claim: json_values for claim in CLAIMS}).flatmap(
    lambda known: st.dictionaries(st.text(max_size=12), json_values, max_size=3).map(lambda extra: {**extra, **known})
)
# well-formed claims around which the others vary: more bodies get past the required ones
valid_core = st.fixed_dictionaries(
    {
        "iss": st.just("https://lms.example.org"),
        "sub": st.text(min_size=1, max_size=20),
        LTI + "deployment_id": st.text(min_size=1, max_size=10),
        LTI + "message_type": st.sampled_from(["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]),
        LTI + "roles": st.lists(st.text(max_size=60), max_size=3),
    }
)


@SETTINGS
@given(body=bodies)
def test_parse_launch_answers_any_body_with_a_launch_or_an_lti_error(body: dict[str, Any]) -> None:
    try:
        launch = parse_launch(body, "client-1")
    except LtiError:
        return
    assert isinstance(launch, Launch)


@SETTINGS
@given(core=valid_core, rest=bodies)
def test_parse_launch_reads_any_optional_claims_of_a_valid_body(core: dict[str, Any], rest: dict[str, Any]) -> None:
    body = {**rest, **core}
    try:
        launch = parse_launch(body, "client-1")
    except LtiError:
        return
    assert launch.issuer == "https://lms.example.org" and launch.deployment_id
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in launch.custom.items())
    for url in (
        launch.return_url,
        launch.ags and launch.ags.lineitems,
        launch.nrps and launch.nrps.context_memberships_url,
    ):
        assert url is None or url.startswith(("http://", "https://"))


@SETTINGS
@given(value=json_values)
def test_parse_launch_refuses_a_body_that_is_not_an_object(value: Any) -> None:
    if isinstance(value, dict):
        return
    try:
        parse_launch(value, "client-1")
    except LtiError:
        return
    raise AssertionError("a body that is not a JSON object was accepted")


# --- BBB's XML ----------------------------------------------------------------------------------------------


TAGS = [
    "response",
    "returncode",
    "messageKey",
    "message",
    "meetingID",
    "createTime",
    "running",
    "attendees",
    "attendee",
    "userID",
    "fullName",
    "role",
    "recordings",
    "recording",
    "recordID",
    "published",
    "state",
    "playback",
    "format",
    "type",
    "url",
    "length",
    "errors",
    "error",
    "hasUserJoined",
    "moderatorCount",
    "participantCount",
    "internalMeetingID",
    "startTime",
    "endTime",
]
xml_text = st.text(alphabet=string.ascii_letters + string.digits + " <>&;/=\"'-_:.", max_size=20)
elements = st.recursive(
    xml_text.map(lambda t: t.replace("<", "&lt;").replace("&", "&amp;") if "<" in t else t),
    lambda inner: st.builds(
        lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>", st.sampled_from(TAGS), st.lists(inner, max_size=4)
    ),
    max_leaves=20,
)
documents = (
    st.builds(lambda body: f"<response>{body}</response>", elements)
    | elements
    | st.binary(max_size=200)
    | st.sampled_from(
        [
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><response>&a;</response>',
            "<html><body>502 Bad Gateway</body></html>",
            "",
            "\ufeff<response><returncode>SUCCESS</returncode></response>",
        ]
    )
)


@SETTINGS
@given(document=documents)
def test_bbb_xml_parser_answers_anything_with_a_tree_or_a_bbb_error(document: str | bytes) -> None:
    try:
        root = parsing.parse_response_xml(document)
    except BBBError:
        return
    # every reader of the parsed answer copes with what it finds, or says it is not a BBB answer
    for read in (
        lambda: parsing.error_from_response(root),
        lambda: parsing.created_meeting(root, "meeting-1"),
        lambda: parsing.meeting_info(root),
        lambda: [parsing.meeting_info(m) for m in root.iter("meeting")],
        lambda: [parsing.recording(r) for r in root.iter("recording")],
    ):
        with contextlib.suppress(BBBError):
            read()


# --- course content ----------------------------------------------------------------------------------------

yaml_scalar = st.none() | st.booleans() | st.integers(-5, 200) | st.text(alphabet=string.printable, max_size=30)
yaml_value = st.recursive(
    yaml_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FRONT_KEYS = ["id", "title", "type", "minutes", "submission", "review", "pass_mark"]
front_matter = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(alphabet=string.ascii_lowercase + "-0123456789", min_size=1, max_size=12) | yaml_value,
        "title": st.text(max_size=30) | yaml_value,
        "type": st.sampled_from(["lesson", "quiz", "task", "video"]) | yaml_value,
        "minutes": yaml_value,
        "submission": st.sampled_from(["link", "text", "checklist", "file"]) | yaml_value,
        "review": yaml_value,
        "pass_mark": yaml_value,
    },
)
markdown_lines = st.lists(
    st.sampled_from(
        [
            "Ein Absatz mit **fett** und *kursiv*.",
            "## Eine Frage? {#q-1}",
            "## Noch eine Frage {#q-2 typ=mehrfach}",
            "## Wahr oder falsch {#q-3 typ=wahr-falsch}",
            "- [x] Richtig",
            "- [ ] Falsch",
            "  Feedback: Weil.",
            "## Checkliste",
            "::: tipp",
            ":::",
            "![Bild](assets/bild.svg)",
            "![](assets/../../etc/passwd)",
            "[Link](../anderes-modul/01-x.md)",
            "<script>alert(1)</script>",
            "| a | b |",
            "|---|---|",
            "---",
            "",
        ]
    )
    | st.text(max_size=40),
    max_size=12,
)


def _yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def course_folders(draw: st.DrawFn) -> dict[str, str]:
    """Relative path → file text of a course folder: modules with module.yaml and content files."""
    files: dict[str, str] = {}
    for m in range(draw(st.integers(1, 2))):
        folder = draw(st.sampled_from([f"m{m + 1}-modul", f"M{m}_Bad Name", f"m{m + 1}-modul"]))
        meta = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": st.just(folder) | yaml_value,
                    "title": st.text(max_size=20) | yaml_value,
                    "order": yaml_value,
                    "version": yaml_value,
                    "minutes": yaml_value,
                    "prerequisites": st.lists(st.sampled_from(["m1-modul", "m2-modul", "x"]), max_size=2) | yaml_value,
                    "pass_mark": yaml_value,
                    "digcomp": yaml_value,
                },
            )
        )
        files[f"{folder}/module.yaml"] = draw(st.sampled_from([_yaml(meta), "id: [unclosed", ""]))
        for n in range(draw(st.integers(0, 3))):
            head = draw(front_matter)
            body = "\n".join(draw(markdown_lines))
            raw = draw(st.sampled_from(["front", "none", "broken"]))
            if raw == "front":
                text = f"---\n{_yaml(head)}---\n\n{body}\n"
            elif raw == "none":
                text = body
            else:
                text = f"---\nid: [\n---\n{body}"
            files[f"{folder}/{n + 1:02d}-{draw(st.sampled_from(['lektion', 'test', 'x']))}.md"] = text
    if draw(st.booleans()):
        files["qualifications.yaml"] = _yaml({"qualifications": draw(yaml_value)})
    return files


@SETTINGS
@given(files=course_folders())
def test_the_content_loader_reports_problems_and_never_raises(files: dict[str, str]) -> None:
    from lms.courses.content import Course, load_course

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        course = load_course(root)
    assert isinstance(course, Course)
    for problem in course.problems:
        assert problem.message and problem.line >= 1
    for module in course.modules:  # what is served is whole: every item has an id and a title
        assert module.id and all(item.id and item.title for item in module.items)
