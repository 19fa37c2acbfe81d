"""Remote procedure calls: performing them, and answering the methods a game registers.

Answering: the game registers method names; for each registered method an SDK handler is
installed on every session's local participant. A call posts ``RpcInvoked`` (the local
participant's ``rpc_method_invoked`` signal) and waits for the game's
``respond_to_rpc``/``respond_to_rpc_error`` with the same request id; an invocation left
unanswered returns a timeout error to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from livekit import rtc

from . import _runtime
from .events import RpcFailed, RpcInvoked, RpcResponseReceived

if TYPE_CHECKING:
    from .session import Session

logger = logging.getLogger(__name__)

MAX_RPC_PAYLOAD_BYTES = 15 * 1024
"""Largest RPC request or response payload (the SDK's limit)."""
DEFAULT_RPC_TIMEOUT = 10.0
MAX_ERROR_MESSAGE = 256
"""Longest error message an RPC error carries (the SDK's limit)."""


def round_trip_allowance(timeout: float) -> float:
    """Seconds of the caller's timeout kept for the network round trip.

    The SDK gives the handler ``timeout - allowance`` (at least 1 s); its default allowance
    of 7 s suits cloud relays but would leave a game's handler 1 s of a 5 s call. We keep
    30 % of the timeout, between 1 and 7 s.
    """
    return min(7.0, max(1.0, 0.3 * timeout))


def perform(
    session: Session,
    sdk: rtc.LocalParticipant,
    destination: str,
    method: str,
    payload: str,
    timeout: float,
) -> None:
    """Call ``method`` at ``destination`` in the background; the outcome is posted as
    ``RpcResponseReceived`` or ``RpcFailed``."""

    async def call() -> None:
        try:
            result = await sdk.perform_rpc(
                destination_identity=destination,
                method=method,
                payload=payload,
                response_timeout=timeout,
                max_round_trip_latency=round_trip_allowance(timeout),
            )
        except rtc.RpcError as error:
            session.post(RpcFailed(method, describe_rpc_error(error)))
        except Exception as error:
            session.post(RpcFailed(method, f"RPC failed: {error}"))
        else:
            session.post(RpcResponseReceived(method, result))

    session.room.run(call())


class RpcResponder:
    """The methods a room's local participant answers, and the invocations waiting for the
    game's answer (any thread)."""

    def __init__(self) -> None:
        self._methods: set[str] = set()
        self._lock = threading.Lock()
        self._pending: dict[str, asyncio.Future[str]] = {}  # request id -> answer

    def methods(self) -> list[str]:
        with self._lock:
            return sorted(self._methods)

    def register(
        self, method: str, sdk: rtc.LocalParticipant | None, session: Session | None
    ) -> None:
        """Answer ``method`` from now on (in the live session too, when there is one)."""
        with self._lock:
            self._methods.add(method)
        if sdk is not None and session is not None:
            _runtime.call_soon(self.install_one, sdk, session, method)

    def unregister(self, method: str, sdk: rtc.LocalParticipant | None) -> None:
        with self._lock:
            self._methods.discard(method)
        if sdk is not None:
            _runtime.call_soon(sdk.unregister_rpc_method, method)

    def install(self, sdk: rtc.LocalParticipant, session: Session) -> None:
        """Runtime thread: install a handler for every registered method (on connect)."""
        for method in self.methods():
            self.install_one(sdk, session, method)

    def install_one(self, sdk: rtc.LocalParticipant, session: Session, method: str) -> None:
        """Runtime thread: install the handler that hands ``method``'s invocations to the
        main thread as ``RpcInvoked``."""
        with self._lock:
            if method not in self._methods:
                return

        async def handler(data: rtc.RpcInvocationData) -> str:
            answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            with self._lock:
                self._pending[data.request_id] = answer
            session.post(
                RpcInvoked(
                    method,
                    data.request_id,
                    data.caller_identity,
                    data.payload,
                    float(data.response_timeout),
                )
            )
            try:
                return await answer
            finally:
                with self._lock:
                    self._pending.pop(data.request_id, None)

        try:
            sdk.unregister_rpc_method(method)
            sdk.register_rpc_method(method, handler)
        except Exception:
            logger.exception("could not register RPC method %r", method)

    def settle(self, request_id: str, payload: str | None, error: rtc.RpcError | None) -> bool:
        """Answer invocation ``request_id``; False when it is unknown, answered or expired."""
        with self._lock:
            answer = self._pending.pop(request_id, None)
        if answer is None:
            logger.warning("no pending RPC invocation with request id %r", request_id)
            return False

        def settle_on_loop() -> None:
            if answer.done():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(payload or "")

        _runtime.call_soon(settle_on_loop)
        return True

    def drop_pending(self) -> None:
        """The session ended: nothing can be answered any more."""
        with self._lock:
            self._pending.clear()


def describe_rpc_error(error: rtc.RpcError) -> str:
    """``"<message> (code N)"``: the SDK's own text for LiveKit's errors ("Response
    timeout", "Method not supported at destination"...), as the original reports them, or
    the remote handler's message."""
    builtin = rtc.RpcError.ErrorMessage.get(error.code)  # type: ignore[call-overload]
    message = error.message or builtin or "RPC failed"
    return f"{message} (code {error.code})"
