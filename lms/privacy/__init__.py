"""Transparency pages: the privacy notice (Art. 13 DSGVO) and the accessibility statement (BITV 2.0), public at
``/privacy`` and ``/accessibility``, linked from every page's footer; the privacy notice also answers an LTI Data
Privacy Launch (lms/launches/views.py)."""
