"""Live sessions (tutorials held in BigBlueButton).

The BBB API client lives in :mod:`lms.live_sessions.bbb`; its test/demo twin in
:mod:`lms.demo.bbb_double`.
"""
