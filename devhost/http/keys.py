"""Function keys as the Functions host checks them, for ``python -m devhost --require-keys``.

On Azure an HTTP function at ``AuthLevel.FUNCTION`` needs a function key or the master key (in
the ``x-functions-key`` header, or the ``code`` query parameter when there is no such header: the
header takes precedence), ``ADMIN`` needs the master key, ``ANONYMOUS`` nothing; the Durable
extension's webhooks need its system key (``durabletask_extension``) or the master key, and every
management URL the extension hands out carries ``code=<system key>``. A missing or wrong key is a
401 with no body.

Without ``--require-keys`` devhost behaves as ``func start`` does locally: keys are not checked
and URLs carry none. The RPC API the SDK calls (``/durabletask/``) listens on localhost only on
Azure, so devhost lets loopback callers use it without a key and asks others for the system key.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from dataclasses import dataclass

from aiohttp import web

KEY_HEADER = "x-functions-key"
ENV_NAMES = {
    "master": "DEVHOST_MASTER_KEY",
    "function": "DEVHOST_FUNCTION_KEY",
    "system": "DEVHOST_SYSTEM_KEY",
}


def _new_key() -> str:
    return secrets.token_urlsafe(40)


@dataclass(frozen=True)
class HostKeys:
    """The host's keys; ``required`` says whether they are checked at all."""

    required: bool
    master: str
    function: str
    system: str
    generated: frozenset[str] = frozenset()
    """Which keys (``master``, ``function``, ``system``) devhost made up: only these are printed;
    a key taken from the environment is never written to the log."""

    @classmethod
    def load(cls, required: bool) -> HostKeys:
        """Keys from ``DEVHOST_*_KEY`` when set, otherwise new random ones."""
        given = {name: os.environ.get(env) for name, env in ENV_NAMES.items()}
        values = {name: value or _new_key() for name, value in given.items()}
        generated = frozenset(name for name, value in given.items() if not value)
        return cls(required, values["master"], values["function"], values["system"], generated)

    @property
    def url_code(self) -> str | None:
        """The key management URLs carry (``code=``), as on Azure; None when not required."""
        return self.system if self.required else None

    def allows_function(self, auth_level: str, request: web.Request) -> bool:
        if not self.required or auth_level == "anonymous":
            return True
        accepted = (self.master,) if auth_level == "admin" else (self.function, self.master)
        return _matches(presented_key(request), accepted)

    def allows_durable_api(self, request: web.Request, *, rpc: bool) -> bool:
        if not self.required or (rpc and _is_loopback(request)):
            return True
        return _matches(presented_key(request), (self.system, self.master))

    def allows_admin(self, request: web.Request) -> bool:
        return not self.required or _matches(presented_key(request), (self.master,))

    def allows_master_header(self, request: web.Request) -> bool:
        """devhost's own API (the dashboard's): the master key, in the header only. A ``code=``
        in the URL is never taken, so the key a page holds never reaches a log."""
        return not self.required or _matches(request.headers.get(KEY_HEADER), (self.master,))


def presented_key(request: web.Request) -> str | None:
    """The key as the host reads it (``AuthenticationLevelHandler.GetAuthorizationKeyInfoAsync``):
    the ``x-functions-key`` header when the request has one (its first value, even if empty),
    and only otherwise the ``code`` query parameter (its first value; the name in any case)."""
    if KEY_HEADER in request.headers:
        return request.headers.getone(KEY_HEADER)
    for name, value in request.query.items():
        if name.lower() == "code":
            return value
    return None


def _matches(key: str | None, accepted: tuple[str, ...]) -> bool:
    if not key:
        return False
    return any(hmac.compare_digest(key.encode(), good.encode()) for good in accepted)


def _is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def unauthorized() -> web.Response:
    """The host's 401: no body."""
    return web.Response(status=401)
