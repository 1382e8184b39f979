"""medienwerk: an LTI 1.3 tool for the digital and media skills of the crafts' volunteer ambassadors.

``lms:create_app()`` is the WSGI entry (CONTRACT: Names); the factory lives in :mod:`lms.app`.
"""

from lms.app import create_app

__all__ = ["create_app"]
