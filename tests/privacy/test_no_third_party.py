"""No third-party requests (Art. 25 DSGVO, privacy by default): every page the tool serves, rendered in real
Chromium, asks only the tool and its loopback doubles for anything; and no template or static file names an
http(s) URL (only XML namespaces; LMS and BigBlueButton addresses come from data)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from lms.core.resources import TEMPLATES_DIR
from lms.demo.bbb_double import create_bbb_double
from tests.conftest import LiveServer, Lti
from tests.deep_linking.conftest import DeepLinking

STATIC_DIR = Path(__file__).resolve().parents[2] / "lms" / "static"
COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
BBB_SECRET = "no-third-party-secret-3b8e61f0c2d94a57"
# XML namespaces are names, not addresses: nothing is fetched from them
NAMESPACES = (
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/XML/1998/namespace",
)
DOWNLOADS = (".csv", ".xlsx", ".json", ".ics", ".pdf", ".zip")
PAGES_PER_ROLE = 150


class Recorder:
    """Every request any page or frame of a browser context makes; the ones to other origins."""

    def __init__(self, *allowed: str) -> None:
        self.allowed = {_origin(url) for url in allowed}
        self.requests: list[str] = []
        self.foreign: list[str] = []

    def __call__(self, request: Any) -> None:
        url = request.url
        self.requests.append(url)
        scheme = urlsplit(url).scheme
        if scheme in ("data", "blob", "about"):
            return  # no network
        if scheme not in ("http", "https", "ws", "wss") or _origin(url) not in self.allowed:
            self.foreign.append(url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".replace("ws://", "http://").replace("wss://", "https://")


def _page_key(url: str) -> str:
    """A tool page's path without the launch token (two launches of one role show the same pages)."""
    return re.sub(r"^/t/[^/]+", "/t", urlsplit(url).path)


def _crawl(
    page: Any, starts: list[str], tool_url: str, content_seen: set[str], limit: int = PAGES_PER_ROLE
) -> list[str]:
    """Open the start pages and every tool page linked from them (each page once; a module's pages once for all
    roles, in ``content_seen``); returns the URLs opened."""
    from playwright.sync_api import Error as PlaywrightError

    queue, seen, opened = list(starts), set[str](), []
    while queue and len(opened) < limit:
        url = queue.pop(0)
        key = _page_key(url)
        if key in seen or key in content_seen:
            continue
        seen.add(key)
        if key.startswith("/t/m/") and key.count("/") >= 4:
            content_seen.add(key)
        try:
            page.goto(url, wait_until="load")
        except PlaywrightError:  # a download or an aborted navigation: nothing rendered
            continue
        opened.append(url)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            href = href.split("#")[0]
            parts = urlsplit(href)
            if not href.startswith(tool_url + "/") or _page_key(href) in seen:
                continue
            if parts.path.endswith(DOWNLOADS) or "export" in parts.path or "lang=" in parts.query:
                continue
            queue.append(href)
    return opened


@pytest.fixture
def bbb_url(lti: Lti) -> Iterator[str]:
    """The BigBlueButton double on its own loopback port, configured for the tool (live tutorials on)."""
    double_app = create_bbb_double(BBB_SECRET, "sha256")
    server = LiveServer(double_app).start()
    url = server.url + "/bigbluebutton/"
    lti.app.config.update(BBB_URL=url, BBB_SECRET=BBB_SECRET, BBB_CHECKSUM="sha256")
    yield url
    double_app.extensions["bbb_double"].release_hangs()
    server.stop()


def _schedule_tutorial(trainer_landing: requests.Response) -> None:
    """A live tutorial in the trainer's course, through the scheduling form (so its pages exist)."""
    base = trainer_landing.url.rstrip("/")
    http = requests.Session()
    form = http.get(base + "/live/new", timeout=10)
    assert form.status_code == 200, form.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, form.text[:300]
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    data = {
        "csrf_token": csrf.group(1),
        "title": "Sicher im Netz – live",
        "date": start.date().isoformat(),
        "time": f"{start:%H:%M}",
        "tz": "UTC",
        "duration": "60",
        "audience": "course",
        "early_entry": "15",
        "weeks": "1",
    }
    created = http.post(base + "/live/new", data=data, allow_redirects=False, timeout=10)
    assert created.status_code == 303, created.text[:1000]


pytestmark = pytest.mark.browser


