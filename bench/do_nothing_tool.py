"""The floor of bench/launch.py: a login endpoint and a launch endpoint that validate nothing.

The login answers, like any LTI tool, with a redirect to the platform's authorization endpoint carrying a fresh
state and nonce (and nothing is stored); the launch reads the form and redirects (303) without looking at the
id_token. Served under the same gunicorn settings as the tools, it shows what Flask, gunicorn and the HTTP round
trips cost on this machine.

    BENCH_LTI_CONFIG=/path/to/config.json gunicorn --chdir bench do_nothing_tool:app
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, request

with open(os.environ["BENCH_LTI_CONFIG"]) as fh:
    CONFIG = json.load(fh)

app = Flask(__name__)


@app.route("/login", methods=["GET", "POST"])
def login() -> Any:
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": CONFIG["client_id"],
        "redirect_uri": request.values.get("target_link_uri", ""),
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "login_hint": request.values.get("login_hint", ""),
        "lti_message_hint": request.values.get("lti_message_hint", ""),
    }
    return redirect(CONFIG["auth_login_url"] + "?" + urlencode(params))


@app.route("/launch", methods=["POST"])
def launch() -> Any:
    request.form.get("id_token")
    return redirect("/", code=303)
