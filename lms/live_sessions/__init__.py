"""Live sessions (tutorials held in BigBlueButton).

The BBB API client is the independent package :mod:`lms.bbb`; its test/demo twin is
:mod:`lms.demo.bbb_double`.
"""
