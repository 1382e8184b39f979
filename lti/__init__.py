"""LTI 1.3 protocol adapter for medienwerk.

The only package that imports pylti1p3. It knows LTI 1.3 and LTI Advantage and nothing about courses or
progress: the application hands it a registry (who is registered), a key store (the tool's keys) and a
state store (nonces, OIDC state), and gets back a frozen, typed :class:`lti.claims.Launch` or an
:class:`lti.errors.LaunchError`.
"""

from lti.claims import Launch
from lti.errors import LaunchError, LoginError, LtiError
from lti.roles import Role, map_role

__all__ = ["Launch", "LaunchError", "LoginError", "LtiError", "Role", "map_role"]
