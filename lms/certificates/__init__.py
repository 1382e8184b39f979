"""Certificates and Open Badges 3.0: a tier reached is awarded once, as a PDF certificate and as a signed
credential, verifiable by anyone at ``/verify/<id>``; coordinators revoke and re-issue."""