def test_no_page_asks_another_host_for_anything(lti: Lti, bbb_url: str, browser: Any) -> None:
    tool = lti.tool.url
    trainer = lti.launch("trainer")
    _schedule_tutorial(trainer)
    starts = {
        "trainer": [trainer.url, DeepLinking(lti).open_picker()[1].url],
        "volunteer": [lti.launch("volunteer").url],
        "coordinator": [lti.launch("coordinator").url],
        "volunteer without name, in English": [lti.launch("volunteer-private").url + "?lang=en"],
    }
    recorder = Recorder(tool, lti.platform.url, bbb_url)
    context = browser.new_context()
    context.on("request", recorder)
    page = context.new_page()

    opened: dict[str, list[str]] = {}
    content_seen: set[str] = set()  # lessons look the same to every role: each opened once
    for role, urls in starts.items():
        opened[role] = _crawl(page, urls, tool, content_seen)
    for role in ("trainer", "volunteer", "coordinator"):
        assert len(opened[role]) >= 5, (role, opened[role])
    assert any("/live/" in url for url in opened["volunteer"]), opened["volunteer"]
    assert any("/deep-linking/" in url for url in opened["trainer"])

    # the public pages and the error pages
    public = _crawl(page, [tool + "/privacy", tool + "/accessibility", tool + "/privacy?lang=en"], tool, set())
    assert {urlsplit(url).path for url in public} >= {"/privacy", "/accessibility"}
    for url, status in (
        (tool + "/t/expired/", 401),
        (tool + "/nowhere", 404),
        (tool + "/lti/launch", 405),
        (tool + "/lti/login?iss=https%3A%2F%2Funknown.example&login_hint=x&target_link_uri=x", 400),
    ):
        response = page.goto(url)
        assert response is not None and response.status == status, url

    # the demo LMS page, launching the tool in its iframe
    page.goto(lti.platform.url + "/")
    page.get_by_role("link", name="Botschafterin Lena (Lernende)").click()
    page.frame_locator("iframe[name=tool]").get_by_text("Hallo Lena Schreiner!").first.wait_for(timeout=15000)
    context.close()

    assert len(recorder.requests) > 100
    assert recorder.foreign == []


def _files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes)


def test_templates_and_static_files_name_no_other_server() -> None:
    files = _files(TEMPLATES_DIR, (".html", ".txt", ".xml", ".svg")) + _files(
        STATIC_DIR, (".css", ".js", ".svg", ".html", ".json", ".webmanifest")
    )
    assert len(files) > 20
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        # an address names a host; a bare scheme in a hint ("beginnt mit https://") names none
        for match in re.finditer(r"(?i)\b(?:https?|wss?)://[^\s\"'<>)/][^\s\"'<>)]*", text):
            if match.group(0).rstrip("/;,") not in NAMESPACES:
                problems.append(f"{path}: {match.group(0)}")
        # protocol-relative addresses load from another server too
        for match in re.finditer(
            r"""(?i)(?:src|href|action|srcset)\s*=\s*["']//|url\(\s*["']?//|@import\s+["']//""", text
        ):
            problems.append(f"{path}: {match.group(0)}")
    assert problems == []


def test_course_content_embeds_nothing_from_other_servers() -> None:
    """Links in lessons are fine (a person follows them); images, frames and scripts would load by themselves."""
    problems = []
    for path in _files(COURSES_DIR, (".md", ".yaml", ".yml", ".html")):
        text = path.read_text(encoding="utf-8")
        pattern = (
            r"""!\[[^\]]*\]\(\s*<?(?:https?:)?//"""
            r"""|<(?:img|iframe|script|video|audio|source|embed|object)\b[^>]*(?:src|data)\s*=\s*["']?(?:https?:)?//"""
        )
        for match in re.finditer(pattern, text, re.I):
            problems.append(f"{path}: {match.group(0)}")
    assert problems == []


def test_the_recorder_sees_requests_to_other_hosts(browser: Any) -> None:
    """The check above would notice: a page that embeds from elsewhere is caught."""
    recorder = Recorder("http://127.0.0.1:1")
    context = browser.new_context()
    context.on("request", recorder)
    page = context.new_page()
    page.set_content(
        '<img alt="" src="http://third-party.invalid/pixel.png">'
        '<img alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
    )
    context.close()
    assert recorder.foreign == ["http://third-party.invalid/pixel.png"]
