"""medienwerk: an LTI 1.3 tool for the digital and media skills of the crafts' volunteer ambassadors.

``lms:create_app()`` is the WSGI entry (CONTRACT: Names); the factory lives in :mod:`lms.app`. It is imported on
first use, not with the package: gunicorn's master reads ``lms.gunicorn_conf`` and must not load the application,
so that a reload (``systemctl reload medienwerk-web``, SIGHUP) starts workers with the code installed now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lms.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from lms.app import create_app

        return create_app
    raise AttributeError(f"module 'lms' has no attribute {name!r}")
