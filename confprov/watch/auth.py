"""Who may read the board and act on it: loopback only, or whoever holds the workspace's token.

`watch serve` binds to 127.0.0.1 by default, where the machine's own users are the audience.
Bound to any other address the board shows contacts' phone numbers and restores routers, so every
request (the page, the event stream, the API, /metrics) must carry the token:
``Authorization: Bearer TOKEN``, or HTTP basic with the token as password (what a browser's
login prompt sends, also on the EventSource stream a page opens). The token comes from the
environment or from a file in the workspace, never from the command line (process arguments are
visible to every user of the machine).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import os
import stat
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov.exceptions import InputError, Problem

TOKEN_ENV = "CONFPROV_WATCH_TOKEN"  # noqa: S105 - the variable's name, not a token
TOKEN_FILE = ".watch-token"  # noqa: S105 - the file's name, not a token
MIN_TOKEN_CHARS = 16
REALM = "confprov watch"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(bind: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: only this machine can connect."""
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


def read_token(workspace: Path) -> str | None:
    """The board's token: ``$CONFPROV_WATCH_TOKEN``, then ``WS/.watch-token``; None if neither.

    The file must not be readable by other users (mode 0600, as ``.vault-pass``), and the token
    must be long enough not to be guessed.
    """
    env = os.environ.get(TOKEN_ENV, "").strip()
    where = f"${TOKEN_ENV}"
    token = env
    if not env:
        path = workspace / TOKEN_FILE
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return None
        where = str(path)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(
                [Problem(where, None, None, f"readable by others: run `chmod 600 {path}`")]
            )
        token = path.read_text(encoding="utf-8").strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise InputError(
            [
                Problem(
                    where,
                    None,
                    None,
                    f"the token is shorter than {MIN_TOKEN_CHARS} characters: make one with "
                    "`python3 -c 'import secrets; print(secrets.token_urlsafe(24))'`",
                )
            ]
        )
    return token


def require_token(workspace: Path, bind: str) -> str | None:
    """The token a bind needs: None on loopback, else the token, else an error saying where."""
    token = read_token(workspace)
    if token is None and not is_loopback(bind):
        raise InputError(
            [
                Problem(
                    "--bind",
                    None,
                    bind,
                    "beyond loopback the board needs a token: set "
                    f"${TOKEN_ENV} or write it to {workspace / TOKEN_FILE} (mode 0600)",
                )
            ]
        )
    return token


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the basic-auth user name when one was given (the audit's "who")."""

    user: str


def check(headers: dict[str, str], token: str) -> Caller | None:
    """The caller when the headers carry the token (bearer or basic), else None."""
    value = headers.get("authorization", "")
    scheme, _, credential = value.partition(" ")
    scheme = scheme.lower()
    given = ""
    user = ""
    if scheme == "bearer":
        given = credential.strip()
    elif scheme == "basic":
        try:
            decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, given = decoded.partition(":")
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return Caller(user.strip())
    return None


class TokenAuth:
    """ASGI middleware: every HTTP request without the token gets 401, streams included.

    A plain ASGI wrapper rather than Starlette's BaseHTTPMiddleware, which buffers nothing here
    but would wrap the endless event stream in a second task for no gain.
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        caller = check(headers, self.token)
        if caller is None:
            body = b"401: this board needs its token (Authorization: Bearer, or basic auth)\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})["caller"] = caller.user
        await self.app(scope, receive, send)
