"""The BBB double behaves like BBB: checksums, lifecycle, XML, callbacks, control surface.

Requests are signed here with an independent signer (reference §1.5), not with the client, so a
signing bug cannot hide in both.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient

from lms import bbb
from lms.demo.bbb_double import BBBDouble, create_bbb_double
from tests.conftest import serve

SECRET = "double-test-secret-0123456789abcdef0123"


def sign(
    call: str,
    params: dict[str, Any],
    secret: str = SECRET,
    algo: str = "sha256",
    *,
    quote_via: Callable[..., str] | None = None,
) -> str:
    norm = {
        k: ("true" if v is True else "false" if v is False else str(v))
        for k, v in sorted(params.items())
        if v is not None
    }
    qs = urlencode(norm, quote_via=quote_via) if quote_via else urlencode(norm)
    cs = hashlib.new(algo, (call + qs + secret).encode("utf-8")).hexdigest()
    return f"{qs}&checksum={cs}" if qs else f"checksum={cs}"


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """Calls the double through Flask's test client and parses the XML."""

    def __init__(self, app: Flask, secret: str = SECRET, algo: str = "sha256") -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        self.secret = secret
        self.algo = algo
        self.double: BBBDouble = app.extensions["bbb_double"]

    def raw(self, call: str, query: str) -> Any:
        return self.http.get(f"/bigbluebutton/api/{call}?{query}")

    def get(self, call: str, **params: Any) -> Any:
        return self.raw(call, sign(call, params, self.secret, self.algo))

    def xml(self, call: str, **params: Any) -> Any:
        response = self.get(call, **params)
        assert response.status_code == 200
        assert response.content_type.startswith("text/xml")
        return bbb.parse_response_xml(response.data)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> Iterator[Api]:
    app = create_bbb_double(SECRET, clock=clock, empty_meeting_seconds=300, last_user_left_seconds=60)
    api = Api(app)
    yield api
    api.double.wait_for_callbacks(5)


def key(root: Any) -> str | None:
    return root.findtext("messageKey") or root.findtext("errors/error/key")


# --------------------------------------------------------------------------------------------
# checksums
# --------------------------------------------------------------------------------------------


def test_checksum_error_is_exactly_like_bbb(api: Api) -> None:
    response = api.raw("getMeetings", "checksum=" + "0" * 64)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == (
        "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>"
        "<message>Checksums do not match</message></response>"
    )


def test_documented_vector_is_accepted() -> None:
    app = create_bbb_double("639259d4-9dd8-4b25-bf01-95f9567eaf4b", "sha1")
    api = Api(app, "639259d4-9dd8-4b25-bf01-95f9567eaf4b", "sha1")
    query = (
        "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
        "&checksum=1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"
    )
    root = bbb.parse_response_xml(api.raw("create", query).data)
    assert root.findtext("returncode") == "SUCCESS"
    assert root.findtext("attendeePW") == "111222"
    percent = api.raw("getMeetings", "checksum=2027baa7771026e9e93392f55031535d1444c41f")
    assert b"SUCCESS" in percent.data


@pytest.mark.parametrize(
    "query",
    [
        "meetingID=x1",  # missing
        "meetingID=x1&checksum=",  # empty
        "meetingID=x1&checksum=abc",  # no known length
    ],
)
def test_missing_or_malformed_checksum(api: Api, query: str) -> None:
    assert key(bbb.parse_response_xml(api.raw("isMeetingRunning", query).data)) == "checksumError"


def test_duplicate_checksum_parameter_is_rejected(api: Api) -> None:
    good = sign("isMeetingRunning", {"meetingID": "x1"})
    cs = good.rpartition("checksum=")[2]
    root = bbb.parse_response_xml(api.raw("isMeetingRunning", f"{good}&checksum={cs}").data)
    assert key(root) == "checksumError"


def test_checksum_covers_the_raw_query(api: Api) -> None:
    # %20 and + are both fine when signed as sent; re-encoding after signing is not
    params = {"meetingID": "x-1", "name": "Zwei Worte"}
    plus = sign("create", params)
    pct = sign("create", params, quote_via=lambda s, *a, **k: quote(s, safe=""))
    assert "Zwei+Worte" in plus and "Zwei%20Worte" in pct
    assert b"SUCCESS" in api.raw("create", plus).data
    assert b"SUCCESS" in api.raw("create", pct).data
    tampered = plus.replace("Zwei+Worte", "Zwei%20Worte")
    assert key(bbb.parse_response_xml(api.raw("create", tampered).data)) == "checksumError"
    upper = plus[: plus.rindex("=") + 1] + plus[plus.rindex("=") + 1 :].upper()
    assert b"SUCCESS" in api.raw("create", upper).data


