"""The ground floor of the application: what every domain may use and what uses no domain.

- ``config``: every setting with its default, read from ``MEDIENWERK_*`` variables in one place.
- ``db``, ``extensions``: the SQLAlchemy base, UTC times, the unit of work helpers; the Flask extensions.
- ``errors``: the :class:`~lms.core.errors.DomainError` family and the one place errors become pages.
- ``state``: short-lived state shared by all processes (database or Redis).
- ``jobs``: background jobs on huey (embedded or Redis).
- ``launch_session``, ``security``, ``blueprints``: the launch context of pages after a launch (token, CSRF,
  roles) and the blueprint factory for them.
- ``signals``: how a lower domain tells higher ones that something happened (connected in ``create_app``).
- ``urls``, ``logs``, ``resources``: absolute URLs, log redaction, shipped files.

An import-linter contract (pyproject.toml) keeps it from importing any domain.
"""
