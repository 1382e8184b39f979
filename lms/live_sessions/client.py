"""The app's BigBlueButton client: one per configuration (``BBB_URL``, ``BBB_SECRET``, ``BBB_CHECKSUM``,
``BBB_TIMEOUT``), shared by the pages and the jobs."""

from __future__ import annotations

import requests.adapters
from flask import current_app

from lms.bbb import BBBClient


def bbb_configured() -> bool:
    return bool(current_app.config.get("BBB_URL") and current_app.config.get("BBB_SECRET"))


def get_client() -> BBBClient | None:
    """The app's BBB client (one per configuration), or None when BBB is not configured."""
    cfg = current_app.config
    if not bbb_configured():
        return None
    key = (cfg["BBB_URL"], cfg["BBB_SECRET"], cfg["BBB_CHECKSUM"], float(cfg["BBB_TIMEOUT"]))
    cache = current_app.extensions.setdefault("live_sessions", {})
    client = cache.get("client")
    if client is None or cache.get("key") != key:
        client = BBBClient(key[0], key[1], checksum=key[2], timeout=key[3])
        # a pool big enough for a join surge (default 10 discards connections under load)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        client.session.mount("http://", adapter)
        client.session.mount("https://", adapter)
        cache["client"], cache["key"] = client, key
    return client