def test_checksum_over_call_name(api: Api) -> None:
    query = sign("getMeetingInfo", {"meetingID": "x1"})
    assert key(bbb.parse_response_xml(api.raw("isMeetingRunning", query).data)) == "checksumError"


@pytest.mark.parametrize("algo", ["sha1", "sha256", "sha384", "sha512"])
def test_only_configured_algorithms_are_accepted(algo: str) -> None:
    api = Api(create_bbb_double(SECRET, algo), algo=algo)
    assert api.xml("getMeetings").findtext("returncode") == "SUCCESS"
    for other in {"sha1", "sha256", "sha384", "sha512"} - {algo}:
        api.algo = other
        assert key(api.xml("getMeetings")) == "checksumError"


def test_scalelite_flavor_refuses_sha384() -> None:
    app = create_bbb_double(SECRET, ["sha256", "sha384"], flavor="scalelite")
    api = Api(app, algo="sha384")
    root = api.xml("getMeetings")
    assert key(root) == "checksumError"
    assert root.findtext("message") == "You did not pass the checksum security check"
    api.algo = "sha256"
    assert api.xml("getMeetings").findtext("returncode") == "SUCCESS"
    version = bbb.parse_response_xml(api.http.get("/bigbluebutton/api").data)
    assert version.findtext("apiVersion") is None
    assert version.findtext("build") == "double"


def test_empty_secret_disables_the_check() -> None:
    api = Api(create_bbb_double(""))
    assert b"SUCCESS" in api.raw("getMeetings", "").data


def test_api_root_needs_no_checksum(api: Api) -> None:
    for path in ("/bigbluebutton/api", "/bigbluebutton/api/"):
        root = bbb.parse_response_xml(api.http.get(path).data)
        assert root.findtext("returncode") == "SUCCESS"
        assert root.findtext("apiVersion") == "2.0"


def test_prefix_is_configurable() -> None:
    app = create_bbb_double(SECRET, prefix="/bbb")
    response = app.test_client().get("/bbb/api/getMeetings?" + sign("getMeetings", {}))
    assert b"SUCCESS" in response.data


# --------------------------------------------------------------------------------------------
# create
# --------------------------------------------------------------------------------------------


def test_create_answers_like_bbb(api: Api, clock: FakeClock) -> None:
    root = api.xml("create", meetingID="tutorial-42", name="Tutorial 42")
    assert root.findtext("returncode") == "SUCCESS"
    create_time = int(root.findtext("createTime"))
    assert abs(create_time - clock.now * 1000) < 2
    internal = root.findtext("internalMeetingID")
    assert internal == hashlib.sha1(b"tutorial-42").hexdigest() + f"-{create_time}"  # noqa: S324
    assert root.findtext("parentMeetingID") == "bbb-none"
    assert len(root.findtext("voiceBridge")) == 5
    assert len(root.findtext("attendeePW")) == 8
    assert root.findtext("hasUserJoined") == "false"
    assert root.findtext("messageKey") == ""
    assert " UTC " in root.findtext("createDate")


def test_duplicate_create(api: Api) -> None:
    first = api.xml("create", meetingID="m-dup", name="Original", record=True)
    again = api.xml("create", meetingID="m-dup", name="Changed", record=False)
    assert key(again) == "duplicateWarning"
    assert again.findtext("returncode") == "SUCCESS"
    assert again.findtext("internalMeetingID") == first.findtext("internalMeetingID")
    assert api.double.meetings["m-dup"].name == "Original"
    assert api.double.meetings["m-dup"].record is True
    assert api.double.create_count("m-dup") == 1
    assert api.double.call_count("create", "m-dup") == 2


