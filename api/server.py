"""The HTTP server's connection rules: uvicorn's HTTP/1.1 protocol with a deadline for the
head of each request.

uvicorn closes a connection idle *after* a response (``timeout_keep_alive``), but not one that
never completes a request head: a client that connects and sends nothing, or a header a byte
at a time, held a connection (and a file descriptor) for ever. Here the head of each request
must be complete within ``HEAD_TIMEOUT_KEEP_ALIVES`` times uvicorn's keep-alive idle limit
(``Settings.keep_alive_s``) of the connection's opening or of the previous response; a request
in progress is never cut.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEAD_TIMEOUT_KEEP_ALIVES", "PROTOCOL", "HeadDeadlineProtocol"]

#: A client has this many keep-alive idle limits to send a complete request head (request line
#: and headers): 10 s with uvicorn's default 5 s, ample for a phone on a slow network.
HEAD_TIMEOUT_KEEP_ALIVES = 2


class _HeadDeadline(asyncio.Protocol):
    """What both protocols add: a timer armed when the connection opens and after each
    response, that closes the connection unless a request is under way when it fires. Mixed in
    before uvicorn's protocol, whose methods ``super()`` reaches."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    config: Any  # uvicorn's Config
    cycle: Any
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]  # uvicorn's protocol, next in MRO
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        head_timeout_s = HEAD_TIMEOUT_KEEP_ALIVES * self.config.timeout_keep_alive
        self._head_timer = self.loop.call_later(head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()


class _HttpTools(_HeadDeadline, HttpToolsProtocol):
    """uvicorn's httptools protocol with the head deadline."""


class _H11(_HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with the head deadline."""


try:
    import httptools  # noqa: F401  (uvicorn[standard] installs it; uvicorn prefers it too)
except ImportError:  # pragma: no cover - a slim install
    HeadDeadlineProtocol: type[asyncio.Protocol] = _H11
else:
    HeadDeadlineProtocol = _HttpTools

#: What ``fieldroute serve`` hands uvicorn as ``http``: an import string, so that each server
#: process of ``--processes N`` imports it.
PROTOCOL = f"{__name__}:HeadDeadlineProtocol"
