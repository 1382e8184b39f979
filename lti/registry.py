"""Tool configuration backed by the application's registry (replaces pylti1p3's dict/JSON configs).

pylti1p3's ``ToolConfDict`` raises a bare ``Exception`` for unknown issuers (HTTP 500); here every
"not found" or "switched off" is an :class:`lti.errors.LtiError` with a code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pylti1p3.actions import Action
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti.errors import LaunchError, LoginError, LtiError
from lti.keys import ToolKey


@dataclass(frozen=True)
class PlatformRecord:
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None = None
    enabled: bool = True
    deployments: Mapping[str, bool] = field(default_factory=dict)  # deployment id -> enabled


class PlatformRegistry(Protocol):
    """What the adapter needs to know from the application."""

    def platforms_for_issuer(self, issuer: str) -> Sequence[PlatformRecord]: ...

    def signing_key(self) -> ToolKey: ...

    def public_keys(self) -> Sequence[ToolKey]: ...


def _error(action: Any, code: str, detail: str) -> LtiError:
    return LoginError(code, detail) if action == Action.OIDC_LOGIN else LaunchError(code, detail)


class _Registration(Registration):
    """A registration whose tool key is read only when something signs with it: logins and launches never do,
    so they neither load nor decrypt the private key."""

    def __init__(self, registry: PlatformRegistry) -> None:
        super().__init__()
        self._registry = registry

    def get_tool_private_key(self) -> str | None:
        if self._tool_private_key is None:
            self.set_tool_private_key(self._registry.signing_key().private_pem)
        return self._tool_private_key


class RegistryToolConf(ToolConfAbstract):
    def __init__(self, registry: PlatformRegistry) -> None:
        super().__init__()
        self.registry = registry
        # the base class keeps this dict on the class, shared by every instance
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_record(self, iss: str, client_id: str | None, action: Any = None) -> PlatformRecord:
        records = list(self.registry.platforms_for_issuer(iss))
        if not records:
            raise _error(action, "unknown_issuer", "issuer is not registered")
        if client_id:
            records = [r for r in records if r.client_id == client_id]
            if not records:
                raise _error(action, "unknown_client", "client id is not registered for the issuer")
        elif len(records) > 1:
            raise _error(action, "ambiguous_client", "several registrations; client_id needed")
        record = records[0]
        if not record.enabled:
            raise _error(action, "platform_disabled", "registration is disabled")
        return record

    def _registration(self, record: PlatformRecord) -> Registration:
        reg = _Registration(self.registry)
        reg.set_issuer(record.issuer)
        reg.set_client_id(record.client_id)
        reg.set_auth_login_url(record.auth_login_url)
        reg.set_auth_token_url(record.auth_token_url)
        if record.auth_audience:
            reg.set_auth_audience(record.auth_audience)
        reg.set_key_set_url(record.key_set_url)
        return reg

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        return self._registration(self.find_record(iss, None, kwargs.get("action")))

    def find_registration_by_params(self, iss: str, client_id: str | None, *args: Any, **kwargs: Any) -> Registration:
        return self._registration(self.find_record(iss, client_id, kwargs.get("action")))

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        record = self.find_record(iss, client_id, Action.MESSAGE_LAUNCH)
        enabled = record.deployments.get(deployment_id)
        if enabled is None:
            raise LaunchError("unknown_deployment", "deployment id is not registered")
        if not enabled:
            raise LaunchError("deployment_disabled", "deployment is disabled")
        return Deployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> Any:
        return {"keys": [k.public_jwk for k in self.registry.public_keys()]}
