"""The demo as a new user meets it: a port in use, readable logs, one grade column per deep-linked module, the
launched role marked in the demo LMS, demo.sh installing only when needed."""

from __future__ import annotations

import logging
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from lms.cli import main
from lms.demo.cli import _SecretScrubber
from lms.demo.personas import LTI
from lms.demo.platform import PlatformDouble, create_platform_app

ROOT = Path(__file__).resolve().parents[1]

# -- the demo ----------------------------------------------------------------------------------------------


def test_demo_on_a_port_in_use_stops_before_the_banner_and_suggests_another(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MEDIENWERK_INSTANCE_PATH", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["demo", "--port", str(port)])
    assert result.exit_code == 1
    assert "DEMO MODE" not in result.output
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert f"--port {port + 1}" in result.output and "./scripts/demo.sh" in result.output
    assert not (tmp_path / "demo.sqlite").exists()  # nothing was prepared


def test_demo_log_lines_carry_no_colour_codes() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s %s', ("\x1b[32mGET /t/x/ HTTP/1.1\x1b[0m", "200", "-"), None
    )
    _SecretScrubber().filter(record)
    assert record.getMessage() == '"GET /t/x/ HTTP/1.1" 200 -'
    assert _SecretScrubber.scrub("\x1b[33mPress CTRL+C to quit\x1b[0m") == "Press CTRL+C to quit"


def test_each_deep_linked_module_gets_its_own_grade_column() -> None:
    double = PlatformDouble(issuer="http://lms.test", tool_launch_url="http://tool.test/lti/launch")
    create_platform_app(double)  # mounts the services (AGS) on the double
    services: Any = double.services  # type: ignore[attr-defined]
    ags = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
    overview_item = double.claims("volunteer", "n0")[ags]["lineitem"]
    added = double.add_links(
        {
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
                {
                    "type": "ltiResourceLink",
                    "title": "Sicher im Netz",
                    "url": "http://tool.test/lti/launch",
                    "custom": {"module": "m1"},
                    "lineItem": {"label": "Sicher im Netz", "scoreMaximum": 100, "resourceId": "m1", "tag": "module"},
                },
                {"type": "ltiResourceLink", "title": "Lektion", "url": "http://tool.test/lti/launch"},
            ]
        }
    )
    module_link = added[0]
    claims = double.link_claims("volunteer", "n1", module_link)
    item_url = claims[ags]["lineitem"]
    assert item_url != overview_item
    item = next(i for i in services.lineitems.values() if i["id"] == item_url)
    assert (item["label"], item["resourceId"], item["tag"], item["resourceLinkId"]) == (
        "Sicher im Netz",
        "m1",
        "module",
        module_link["id"],
    )
    assert claims[LTI + "resource_link"]["id"] == module_link["id"]
    # a deep-linking request itself names no line item (it has no resource link)
    assert "lineitem" not in double.deep_linking_claims("trainer", "n2")[ags]


def test_demo_sh_installs_only_when_pyproject_changed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "demo.sh").write_text((ROOT / "scripts" / "demo.sh").read_text())
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    venv_bin = project / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    log = tmp_path / "calls.log"
    (venv_bin / "python").write_text(f'#!/bin/sh\necho "python $*" >> {log}\n')
    (venv_bin / "medienwerk").write_text(f'#!/bin/sh\necho "medienwerk $*" >> {log}\n')
    for tool in venv_bin.iterdir():
        tool.chmod(0o755)

    def run() -> list[str]:
        log.write_text("")
        subprocess.run(["bash", str(project / "scripts" / "demo.sh"), "--port", "5055"], check=True, timeout=30)
        return log.read_text().splitlines()

    first = run()
    assert any("pip install" in line for line in first) and first[-1] == "medienwerk demo --port 5055"
    assert run() == ["medienwerk demo --port 5055"]  # unchanged: no install
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    assert any("pip install" in line for line in run())


def test_demo_lms_marks_the_launched_role_not_always_the_first() -> None:
    double = PlatformDouble(issuer="http://lms.test")
    page = create_platform_app(double).test_client().get("/").get_data(as_text=True)
    buttons = re.findall(r'<a class="([^"]+)" href="launch/', page)
    assert buttons and all("button--secondary" in b for b in buttons)
    script = (ROOT / "lms" / "static" / "demo-platform.js").read_text()
    assert "aria-current" in script