def test_create_with_other_passwords_is_not_unique(api: Api) -> None:
    api.xml("create", meetingID="m-pw", name="Passwort", attendeePW="ap", moderatorPW="mp")
    same = api.xml("create", meetingID="m-pw", name="Passwort", attendeePW="ap", moderatorPW="mp")
    assert key(same) == "duplicateWarning"
    other = api.xml("create", meetingID="m-pw", name="Passwort", attendeePW="xx", moderatorPW="mp")
    assert other.findtext("returncode") == "FAILED"
    assert key(other) == "idNotUnique"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "No id"}, "missingParamMeetingID"),
        ({"meetingID": "a", "name": "Short id"}, "sizeError"),
        ({"meetingID": "a,b", "name": "Comma"}, "validationError"),
        ({"meetingID": "no-name"}, "missingParamName"),
        ({"meetingID": "m-x", "name": "Pw", "attendeePW": "x"}, "invalidPassword"),
    ],
)
def test_create_validation(api: Api, params: dict[str, str], expected: str) -> None:
    root = api.xml("create", **params)
    assert root.findtext("returncode") == "FAILED"
    assert key(root) == expected


def test_meta_parameters_are_lower_cased_and_filtered(api: Api) -> None:
    api.xml(
        "create",
        meetingID="m-meta",
        name="Meta",
        meta_endCallbackUrl="https://x/cb",
        **{"meta_bbb-origin": "medienwerk", "meta_bad_name": "dropped"},
    )
    assert api.double.meetings["m-meta"].metadata == {
        "endcallbackurl": "https://x/cb",
        "bbb-origin": "medienwerk",
    }


def test_voice_bridge_clash_uses_the_errors_form(api: Api) -> None:
    api.xml("create", meetingID="m-vb1", name="Eins", voiceBridge="70000")
    root = api.xml("create", meetingID="m-vb2", name="Zwei", voiceBridge="70000")
    assert root.find("errors/error/key").text == "nonUniqueVoiceBridge"
    assert isinstance(bbb.error_from_response(root), bbb.BBBError)


def test_concurrent_creates_make_one_meeting() -> None:
    app = create_bbb_double(SECRET)
    double: BBBDouble = app.extensions["bbb_double"]
    query = sign("create", {"meetingID": "m-race", "name": "Race"})
    internal_ids: list[str] = []
    with serve(app) as root:
        url = f"{root}/bigbluebutton/api/create?{query}"
        barrier = threading.Barrier(8)

        def create() -> None:
            barrier.wait()
            with requests.get(url, timeout=5) as response:
                internal_ids.append(bbb.parse_response_xml(response.content).findtext("internalMeetingID") or "")

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert len(internal_ids) == 8
    assert len(set(internal_ids)) == 1
    assert double.create_count("m-race") == 1
    assert double.call_count("create") == 8


# --------------------------------------------------------------------------------------------
# join, attendees, running
# --------------------------------------------------------------------------------------------


