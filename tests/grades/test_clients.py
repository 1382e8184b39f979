"""The adapter's AGS pieces on their own: score JSON, URLs, error types."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from lti.ags import LineItem, Score, iso_timestamp, scores_url
from lti.tokens import (
    ConflictError,
    PermanentServiceError,
    RetryableServiceError,
    ServiceRegistration,
    SharedTokenCache,
    TokenClient,
    UnauthorizedError,
    cache_key,
    error_for_response,
)


def test_score_from_percent_follows_the_spec_and_moodle() -> None:
    when = dt.datetime(2026, 5, 4, 9, 30, 0, 250000, tzinfo=dt.UTC)
    done = Score.from_percent("u1", 100, timestamp=when, comment="fertig").to_json()
    assert done == {
        "userId": "u1",
        "scoreGiven": 100.0,
        "scoreMaximum": 100.0,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-05-04T09:30:00.250+00:00",
        "comment": "fertig",
    }
    half = Score.from_percent("u1", 50, timestamp=when, pending_review=True).to_json()
    assert (half["activityProgress"], half["gradingProgress"]) == ("InProgress", "Pending")
    assert "comment" not in half
    with pytest.raises(ValueError):
        iso_timestamp(dt.datetime(2026, 1, 1))  # naive


def test_scores_url_keeps_the_query_string() -> None:
    assert (
        scores_url("https://m.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3")
        == "https://m.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"
    )
    assert scores_url("https://p.example/li/7/") == "https://p.example/li/7/scores"


def test_line_item_json_round_trip() -> None:
    item = LineItem(label="M1", score_maximum=100, resource_link_id="rl", tag="medienwerk:m1")
    assert LineItem.from_json({**item.to_json(), "id": "https://x/li/1"}).id == "https://x/li/1"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, UnauthorizedError),
        (409, ConflictError),
        (503, RetryableServiceError),
        (429, RetryableServiceError),
        (400, PermanentServiceError),
        (403, PermanentServiceError),
    ],
)
def test_errors_are_typed(status: int, kind: type) -> None:
    response = requests.Response()
    response.status_code = status
    response._content = b'{"error": "Incorrect score received"}'
    error = error_for_response(response, "AGS score")
    assert type(error) is kind
    assert error.http_status == status and "Incorrect score received" in error.detail


class _AnotherProcessAsks:
    """A shared token cache in which another process holds the right to ask the platform and stores its token
    while this one waits (on this process's second look)."""

    def __init__(self) -> None:
        self.entries: dict[str, object] = {}
        self.looks = 0
        self.locks_tried = 0

    def get(self, key: str) -> object | None:
        self.looks += 1
        if self.looks == 3:  # first look, the look after forget_local, then the other process is done
            self.entries[key] = {"token": "theirs", "expires_at": time.time() + 3600}
        return self.entries.get(key)

    def set(self, key: str, value: object, ttl: int) -> None:
        self.entries[key] = value

    def lock(self, key: str, ttl: int) -> bool:
        self.locks_tried += 1
        return False

    def unlock(self, key: str) -> None:
        raise AssertionError("never locked")

    def forget_local(self, key: str) -> None:
        pass


class _NoTokenEndpoint(requests.Session):
    def request(self, *args: object, **kwargs: object) -> requests.Response:  # type: ignore[override]
        raise AssertionError("this process must not ask the platform")


def _registration() -> ServiceRegistration:
    from lti.keys import generate_key

    return ServiceRegistration(
        issuer="https://lms.example", client_id="c", token_url="https://lms.example/token", key=generate_key()
    )


def test_a_process_takes_the_token_another_process_is_requesting() -> None:
    cache = _AnotherProcessAsks()
    client = TokenClient(_registration(), cache, _NoTokenEndpoint())
    assert isinstance(cache, SharedTokenCache)
    assert client.token(["score"]) == "theirs"
    assert cache.locks_tried >= 1


def test_a_refresh_after_401_waits_for_a_token_other_than_the_stale_one() -> None:
    cache = _AnotherProcessAsks()
    registration = _registration()
    key = cache_key(registration, ["score"])
    cache.entries[key] = {"token": "stale", "expires_at": time.time() + 3600}
    client = TokenClient(registration, cache, _NoTokenEndpoint())
    assert client.token(["score"], refresh=True, stale="stale") == "theirs"
