"""JSON-RPC 2.0 framing for the plugin RPC: one JSON object per line, never trusted.

Everything here is about bytes and envelopes, nothing about kksync: reading one bounded line
(a 1 MiB cap, so a client cannot make the server buffer without limit), turning it into a
request or a ready-made error response, and writing responses back as single lines.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1024 * 1024
"""The longest request line accepted (without its newline); longer ones get -32600."""

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
KKSYNC_ERROR = -32000

_DRAIN_CHUNK = 64 * 1024

RequestId = str | int | None


class RpcError(Exception):
    """A failure to send back as a JSON-RPC error object (code, one-line message, optional data)."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def kksync_error(kind: str, message: str) -> RpcError:
    """A per-call failure (-32000) whose ``data.kind`` lets the plugin react without parsing text."""
    return RpcError(KKSYNC_ERROR, " ".join(message.split()) or kind, {"kind": kind})


@dataclass(frozen=True)
class Request:
    """One validated request; ``is_notification`` when it carried no ``id`` (no response is sent)."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    id: RequestId = None
    is_notification: bool = False


class TooLong:
    """Marks a line that exceeded ``MAX_MESSAGE_BYTES``; its rest was read and thrown away."""


TOO_LONG = TooLong()


def read_message(stream: BinaryIO) -> bytes | TooLong | None:
    """The next line (without its newline), ``TOO_LONG`` for an oversized one, None at end of stream.

    At most ``MAX_MESSAGE_BYTES + 1`` bytes are held at once: an oversized line is drained in
    chunks up to its newline so the next message can still be read.
    """
    line = stream.readline(MAX_MESSAGE_BYTES + 1)
    if not line:
        return None
    if line.endswith(b"\n"):
        return line[:-1].rstrip(b"\r")
    if len(line) <= MAX_MESSAGE_BYTES:
        return line  # the last line of the stream, without a newline
    while True:
        chunk = stream.readline(_DRAIN_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return TOO_LONG


def parse_request(line: bytes) -> Request:
    """Decode and validate one line; raise ``RpcError`` (with the id when it could be read)."""
    try:
        message = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RpcError(PARSE_ERROR, "parse error: the line is not a JSON document") from None
    if isinstance(message, list):
        raise RpcError(INVALID_REQUEST, "invalid request: batches are not supported")
    if not isinstance(message, dict):
        raise RpcError(INVALID_REQUEST, "invalid request: expected a JSON-RPC 2.0 request object")
    has_id = "id" in message
    request_id = message.get("id")
    if has_id and not _valid_id(request_id):
        raise RpcError(INVALID_REQUEST, "invalid request: id must be a string, an integer or null")
    error_id = request_id if has_id else None
    if message.get("jsonrpc") != "2.0":
        raise _with_id(RpcError(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"'), error_id)
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise _with_id(RpcError(INVALID_REQUEST, 'invalid request: "method" must be a string'), error_id)
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        error = RpcError(INVALID_PARAMS, f"{method}: params must be an object of named values")
        raise _with_id(error, error_id, silent=not has_id)
    return Request(method, params, request_id, is_notification=not has_id)


class IdentifiedError(RpcError):
    """An ``RpcError`` that knows the id of the request it answers.

    ``silent`` marks a well-formed notification: like its result, its error is never sent.
    """

    def __init__(self, error: RpcError, request_id: RequestId, silent: bool = False) -> None:
        super().__init__(error.code, error.message, error.data)
        self.request_id = request_id
        self.silent = silent


def _with_id(error: RpcError, request_id: RequestId, silent: bool = False) -> IdentifiedError:
    return IdentifiedError(error, request_id, silent)


def error_response(error: RpcError, request_id: RequestId = None) -> dict[str, Any]:
    if isinstance(error, IdentifiedError):
        request_id = error.request_id
    return {"jsonrpc": "2.0", "id": request_id, "error": error.as_json()}


def result_response(request_id: RequestId, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


class EncodedJson:
    """A result already encoded by ``compact_json`` (or joined from such pieces), written out as it is.

    The daemon keeps ``library.list``'s rows encoded: a fifth of their memory as dicts, and an
    answer for thousands of books is joined, not encoded again on every call.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode(response: dict[str, Any]) -> bytes:
    """One response as one UTF-8 line (no newline inside, whatever the strings hold)."""
    result = response.get("result")
    if isinstance(result, EncodedJson):
        envelope = compact_json({name: value for name, value in response.items() if name != "result"})
        return envelope[:-1] + b',"result":' + result.data + b"}\n"
    return compact_json(response) + b"\n"


def compact_json(value: Any) -> bytes:
    """A value as the RPC writes it: one line of UTF-8 JSON (an ``EncodedJson`` must be made so)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _valid_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