def test_join_redirects_to_the_double_client_page(api: Api) -> None:
    created = api.xml("create", meetingID="m-join", name="Fotos <für> alle")
    assert api.xml("isMeetingRunning", meetingID="m-join").findtext("running") == "false"
    response = api.get(
        "join",
        meetingID="m-join",
        fullName="Tina <b>",
        role="moderator",
        userID="t-1",
        createTime=created.findtext("createTime"),
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/bigbluebutton/_double/client?sessionToken=" in location
    page = api.http.get(location)
    text = page.get_data(as_text=True)
    assert "Du bist im Raum" in text
    assert "Fotos &lt;für&gt; alle" in text
    assert "Moderator*in" in text
    assert "Tina &lt;b&gt;" in text and "<b>" not in text  # the name as the double shows it, escaped
    assert api.xml("isMeetingRunning", meetingID="m-join").findtext("running") == "true"

    token = location.rpartition("=")[2]
    left = api.http.post("/bigbluebutton/_double/leave", data={"sessionToken": token})
    assert "Du hast den Raum verlassen" in left.get_data(as_text=True)
    assert api.xml("isMeetingRunning", meetingID="m-join").findtext("running") == "false"


def test_join_without_redirect_answers_xml(api: Api) -> None:
    api.xml("create", meetingID="m-jx", name="XML")
    root = api.xml("join", meetingID="m-jx", fullName="Anna", role="VIEWER", redirect=False)
    assert root.findtext("messageKey") == "successfullyJoined"
    assert root.findtext("user_id").startswith("w_")
    assert len(root.findtext("session_token")) == 16
    attendee = api.xml("getMeetingInfo", meetingID="m-jx").find("attendees/attendee")
    assert attendee.findtext("userID") == root.findtext("user_id")  # default userID


def test_join_with_passwords(api: Api) -> None:
    api.xml("create", meetingID="m-jp", name="Pw", attendeePW="ap", moderatorPW="mp")
    api.get("join", meetingID="m-jp", fullName="Mod", password="mp", userID="m")
    api.get("join", meetingID="m-jp", fullName="View", password="ap", userID="v")
    roles = {
        a.findtext("userID"): a.findtext("role")
        for a in api.xml("getMeetingInfo", meetingID="m-jp").iterfind("attendees/attendee")
    }
    assert roles == {"m": "MODERATOR", "v": "VIEWER"}
    wrong = api.xml("join", meetingID="m-jp", fullName="X", password="nope", redirect=False)
    assert key(wrong) == "invalidPassword"
    missing = api.xml("join", meetingID="m-jp", fullName="X", redirect=False)
    assert key(missing) == "Params required"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"meetingID": "m-je", "role": "VIEWER"}, "missingParamFullName"),
        ({"meetingID": "nope", "fullName": "A", "role": "VIEWER"}, "invalidMeetingIdentifier"),
        (
            {"meetingID": "m-je", "fullName": "A", "role": "VIEWER", "createTime": "1"},
            "mismatchCreateTimeParam",
        ),
        (
            {
                "meetingID": "m-je",
                "fullName": "A",
                "role": "VIEWER",
                "guest": "true",
                "userID": "first",
            },
            "guestDeniedAccess",
        ),
        (
            {"meetingID": "m-je", "fullName": "A", "role": "VIEWER", "userID": "third"},
            "maxParticipantsReached",
        ),
    ],
)
def test_join_errors(api: Api, params: dict[str, str], expected: str) -> None:
    api.xml("create", meetingID="m-je", name="Errors", guestPolicy="ALWAYS_DENY", maxParticipants=2)
    api.double.join("m-je", "One", "VIEWER", "first")
    api.double.join("m-je", "Two", "VIEWER", "second")
    root = api.xml("join", redirect=False, **params)
    assert root.findtext("returncode") == "FAILED"
    assert key(root) == expected


