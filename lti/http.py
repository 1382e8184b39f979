"""HTTP for calls to platforms: every request has a timeout (pylti1p3 sets none)."""

from __future__ import annotations

from typing import Any

import requests

DEFAULT_TIMEOUT = (3.05, 10.0)  # connect, read


class TimeoutSession(requests.Session):
    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "medienwerk-lti/1"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)
