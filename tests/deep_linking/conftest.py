"""Deep-linking fixtures: a deep-linking launch from the platform double, the picker, the return POST."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.conftest import Lti, form_fields


@dataclass
class DeepLinking:
    lti: Lti

    def open_picker(self, persona: str = "trainer") -> tuple[requests.Session, requests.Response]:
        """A full LtiDeepLinkingRequest launch; returns the browser session and the picker page."""
        session = requests.Session()
        params = self.lti.double.login_params(persona, deep_linking=True)
        login = session.get(self.lti.tool.url + "/lti/login", params=params, timeout=10)
        assert login.status_code == 200, login.text[:300]
        action, fields = form_fields(login.text)
        picker = session.post(action, data=fields, timeout=10)
        return session, picker

    def choose(
        self, session: requests.Session, picker: requests.Response, *entries: str, cancel: bool = False
    ) -> requests.Response:
        csrf = form_fields(picker.text)[1]["csrf_token"]
        data: dict[str, Any] = {"csrf_token": csrf, "entry": list(entries)}
        if cancel:
            data["cancel"] = "1"
        return session.post(picker.url, data=data, timeout=10)

    def return_to_platform(self, session: requests.Session, answer: requests.Response) -> requests.Response:
        """POST the auto-submitting response form to the platform's deep_link_return_url."""
        action, fields = form_fields(answer.text)
        assert action == self.lti.double.issuer + "/deep-link-return"
        return session.post(action, data=fields, timeout=10)

    def link_round_trip(self, *entries: str) -> list[dict[str, Any]]:
        session, picker = self.open_picker()
        answer = self.choose(session, picker, *entries)
        assert answer.status_code == 200, answer.text[:500]
        done = self.return_to_platform(session, answer)
        assert done.status_code == 200, done.text[:500]
        return self.lti.double.links

    def launch_link(self, link_id: str, persona: str = "volunteer") -> requests.Response:
        session = requests.Session()
        params = self.lti.double.login_params(persona, link=link_id)
        login = session.get(self.lti.tool.url + "/lti/login", params=params, timeout=10)
        action, fields = form_fields(login.text)
        return session.post(action, data=fields, timeout=10)


@pytest.fixture
def dl(lti: Lti) -> Iterator[DeepLinking]:
    yield DeepLinking(lti)
