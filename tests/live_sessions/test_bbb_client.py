"""The BBB client: checksum test vectors, parsing, and calls against the double over loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from flask import Flask, request

from lms import bbb
from lms.bbb import (
    BBBClient,
    BBBError,
    BBBUnavailable,
    CallbackAuthError,
    ChecksumError,
    InvalidResponse,
    NotFoundError,
)
from lms.demo.bbb_double import _JWT as _BBB_SIDE_JWT  # the BBB side signs; lenient with short secrets
from lms.demo.bbb_double import BBBDouble, create_bbb_double
from tests.conftest import serve

SECRET = "bbb-test-secret-0123456789abcdef0123456789"
DOC_SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
DOC_QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
DOC_VECTORS = {
    "sha1": "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17",
    "sha256": "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e",
    "sha384": "891ac633df39d0a1b4f8d597f3e190833216c4b29c4fb51ea3ca72757eeb958d6e7b49a845cf29f5c6019c7d29d029d1",
    "sha512": "de73ad61d11a5c801b68d4bd6ec5248546085cefb0b25c85f3c46249ea93a3a4"
    "b120f92c0a8a58d7512cb77821884951a3b01245f3435dbbef49fff3cc3988b4",
}


# --------------------------------------------------------------------------------------------
# loopback helpers
# --------------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)


class Receiver:
    """A tiny loopback HTTP server recording the callbacks it gets."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.arrived = threading.Condition()
        self.url = ""
        app = Flask("callback_receiver")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def catch(path: str) -> tuple[str, int]:
            item = Received(
                request.method,
                "/" + path,
                dict(request.args),
                dict(request.headers),
                request.get_data(),
                dict(request.form),
            )
            with self.arrived:
                self.requests.append(item)
                self.arrived.notify_all()
            return "ok", 200

        self.app = app

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def by_path(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@dataclass
class Server:
    url: str  # …/bigbluebutton/
    root: str
    double: BBBDouble


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def start_double() -> Iterator[Callable[..., Server]]:
    stack: list[Any] = []

    def start(secret: str = SECRET, checksum: str = "sha256", **options: Any) -> Server:
        app = create_bbb_double(secret, checksum, **options)
        ctx = serve(app)
        root = ctx.__enter__()
        double = app.extensions["bbb_double"]
        stack.append((ctx, double))
        return Server(f"{root}/bigbluebutton/", root, double)

    yield start
    for ctx, double in reversed(stack):
        double.release_hangs()
        double.wait_for_callbacks(5)
        ctx.__exit__(None, None, None)


@pytest.fixture
def server(start_double: Callable[..., Server]) -> Server:
    return start_double()


@pytest.fixture
def make_client() -> Iterator[Callable[..., BBBClient]]:
    clients: list[BBBClient] = []

    def make(url: str, secret: str = SECRET, **kwargs: Any) -> BBBClient:
        client = BBBClient(url, secret, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(server: Server, make_client: Callable[..., BBBClient]) -> BBBClient:
    return make_client(server.url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    with serve(rec.app) as url:
        rec.url = url
        yield rec


def _assert_clean(error: BaseException, secret: str = SECRET) -> None:
    text = str(error) + repr(error)
    assert secret not in text
    assert "checksum=" not in text


# --------------------------------------------------------------------------------------------
# checksums (§1.1 test vectors)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", sorted(DOC_VECTORS))
def test_checksum_matches_documented_vectors(algorithm: str) -> None:
    assert bbb.checksum("create", DOC_QUERY, DOC_SECRET, algorithm) == DOC_VECTORS[algorithm]


def test_checksum_vectors_for_percent20_and_empty_query() -> None:
    query = DOC_QUERY.replace("+", "%20")
    assert bbb.checksum("create", query, DOC_SECRET, "sha1") == ("f1ae295e2cb9a9225152334d12c9db97d2bfee5b")
    assert bbb.checksum("getMeetings", "", DOC_SECRET, "sha1") == ("2027baa7771026e9e93392f55031535d1444c41f")


def test_signed_query_reproduces_the_documented_request() -> None:
    params = {
        "name": "Test Meeting",
        "meetingID": "abc123",
        "attendeePW": "111222",
        "moderatorPW": "333444",
    }
    assert bbb.signed_query("create", params, DOC_SECRET, "sha1", sort=False) == (
        DOC_QUERY + "&checksum=" + DOC_VECTORS["sha1"]
    )
    assert bbb.signed_query("getMeetings", {}, DOC_SECRET, "sha1") == (
        "checksum=2027baa7771026e9e93392f55031535d1444c41f"
    )


def test_build_query_sorts_formats_booleans_and_encodes_spaces_as_plus() -> None:
    query = bbb.build_query({"record": True, "name": "A b&c+ü", "muteOnStart": False, "welcome": None, "duration": 60})
    assert query == "duration=60&muteOnStart=false&name=A+b%26c%2B%C3%BC&record=true"


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError):
        bbb.checksum("create", "", "x", "md5")
    with pytest.raises(ValueError):
        BBBClient("https://bbb.example.org/bigbluebutton/", "x", checksum="sha224")


def test_join_url_is_signed_over_the_exact_query_and_uses_role() -> None:
    client = BBBClient("https://bbb.example.org/bigbluebutton", DOC_SECRET)
    url = client.join_url("tutorial-42", "Anna Müller", "viewer", "user-17", create_time=123)
    parts = urlsplit(url)
    assert parts.path == "/bigbluebutton/api/join"
    query, _, digest = parts.query.rpartition("&checksum=")
    assert digest == bbb.checksum("join", query, DOC_SECRET, "sha256")
    args = dict(parse_qsl(parts.query))
    assert args["role"] == "VIEWER"
    assert args["userID"] == "user-17"
    assert args["createTime"] == "123"
    assert args["fullName"] == "Anna Müller"
    assert "password" not in args
    with pytest.raises(ValueError):
        client.join_url("tutorial-42", "Anna", "ADMIN", "u")
    with pytest.raises(ValueError):
        client.join_url("tutorial-42", " ", "VIEWER", "u")
    client.close()


@pytest.mark.parametrize(
    ("given", "expected", "looks_right"),
    [
        ("https://bbb.example.org/bigbluebutton", "https://bbb.example.org/bigbluebutton/", True),
        ("https://bbb.example.org/bigbluebutton/", "https://bbb.example.org/bigbluebutton/", True),
        (
            "https://bbb.example.org/bigbluebutton/api/",
            "https://bbb.example.org/bigbluebutton/",
            True,
        ),
        (" https://lb.example.org/ ", "https://lb.example.org/", False),
    ],
)
def test_base_url_is_normalised(given: str, expected: str, looks_right: bool) -> None:
    client = BBBClient(given, "secret")
    assert client.base_url == expected
    assert client.url_looks_right is looks_right
    assert "secret" not in repr(client)
    client.close()


def test_meta_names_bbb_would_drop_are_refused(client: BBBClient) -> None:
    with pytest.raises(ValueError, match="meta"):
        client.create("m-meta", "Meta", meta={"bbb_origin": "x"})


# --------------------------------------------------------------------------------------------
# XML parsing
# --------------------------------------------------------------------------------------------


def test_xml_with_doctype_or_entities_is_rejected() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;">]><response><returncode>&lol2;</returncode></response>'
    )
    with pytest.raises(InvalidResponse):
        bbb.parse_response_xml(bomb)
    with pytest.raises(BBBUnavailable):
        bbb.parse_response_xml(b"<response><!ENTITY x 'y'></response>")
    with pytest.raises(InvalidResponse):
        bbb.parse_response_xml("<!doctype html><html><body>Bad gateway</body></html>")


@pytest.mark.parametrize(
    "body",
    [b"", b"Service unavailable", b"<html><body>oops</body></html>", b"<response>", b"{}"],
)
def test_non_bbb_answers_are_invalid(body: bytes) -> None:
    with pytest.raises(InvalidResponse):
        bbb.parse_response_xml(body)


def test_xml_declaration_and_bom_are_accepted() -> None:
    root = bbb.parse_response_xml(
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<response><returncode>SUCCESS</returncode></response>'
    )
    assert root.findtext("returncode") == "SUCCESS"


def test_both_error_forms_are_read() -> None:
    single = bbb.parse_response_xml(
        "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>"
        "<message>Checksums do not match</message></response>"
    )
    error = bbb.error_from_response(single)
    assert isinstance(error, ChecksumError)
    assert (error.message_key, error.message) == ("checksumError", "Checksums do not match")

    listed = bbb.parse_response_xml(
        "<response><returncode>FAILED</returncode><errors><error><key>nonUniqueVoiceBridge</key>"
        "<message>The selected voice bridge is already in use.</message></error>"
        "<error><key>other</key><message>Second</message></error></errors></response>"
    )
    error = bbb.error_from_response(listed)
    assert type(error) is BBBError
    assert error.message_key == "nonUniqueVoiceBridge"
    assert error.errors[1] == ("other", "Second")

    attributes = bbb.parse_response_xml(
        '<response><returncode>FAILED</returncode><errors><error key="notFound" '
        'message="A meeting with that ID does not exist"/></errors></response>'
    )
    error = bbb.error_from_response(attributes)
    assert isinstance(error, NotFoundError)
    assert error.message == "A meeting with that ID does not exist"

    join = bbb.parse_response_xml(
        "<response><returncode>FAILED</returncode><messageKey>invalidMeetingIdentifier"
        "</messageKey><message>x</message></response>"
    )
    assert isinstance(bbb.error_from_response(join), NotFoundError)


# --------------------------------------------------------------------------------------------
# against the double over loopback HTTP
# --------------------------------------------------------------------------------------------


def test_create_is_idempotent(client: BBBClient, server: Server) -> None:
    first = client.create(
        "tutorial-42",
        "Tutorium: Fotos für Social Media",
        record=True,
        mute_on_start=True,
        lock_settings_disable_cam=False,
        duration=90,
    )
    again = client.create("tutorial-42", "A different name", record=False)
    assert not first.duplicate
    assert again.duplicate
    assert again.internal_meeting_id == first.internal_meeting_id
    assert again.create_time == first.create_time
    assert server.double.create_count("tutorial-42") == 1
    meeting = server.double.meetings["tutorial-42"]
    assert meeting.name == "Tutorium: Fotos für Social Media"
    assert meeting.params["muteOnStart"] == "true"
    assert meeting.params["lockSettingsDisableCam"] == "false"
    assert meeting.record is True


def test_create_sends_callbacks_as_meta(client: BBBClient, server: Server) -> None:
    client.create(
        "tutorial-43",
        "Tutorial",
        meta={"bbb-origin": "medienwerk"},
        end_callback_url="https://tool.example/bbb/ended?x=1",
        recording_ready_url="https://tool.example/bbb/recording",
        analytics_callback_url="https://tool.example/bbb/analytics",
        welcome="Willkommen!",
        logout_url="https://tool.example/back",
        guest_policy="ALWAYS_DENY",
    )
    meeting = server.double.meetings["tutorial-43"]
    assert meeting.metadata == {
        "bbb-origin": "medienwerk",
        "endcallbackurl": "https://tool.example/bbb/ended?x=1",
        "bbb-recording-ready-url": "https://tool.example/bbb/recording",
        "analytics-callback-url": "https://tool.example/bbb/analytics",
    }
    assert meeting.params["meetingKeepEvents"] == "true"
    assert meeting.params["welcome"] == "Willkommen!"
    assert meeting.params["logoutURL"] == "https://tool.example/back"
    assert meeting.guest_policy == "ALWAYS_DENY"


def test_join_url_is_accepted_and_meeting_info_lists_attendees(client: BBBClient, server: Server) -> None:
    created = client.create("tutorial-44", "Smartphone-Fotografie", meta={"chamber": "hwk-x"})
    assert client.is_meeting_running("tutorial-44") is False

    url = client.join_url("tutorial-44", "Trainerin Tina", "MODERATOR", "trainer-1", create_time=created.create_time)
    with requests.Session() as browser:
        response = browser.get(url, timeout=5)
        assert response.status_code == 200
        assert "Du bist im Raum" in response.text
        assert "Smartphone-Fotografie" in response.text
        assert "Moderator*in" in response.text
        viewer_url = client.join_url("tutorial-44", "Volker Volunteer", "VIEWER", "vol-2")
        first_hop = browser.get(viewer_url, timeout=5, allow_redirects=False)
        assert first_hop.status_code == 302

    info = client.get_meeting_info("tutorial-44")
    assert info.running is True
    assert info.has_user_joined is True
    assert info.participant_count == 2
    assert info.moderator_count == 1
    assert info.metadata == {"chamber": "hwk-x"}
    assert info.create_time == created.create_time
    by_id = {a.user_id: a for a in info.attendees}
    assert by_id["trainer-1"].role == "MODERATOR"
    assert by_id["trainer-1"].is_moderator is True
    assert by_id["vol-2"].role == "VIEWER"
    assert by_id["vol-2"].full_name == "Volker Volunteer"
    assert client.is_meeting_running("tutorial-44") is True

    server.double.leave("tutorial-44", "trainer-1")
    info = client.get_meeting_info("tutorial-44")
    assert [a.user_id for a in info.attendees] == ["vol-2"]
    assert info.moderator_count == 0


def test_single_and_empty_attendee_lists(client: BBBClient, server: Server) -> None:
    client.create("tutorial-45", "Leer")
    info = client.get_meeting_info("tutorial-45")
    assert info.attendees == ()
    assert info.running is False
    server.double.join("tutorial-45", "Solo", "VIEWER", "only-one")
    info = client.get_meeting_info("tutorial-45")
    assert [a.user_id for a in info.attendees] == ["only-one"]


def test_stale_join_url_is_refused(client: BBBClient, server: Server) -> None:
    created = client.create("tutorial-46", "Alt")
    server.double.end("tutorial-46")
    client.create("tutorial-46", "Neu")
    url = client.join_url("tutorial-46", "Anna", "VIEWER", "a-1", create_time=created.create_time)
    with requests.get(url, timeout=5, allow_redirects=False) as response:
        root = bbb.parse_response_xml(response.content)
    assert root.findtext("messageKey") == "mismatchCreateTimeParam"


def test_unknown_meeting(client: BBBClient) -> None:
    assert client.is_meeting_running("nobody-here") is False
    with pytest.raises(NotFoundError) as caught:
        client.get_meeting_info("nobody-here")
    assert caught.value.message_key == "notFound"
    assert client.get_recordings("nobody-here") == []


def test_end_callback_url_keeps_its_query(client: BBBClient, server: Server, receiver: Receiver) -> None:
    client.create("tutorial-50", "Ende", end_callback_url=f"{receiver.url}/bbb/ended?session=7")
    server.double.join("tutorial-50", "Tina", "MODERATOR", "t-1")
    assert client.is_meeting_running("tutorial-50") is True
    server.double.end("tutorial-50")
    assert client.is_meeting_running("tutorial-50") is False

    got = receiver.wait_for(1)
    assert len(got) == 1
    call = got[0]
    assert call.method == "GET"
    assert call.path == "/bbb/ended"
    assert call.args["session"] == "7"
    assert call.args["meetingID"] == "tutorial-50"
    assert call.args["recordingmarks"] in ("true", "false")
    with pytest.raises(NotFoundError):
        client.get_meeting_info("tutorial-50")


def test_recordings_publish_unpublish_delete_update(client: BBBClient, server: Server, receiver: Receiver) -> None:
    client.create(
        "tutorial-60",
        "Aufzeichnung",
        record=True,
        recording_ready_url=f"{receiver.url}/bbb/recording-ready",
        meta={"course": "fotos"},
    )
    server.double.join("tutorial-60", "Tina", "MODERATOR", "t-1")
    server.double.end("tutorial-60")

    recordings = client.get_recordings("tutorial-60")
    assert len(recordings) == 1
    rec = recordings[0]
    assert rec.meeting_id == "tutorial-60"
    assert rec.published is True
    assert rec.state == "published"
    assert rec.metadata["course"] == "fotos"
    assert rec.url() is not None
    assert rec.playback[0].type == "presentation"
    with requests.get(rec.url() or "", timeout=5) as page:
        assert page.status_code == 200
        assert "Aufzeichnung" in page.text

    ready = receiver.wait_for(1)[0]
    assert ready.method == "POST"
    assert bbb.verify_recording_ready_callback(ready.form["signed_parameters"], SECRET) == (
        bbb.RecordingReady(meeting_id="tutorial-60", record_id=rec.record_id)
    )
    with pytest.raises(CallbackAuthError):
        bbb.verify_recording_ready_callback(ready.form["signed_parameters"], "wrong" * 10)

    assert client.publish_recordings(rec.record_id, False) is False
    [unpublished] = client.get_recordings("tutorial-60")
    assert unpublished.state == "unpublished"
    assert unpublished.published is False
    assert client.publish_recordings(rec.record_id, True) is True
    assert client.get_recordings("tutorial-60")[0].published is True

    assert client.delete_recordings(rec.record_id) is True
    assert client.get_recordings("tutorial-60") == []
    assert server.double.recordings[rec.record_id].state == "deleted"
    with pytest.raises(NotFoundError):
        client.delete_recordings(rec.record_id)
    with pytest.raises(NotFoundError):
        client.publish_recordings("no-such-recording", True)


def test_recording_can_start_unpublished(client: BBBClient, server: Server) -> None:
    client.create("tutorial-61", "Erst prüfen", record=True, meta={"double-autopublish": "false"})
    server.double.end("tutorial-61")
    [rec] = client.get_recordings("tutorial-61")
    assert rec.state == "unpublished"


def test_analytics_callback_round_trip(client: BBBClient, server: Server, receiver: Receiver) -> None:
    client.create("tutorial-62", "Analytics", analytics_callback_url=f"{receiver.url}/bbb/analytics")
    server.double.join("tutorial-62", "Tina", "MODERATOR", "t-1")
    server.double.join("tutorial-62", "Volker", "VIEWER", "v-1")
    server.double.leave("tutorial-62", "v-1")
    server.double.end("tutorial-62")
    call = receiver.wait_for(1)[0]
    assert call.method == "POST"
    assert call.headers["Content-Type"] == "application/json"
    claims = bbb.verify_analytics_callback(call.headers["Authorization"], SECRET)
    assert claims["exp"] > time.time() + 23 * 3600
    report = bbb.parse_analytics_payload(json.loads(call.body))
    assert report.meeting_id == "tutorial-62"
    assert {a.user_id: a.moderator for a in report.attendees} == {"t-1": True, "v-1": False}
    assert all(len(a.joins) == 1 and len(a.leaves) == 1 for a in report.attendees)


@pytest.mark.parametrize("algorithm", bbb.CHECKSUM_ALGORITHMS)
def test_each_checksum_algorithm(
    algorithm: str, start_double: Callable[..., Server], make_client: Callable[..., BBBClient]
) -> None:
    srv = start_double(checksum=algorithm)
    good = make_client(srv.url, checksum=algorithm)
    assert good.create("algo-1", "Algorithmus").internal_meeting_id
    assert good.is_meeting_running("algo-1") is False
    other = "sha512" if algorithm != "sha512" else "sha1"
    with pytest.raises(ChecksumError) as caught:
        make_client(srv.url, checksum=other).get_meeting_info("algo-1")
    _assert_clean(caught.value)


def test_wrong_secret_gives_checksum_error_without_leaking(
    server: Server, make_client: Callable[..., BBBClient]
) -> None:
    wrong = "wrong-secret-0123456789abcdef0123456789"
    client = make_client(server.url, wrong)
    with pytest.raises(ChecksumError) as caught:
        client.create("m-secret", "Secret")
    assert caught.value.message_key == "checksumError"
    _assert_clean(caught.value, wrong)
    # retried? no: a checksumError is an answer, not a transport failure
    assert server.double.call_count("create") == 1


def test_secret_with_whitespace_is_trimmed(server: Server, make_client: Callable[..., BBBClient]) -> None:
    client = make_client(server.url, f"  {SECRET}\n")
    assert client.is_meeting_running("m-trim") is False
    report = client.check()
    assert report.ok
    assert any("spaces" in m for m in report.messages)


def test_hanging_server_times_out_quickly(
    start_double: Callable[..., Server], make_client: Callable[..., BBBClient]
) -> None:
    srv = start_double(hang_seconds=10)
    client = make_client(srv.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BBBUnavailable) as caught:
        client.get_meeting_info("m-hang")
    assert time.monotonic() - started < 5  # generous; the budget is 0.5 s
    assert caught.value.message_key == "timeout"
    _assert_clean(caught.value)
    with pytest.raises(BBBUnavailable):
        client.delete_recordings("r-hang")


def test_connection_refused_is_unavailable(make_client: Callable[..., BBBClient]) -> None:
    with serve(Flask("closed")) as url:
        pass  # the port is closed again now
    client = make_client(f"{url}/bigbluebutton/", timeout=1, retries=1)
    with pytest.raises(BBBUnavailable) as caught:
        client.is_meeting_running("m-x")
    assert caught.value.message_key == "connectionError"
    _assert_clean(caught.value)


def test_html_answers_are_unavailable(client: BBBClient, server: Server) -> None:
    server.double.respond_next("<html><body>Welcome to nginx</body></html>", content_type="text/html")
    with pytest.raises(BBBUnavailable) as caught:
        client.get_meeting_info("m-html")
    assert isinstance(caught.value, InvalidResponse)
    _assert_clean(caught.value)

    server.double.fail_next(3, status=502)
    with pytest.raises(BBBUnavailable) as caught:
        client.get_meeting_info("m-html")
    assert caught.value.message_key == "httpError"
    assert server.double.call_count("getMeetingInfo") == 1 + 3


def test_doctype_answer_over_http_is_rejected(client: BBBClient, server: Server) -> None:
    server.double.respond_next(
        '<?xml version="1.0"?><!DOCTYPE response [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<response><returncode>SUCCESS</returncode><running>&x;</running></response>"
    )
    with pytest.raises(InvalidResponse):
        client.is_meeting_running("m-dtd")


def test_error_forms_over_http(client: BBBClient, server: Server) -> None:
    server.double.respond_next(
        "<response><returncode>FAILED</returncode><errors><error><key>nonUniqueVoiceBridge</key>"
        "<message>The selected voice bridge is already in use.</message></error></errors>"
        "</response>"
    )
    with pytest.raises(BBBError) as caught:
        client.create("m-errors", "Errors")
    assert caught.value.message_key == "nonUniqueVoiceBridge"
    assert caught.value.errors == (("nonUniqueVoiceBridge", "The selected voice bridge is already in use."),)


def test_retries_for_idempotent_calls_only(client: BBBClient, server: Server) -> None:
    double = server.double
    client.create("m-retry", "Retry")

    double.fail_next(2, status=503)
    assert client.get_meeting_info("m-retry").meeting_id == "m-retry"
    assert double.call_count("getMeetingInfo") == 3

    double.fail_next(1, status=500, calls=["create"])
    assert client.create("m-retry", "Retry").duplicate is True
    assert double.call_count("create") == 3  # first create, failed try, retry

    double.fail_next(1, status=503, calls=["deleteRecordings"])
    with pytest.raises(BBBUnavailable):
        client.delete_recordings("r-1")
    assert double.call_count("deleteRecordings") == 1

    double.fail_next(1, status=503, calls=["deleteRecordings", "publishRecordings"])
    with pytest.raises(BBBUnavailable):
        client.publish_recordings("r-1", True)
    assert double.call_count("publishRecordings") == 1


def test_no_retries_when_disabled(server: Server, make_client: Callable[..., BBBClient]) -> None:
    client = make_client(server.url, retries=0)
    server.double.fail_next(1)
    with pytest.raises(BBBUnavailable):
        client.is_meeting_running("m-none")
    assert server.double.call_count("isMeetingRunning") == 1


def test_redirect_is_reported_not_followed(client: BBBClient, server: Server) -> None:
    server.double.respond_next("", status=301, content_type="text/html")
    with pytest.raises(BBBUnavailable) as caught:
        client.is_meeting_running("m-redirect")
    assert caught.value.message_key == "httpRedirect"


# --------------------------------------------------------------------------------------------
# check()
# --------------------------------------------------------------------------------------------


def test_check_ok(client: BBBClient) -> None:
    report = client.check()
    assert report.ok is True
    assert report.version == "2.0"
    assert any("sha256" in m for m in report.messages)


def test_check_wrong_algorithm_names_the_working_one(
    start_double: Callable[..., Server], make_client: Callable[..., BBBClient]
) -> None:
    srv = start_double(checksum="sha256")
    report = make_client(srv.url, checksum="sha1").check()
    assert report.ok is False
    text = " ".join(report.messages)
    assert "secret is right" in text
    assert "MEDIENWERK_BBB_CHECKSUM=sha256" in text


def test_check_wrong_secret(server: Server, make_client: Callable[..., BBBClient]) -> None:
    report = make_client(server.url, "not-the-secret").check()
    assert report.ok is False
    assert any("secret is probably wrong" in m for m in report.messages)
    assert all("not-the-secret" not in m for m in report.messages)


def test_check_sha384_against_scalelite(
    start_double: Callable[..., Server], make_client: Callable[..., BBBClient]
) -> None:
    srv = start_double(checksum=["sha1", "sha256", "sha384", "sha512"], flavor="scalelite")
    report = make_client(srv.url, checksum="sha384").check()
    assert report.ok is False
    assert any("Scalelite" in m and "sha384" in m for m in report.messages)


def test_check_unreachable(make_client: Callable[..., BBBClient]) -> None:
    with serve(Flask("closed")) as url:
        pass
    report = make_client(f"{url}/bigbluebutton/", timeout=1).check()
    assert report.ok is False
    assert report.version is None
    assert any("not reachable" in m for m in report.messages)


def test_check_wrong_path_and_non_bbb_answer(server: Server, make_client: Callable[..., BBBClient]) -> None:
    report = make_client(f"{server.root}/elsewhere/").check()
    assert report.ok is False
    text = " ".join(report.messages)
    assert "/bigbluebutton/" in text
    assert "Not a BigBlueButton API" in text


# --------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------

ANALYTICS_SECRET = "a" * 40  # BBB secrets are shorter than HS512 wants; must still work


def _bearer(claims: dict[str, Any], secret: str, algorithm: str = "HS512") -> str:
    token = _BBB_SIDE_JWT.encode(claims, secret, algorithm=algorithm, headers={"typ": "JWT"})
    return f"Bearer {token}"


def test_analytics_jwt_valid() -> None:
    header = _bearer({"exp": int(time.time()) + 24 * 3600}, ANALYTICS_SECRET)
    assert bbb.verify_analytics_callback(header, ANALYTICS_SECRET)["exp"] > time.time()
    assert bbb.verify_analytics_callback(header.replace("Bearer", "bearer"), ANALYTICS_SECRET)


def test_analytics_jwt_wrong_secret() -> None:
    header = _bearer({"exp": int(time.time()) + 60}, ANALYTICS_SECRET)
    with pytest.raises(CallbackAuthError) as caught:
        bbb.verify_analytics_callback(header, "b" * 40)
    assert caught.value.message_key == "invalidToken"


def test_analytics_jwt_expired() -> None:
    header = _bearer({"exp": int(time.time()) - 3600}, ANALYTICS_SECRET)
    with pytest.raises(CallbackAuthError) as caught:
        bbb.verify_analytics_callback(header, ANALYTICS_SECRET)
    assert caught.value.message_key == "expiredToken"


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic abc", "Bearer ", "Bearer not.a.jwt"],
)
def test_analytics_jwt_malformed(header: str | None) -> None:
    with pytest.raises(CallbackAuthError):
        bbb.verify_analytics_callback(header, ANALYTICS_SECRET)