def test_join_error_redirect(api: Api) -> None:
    response = api.get(
        "join",
        meetingID="nope",
        fullName="A",
        role="VIEWER",
        errorRedirectUrl="https://tool.example/joined",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://tool.example/joined?errors=")
    assert "invalidMeetingIdentifier" in response.headers["Location"]


def test_join_after_end_is_forcibly_ended(api: Api) -> None:
    api.xml("create", meetingID="m-fe", name="Forcibly")
    api.xml("end", meetingID="m-fe")
    root = api.xml("join", meetingID="m-fe", fullName="A", role="VIEWER", redirect=False)
    assert key(root) == "meetingForciblyEnded"


def test_guest_waits_when_moderator_must_approve(api: Api) -> None:
    api.xml("create", meetingID="m-guest", name="Guests", guestPolicy="ASK_MODERATOR")
    root = api.xml("join", meetingID="m-guest", fullName="G", role="VIEWER", guest=True, redirect=False)
    assert key(root) == "guestWait"
    assert root.findtext("guestStatus") == "WAIT"
    assert api.xml("getMeetingInfo", meetingID="m-guest").findtext("participantCount") == "0"


def test_meeting_info_shape(api: Api) -> None:
    api.xml("create", meetingID="m-info", name="Info", record=True, meta_course="fotos")
    api.get(
        "join",
        meetingID="m-info",
        fullName="Tina",
        role="MODERATOR",
        userID="t",
        **{"userdata-bbb_skip_check_audio": "true"},
    )
    root = api.xml("getMeetingInfo", meetingID="m-info")
    for tag in (
        "meetingName",
        "meetingID",
        "internalMeetingID",
        "createTime",
        "createDate",
        "voiceBridge",
        "dialNumber",
        "attendeePW",
        "moderatorPW",
        "running",
        "duration",
        "hasUserJoined",
        "recording",
        "hasBeenForciblyEnded",
        "startTime",
        "endTime",
        "participantCount",
        "listenerCount",
        "voiceParticipantCount",
        "videoCount",
        "maxUsers",
        "moderatorCount",
        "attendees",
        "metadata",
        "isBreakout",
    ):
        assert root.find(tag) is not None, tag
    attendee = root.find("attendees/attendee")
    assert attendee.findtext("customdata/bbb_skip_check_audio") == "true"
    assert attendee.findtext("isPresenter") == "true"
    assert root.findtext("metadata/course") == "fotos"
    assert root.findtext("endTime") == "0"
    assert key(api.xml("getMeetingInfo", meetingID="unknown")) == "notFound"
    assert key(api.xml("getMeetingInfo")) == "missingParamMeetingID"


def test_get_meetings(api: Api) -> None:
    empty = api.xml("getMeetings")
    assert key(empty) == "noMeetings"
    assert empty.find("meetings") is not None
    api.xml("create", meetingID="m-a", name="A a")
    api.xml("create", meetingID="m-b", name="B b")
    root = api.xml("getMeetings")
    assert [m.findtext("meetingID") for m in root.iterfind("meetings/meeting")] == ["m-a", "m-b"]


# --------------------------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------------------------


def test_empty_meeting_is_dropped_after_the_configured_time(api: Api, clock: FakeClock) -> None:
    api.xml("create", meetingID="m-empty", name="Empty")
    clock.advance(299)
    assert "m-empty" in api.double.meetings
    clock.advance(2)
    assert key(api.xml("getMeetingInfo", meetingID="m-empty")) == "notFound"
    assert api.double.ended_meetings[-1].forcibly_ended is False
    again = api.xml("create", meetingID="m-empty", name="Empty")
    assert again.findtext("messageKey") == ""
    assert api.double.create_count("m-empty") == 2


def test_meeting_ends_after_last_user_left(api: Api, clock: FakeClock) -> None:
    api.xml("create", meetingID="m-left", name="Left", record=True)
    api.double.join("m-left", "Tina", "MODERATOR", "t")
    clock.advance(600)  # joined: no expiry while someone is in
    assert api.double.meetings["m-left"].running
    api.double.leave("m-left", "t")
    clock.advance(59)
    assert "m-left" in api.double.meetings
    clock.advance(2)
    assert "m-left" not in api.double.meetings
    assert len(api.double.recordings) == 1


def test_duration_ends_the_meeting(api: Api, clock: FakeClock) -> None:
    api.xml("create", meetingID="m-dur", name="Duration", duration=30)
    api.double.join("m-dur", "Tina", "MODERATOR", "t")
    clock.advance(30 * 60 + 1)
    assert key(api.xml("getMeetingInfo", meetingID="m-dur")) == "notFound"
    assert api.double.ended_meetings[-1].forcibly_ended is True


def test_end(api: Api) -> None:
    assert key(api.xml("end", meetingID="none")) == "notFound"
    api.xml("create", meetingID="m-end", name="End", moderatorPW="mp")
    assert key(api.xml("end", meetingID="m-end", password="wrong")) == "invalidPassword"
    assert key(api.xml("end", meetingID="m-end")) == "sentEndMeetingRequest"
    assert "m-end" not in api.double.meetings
    assert api.xml("isMeetingRunning", meetingID="m-end").findtext("running") == "false"


# --------------------------------------------------------------------------------------------
# recordings
# --------------------------------------------------------------------------------------------


def _recorded(api: Api, meeting_id: str, **meta: str) -> str:
    api.xml(
        "create",
        meetingID=meeting_id,
        name=f"Rec {meeting_id}",
        record=True,
        **{f"meta_{k}": v for k, v in meta.items()},
    )
    api.double.join(meeting_id, "Tina", "MODERATOR", "t")
    api.xml("end", meetingID=meeting_id)
    return api.double.ended_meetings[-1].internal_meeting_id


def test_no_recording_without_record_flag(api: Api) -> None:
    api.xml("create", meetingID="m-norec", name="No rec")
    api.xml("end", meetingID="m-norec")
    root = api.xml("getRecordings", meetingID="m-norec")
    assert key(root) == "noRecordings"
    assert root.find("recordings") is not None


def test_recording_listing_and_filters(api: Api) -> None:
    rid = _recorded(api, "m-rec1", course="fotos")
    _recorded(api, "m-rec2", course="video")
    root = api.xml("getRecordings", meetingID="m-rec1")
    recs = root.findall("recordings/recording")
    assert [r.findtext("recordID") for r in recs] == [rid]
    rec = recs[0]
    assert rec.findtext("meetingID") == "m-rec1"
    assert rec.findtext("published") == "true"
    assert rec.findtext("metadata/meetingId") == "m-rec1"
    assert rec.findtext("playback/format/type") == "presentation"
    assert rec.findtext("playback/format/url").endswith(f"/playback/presentation/2.3/{rid}")
    assert len(api.xml("getRecordings").findall("recordings/recording")) == 2
    prefix = hashlib.sha1(b"m-rec2").hexdigest()  # noqa: S324
    assert len(api.xml("getRecordings", recordID=prefix).findall("recordings/recording")) == 1
    assert len(api.xml("getRecordings", meta_course="vid%").findall("recordings/recording")) == 1
    assert len(api.xml("getRecordings", meta_course="%o%").findall("recordings/recording")) == 2
    paged = api.xml("getRecordings", limit=1, offset=1)
    assert len(paged.findall("recordings/recording")) == 1
    assert paged.findtext("pagination/totalElements") == "2"


def test_publish_delete_update(api: Api) -> None:
    rid = _recorded(api, "m-pub")
    assert key(api.xml("publishRecordings", publish="true")) == "missingParamRecordID"
    assert key(api.xml("publishRecordings", recordID=rid)) == "missingParamPublish"
    assert key(api.xml("publishRecordings", recordID="nope", publish="true")) == "notFound"
    assert api.xml("publishRecordings", recordID=rid, publish="false").findtext("published") == "false"
    assert api.double.recordings[rid].state == "unpublished"
    playback = f"/bigbluebutton/_double/playback/presentation/2.3/{rid}"
    assert api.http.get(playback).status_code == 404
    api.xml("publishRecordings", recordID=rid, publish="true")
    assert api.http.get(playback).status_code == 200

    assert api.xml("updateRecordings", recordID=rid, meta_title="Neu").findtext("updated") == "true"
    assert api.double.recordings[rid].metadata["title"] == "Neu"

    assert api.xml("deleteRecordings", recordID=rid).findtext("deleted") == "true"
    assert key(api.xml("getRecordings", meetingID="m-pub")) == "noRecordings"
    assert len(api.xml("getRecordings", state="any").findall("recordings/recording")) == 1
    assert key(api.xml("deleteRecordings", recordID=rid)) == "notFound"


def test_recordings_can_start_unpublished(clock: FakeClock) -> None:
    api = Api(create_bbb_double(SECRET, clock=clock, publish_recordings=False))
    rid = _recorded(api, "m-unpub")
    assert api.double.recordings[rid].state == "unpublished"


# --------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.app = Flask("receiver")

        @self.app.route("/<path:path>", methods=["GET", "POST"])
        def catch(path: str) -> tuple[str, int]:
            with self.cond:
                self.got.append(
                    {
                        "method": request.method,
                        "path": path,
                        "args": dict(request.args),
                        "form": dict(request.form),
                        "headers": dict(request.headers),
                        "json": request.get_json(silent=True),
                    }
                )
                self.cond.notify_all()
            return "", 204

    def wait(self, n: int) -> list[dict[str, Any]]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= n, 5)
            return list(self.got)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with serve(rec.app) as url:
        yield rec, url


