"""A deep-linking request is answered once: a second submit (a double click, a second tab, the back button)
gets a readable 409 and sends the platform nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import form_fields, page_text
from tests.deep_linking.conftest import DeepLinking


def test_the_second_submit_is_a_readable_409(dl: DeepLinking) -> None:
    session, picker = dl.open_picker()
    first = dl.choose(session, picker, "overview")
    assert first.status_code == 200
    action, _fields = form_fields(first.text)
    # the answer page may post its form to the platform's return URL, and nowhere else
    form_action = next(p for p in first.headers["Content-Security-Policy"].split(";") if "form-action" in p).split()
    return_origin = "{0.scheme}://{0.netloc}".format(urlsplit(action))
    assert return_origin in form_action and "https:" not in form_action and "http:" not in form_action

    second = dl.choose(session, picker, "overview")
    assert second.status_code == 409
    text = page_text(second.text)
    assert "Diese Auswahl wurde schon an die Lernplattform geschickt" in text and "<form" not in second.text
    again = session.get(picker.url, timeout=10)
    assert again.status_code == 409

    done = dl.return_to_platform(session, first)
    assert done.status_code == 200 and len(dl.lti.double.deep_link_responses) == 1


def test_a_form_error_keeps_the_request_for_the_next_try(dl: DeepLinking) -> None:
    session, picker = dl.open_picker()
    assert dl.choose(session, picker).status_code == 400  # nothing chosen
    assert dl.choose(session, picker, "overview").status_code == 200