def test_analytics_jwt_needs_hs512_and_exp() -> None:
    with pytest.raises(CallbackAuthError):
        bbb.verify_analytics_callback(
            _bearer({"exp": int(time.time()) + 60}, ANALYTICS_SECRET, "HS256"), ANALYTICS_SECRET
        )
    with pytest.raises(CallbackAuthError):
        bbb.verify_analytics_callback(_bearer({}, ANALYTICS_SECRET), ANALYTICS_SECRET)
    with pytest.raises(CallbackAuthError):
        bbb.verify_analytics_callback(
            "Bearer " + jwt.encode({"exp": int(time.time()) + 60}, "", algorithm="none"),
            ANALYTICS_SECRET,
        )


def test_parse_analytics_payload_is_defensive() -> None:
    report = bbb.parse_analytics_payload({"data": {"attendees": [None, {"ext_user_id": 5}]}})
    assert report.meeting_id == ""
    assert [a.user_id for a in report.attendees] == ["5"]
    assert bbb.parse_analytics_payload({}).attendees == ()


def test_check_hanging_server(start_double: Callable[..., Server], make_client: Callable[..., BBBClient]) -> None:
    srv = start_double(hang_seconds=10)
    report = make_client(srv.url, timeout=0.5).check()
    assert report.ok is False
    assert any("did not answer within 0.5 s" in m for m in report.messages)
