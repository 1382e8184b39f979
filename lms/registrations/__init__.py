"""LTI Dynamic Registration: one-time invitations (``medienwerk platform invite``) and ``/lti/register``."""