def test_all_callbacks_in_order(api: Api, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    api.xml(
        "create",
        meetingID="m-cb",
        name="Callbacks",
        record=True,
        meetingKeepEvents=True,
        **{
            "meta_endCallbackUrl": f"{url}/ended?keep=1",
            "meta_analytics-callback-url": f"{url}/analytics",
            "meta_bbb-recording-ready-url": f"{url}/ready",
        },
    )
    api.double.join("m-cb", "Tina", "MODERATOR", "t")
    api.xml("end", meetingID="m-cb")
    got = rec.wait(3)
    assert [g["path"] for g in got] == ["ended", "analytics", "ready"]
    ended, analytics, ready = got
    assert ended["method"] == "GET"
    assert ended["args"] == {"keep": "1", "recordingmarks": "true", "meetingID": "m-cb"}
    assert analytics["headers"]["User-Agent"] == "BigBlueButton Analytics Callback"
    claims = bbb.verify_analytics_callback(analytics["headers"]["Authorization"], SECRET)
    assert claims["exp"] >= int(api.double.clock()) + 24 * 3600 - 1
    assert analytics["json"]["meeting_id"] == "m-cb"
    assert analytics["json"]["data"]["attendees"][0]["ext_user_id"] == "t"
    assert analytics["json"]["data"]["metadata"]["meeting_name"] == "Callbacks"
    signed = bbb.verify_recording_ready_callback(ready["form"]["signed_parameters"], SECRET)
    assert signed.meeting_id == "m-cb"
    assert signed.record_id in api.double.recordings
    assert api.double.wait_for_callbacks()
    assert [c.status for c in api.double.callback_log] == [204, 204, 204]


def test_no_analytics_without_keep_events(api: Api, receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    api.xml(
        "create",
        meetingID="m-noa",
        name="No analytics",
        **{
            "meta_analytics-callback-url": f"{url}/analytics",
            "meta_endCallbackUrl": f"{url}/ended",
        },
    )
    api.xml("end", meetingID="m-noa")
    assert api.double.wait_for_callbacks()
    assert [g["path"] for g in rec.got] == ["ended"]


def test_failed_callback_is_logged(api: Api) -> None:
    with serve(Flask("closed")) as url:
        pass
    api.xml("create", meetingID="m-fail", name="Fail", meta_endCallbackUrl=f"{url}/ended")
    api.xml("end", meetingID="m-fail")
    assert api.double.wait_for_callbacks()
    [record] = api.double.callback_log
    assert record.kind == "end"
    assert record.status is None
    assert record.error


# --------------------------------------------------------------------------------------------
# control surface
# --------------------------------------------------------------------------------------------


def test_calls_log_without_checksums(api: Api) -> None:
    api.xml("create", meetingID="m-log", name="Log")
    api.raw("getMeetings", "checksum=" + "1" * 64)
    calls = api.double.calls
    assert [c.name for c in calls] == ["create", "getMeetings"]
    assert calls[0].params == {"meetingID": "m-log", "name": "Log"}
    assert calls[0].outcome == "SUCCESS"
    assert calls[1].outcome == "FAILED:checksumError"
    assert all("checksum" not in c.params for c in calls)
    assert SECRET not in repr(api.double)


def test_fail_next_and_respond_next(api: Api) -> None:
    api.double.fail_next(1, status=502, calls=["getMeetings"])
    assert api.get("isMeetingRunning", meetingID="x1").status_code == 200
    failed = api.get("getMeetings")
    assert failed.status_code == 502
    assert failed.content_type.startswith("text/html")
    assert api.get("getMeetings").status_code == 200
    api.double.respond_next("<response><returncode>SUCCESS</returncode></response>", count=2)
    assert api.raw("anything", "").data == b"<response><returncode>SUCCESS</returncode></response>"
    assert api.raw("anything", "").status_code == 200
    assert key(api.xml("hooks/list")) == "unsupportedRequest"


def test_hang_can_be_released() -> None:
    app = create_bbb_double(SECRET, hang_seconds=30)
    double: BBBDouble = app.extensions["bbb_double"]
    with serve(app) as root:
        url = f"{root}/bigbluebutton/api/getMeetings?" + sign("getMeetings", {})
        with pytest.raises(requests.Timeout):
            requests.get(url, timeout=0.3)
        double.release_hangs()
        with requests.get(url, timeout=5) as response:
            assert b"SUCCESS" in response.content
    assert double.call_count("getMeetings") == 2


def test_join_and_end_controls(api: Api) -> None:
    api.xml("create", meetingID="m-ctl", name="Control")
    uid = api.double.join("m-ctl", "Anon")
    assert uid.startswith("w_")
    assert api.double.meetings["m-ctl"].attendees[uid].role == "VIEWER"
    with pytest.raises(KeyError):
        api.double.join("unknown", "X")
    api.double.end("m-ctl")
    assert api.double.meetings == {}
    api.double.reset()
    assert api.double.calls == []
    assert api.double.ended_meetings == []


def test_insert_document(api: Api) -> None:
    api.xml("create", meetingID="m-doc", name="Doc")
    assert api.xml("insertDocument", meetingID="m-doc").findtext("returncode") == "SUCCESS"
    missing = api.xml("insertDocument", meetingID="nope")
    assert isinstance(bbb.error_from_response(missing), bbb.NotFoundError)
