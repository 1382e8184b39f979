"""A minimal LTI 1.3 tool written the way pylti1p3's README and its Flask example show: the yardstick of
bench/launch.py.

OIDC login and launch through pylti1p3's Flask adapter with its defaults: the registration in a ``ToolConfDict``
(the README's dictionary configuration), nonce and state kept by pylti1p3 itself (its default storage is Flask's
session cookie, which works across gunicorn workers), the platform's key set fetched at every launch (pylti1p3
caches it only when ``set_public_key_caching`` is called; the README mentions it as an option, so
``BENCH_LTI_KEY_CACHE=1`` turns it on, in the process's memory). The launch answers a small page with the user's
name, as the example's page does. It keeps no user, course or anything else.

    BENCH_LTI_CONFIG=/path/to/config.json gunicorn --chdir bench minimal_pylti1p3_tool:app

The configuration (written by bench/launch.py): ``{"issuer", "client_id", "deployment_id", "auth_login_url",
"auth_token_url", "key_set_url", "tool_private_key", "secret_key"}``.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import Any

from flask import Flask
from pylti1p3.contrib.flask import FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict

with open(os.environ["BENCH_LTI_CONFIG"]) as fh:
    CONFIG = json.load(fh)

app = Flask(__name__)
app.secret_key = CONFIG["secret_key"]


class _MemoryCache:
    """The part of flask-caching's interface pylti1p3's cache storage uses, in the process's memory."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def set(self, key: str, value: Any, timeout: int = 0) -> None:
        self._data[key] = value

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


KEY_CACHE = FlaskCacheDataStorage(_MemoryCache()) if os.environ.get("BENCH_LTI_KEY_CACHE") == "1" else None


def tool_conf() -> ToolConfDict:
    settings = {
        CONFIG["issuer"]: [
            {
                "default": True,
                "client_id": CONFIG["client_id"],
                "auth_login_url": CONFIG["auth_login_url"],
                "auth_token_url": CONFIG["auth_token_url"],
                "auth_audience": None,
                "key_set_url": CONFIG["key_set_url"],
                "key_set": None,
                "deployment_ids": [CONFIG["deployment_id"]],
            }
        ]
    }
    conf = ToolConfDict(settings)
    conf.set_private_key(CONFIG["issuer"], CONFIG["tool_private_key"], client_id=CONFIG["client_id"])
    return conf


@app.route("/login/", methods=["GET", "POST"])
def login() -> Any:
    flask_request = FlaskRequest()
    target_link_uri = flask_request.get_param("target_link_uri")
    oidc_login = FlaskOIDCLogin(flask_request, tool_conf())
    return oidc_login.redirect(target_link_uri)


@app.route("/launch/", methods=["POST"])
def launch() -> Any:
    flask_request = FlaskRequest()
    message_launch = FlaskMessageLaunch(flask_request, tool_conf())
    if KEY_CACHE is not None:
        message_launch.set_public_key_caching(KEY_CACHE, cache_lifetime=7200)
    data = message_launch.get_launch_data()
    name = data.get("given_name") or data.get("name") or "du"
    return f"<!doctype html><title>Minimal tool</title><p>Hallo {escape(str(name))}!</p>"
