"""Errors the adapter raises. Each carries a stable ``code`` the application translates for people."""

from __future__ import annotations


class LtiError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``detail`` is English for logs (no personal data)."""

    status = 400

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class LoginError(LtiError):
    """The OIDC third-party-initiated login request cannot be answered."""


class LaunchError(LtiError):
    """An id_token launch was rejected."""

    status = 403


# Codes used by LoginError and LaunchError. The application has a message for each.
CODES = (
    "missing_param",  # a required request parameter is absent
    "unknown_issuer",  # no registration for this issuer
    "unknown_client",  # issuer known, client id not
    "ambiguous_client",  # several registrations for the issuer and no client id sent
    "platform_disabled",  # registration exists but launches are switched off
    "unknown_deployment",  # deployment id not registered for the registration
    "deployment_disabled",
    "state_mismatch",  # state missing or not the one this browser started (cookies blocked?)
    "invalid_token",  # not a JWT, bad signature, unknown kid, no kid, bad timestamps
    "invalid_nonce",  # nonce unknown or already used (replay)
    "invalid_audience",  # aud/azp do not name this tool
    "invalid_message",  # not an LTI 1.3 message, wrong version, required claims missing
    "invalid_claim",  # an id claim (sub, deployment, context, resource link) longer than the spec allows
    "unsupported_message",  # a message type the tool does not handle
    "platform_unreachable",  # the platform's key set could not be fetched
)
