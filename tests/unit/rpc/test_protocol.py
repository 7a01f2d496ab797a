"""The framing and envelope rules of the plugin RPC, without any service behind them."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.daemon.rpc import RpcDispatcher
from entrypoints.daemon.rpc_protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_MESSAGE_BYTES,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TOO_LONG,
    EncodedJson,
    RequestId,
    RpcError,
    encode,
    kksync_error,
    read_message,
    result_response,
)


def echo(params: dict[str, Any]) -> Any:
    return params


def fail(params: dict[str, Any]) -> Any:
    raise kksync_error("book", "Persuasion: cannot read /mnt/onboard/x.epub")


def crash(params: dict[str, Any]) -> Any:
    raise ZeroDivisionError("boom")


calls: list[dict[str, Any]] = []


def record(params: dict[str, Any]) -> Any:
    calls.append(params)
    return "recorded"


DISPATCHER = RpcDispatcher({"echo": echo, "fail": fail, "crash": crash, "record": record})


def answer(line: bytes | object) -> dict[str, Any]:
    response = DISPATCHER.handle(line)  # type: ignore[arg-type]
    assert response is not None and response.endswith(b"\n") and response.count(b"\n") == 1
    decoded: dict[str, Any] = json.loads(response)
    assert decoded["jsonrpc"] == "2.0"
    return decoded


def error_code(line: bytes) -> int:
    return int(answer(line)["error"]["code"])


def test_a_request_gets_its_result_with_its_own_id() -> None:
    response = answer(b'{"jsonrpc":"2.0","id":"a-7","method":"echo","params":{"x":[1,2]}}')
    assert response == {"jsonrpc": "2.0", "id": "a-7", "result": {"x": [1, 2]}}


def test_missing_params_mean_no_params() -> None:
    assert answer(b'{"jsonrpc":"2.0","id":1,"method":"echo"}')["result"] == {}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{not json", PARSE_ERROR),
        (b"\xff\xfe\x00garbage", PARSE_ERROR),
        (b'{"jsonrpc":"2.0","id":1,"method":"echo","x":NaN}', PARSE_ERROR),
        (b"[" * 100_000, PARSE_ERROR),
        (b"[]", INVALID_REQUEST),
        (b'[{"jsonrpc":"2.0","id":1,"method":"echo"}]', INVALID_REQUEST),
        (b"42", INVALID_REQUEST),
        (b'"status"', INVALID_REQUEST),
        (b'{"id":1,"method":"echo"}', INVALID_REQUEST),
        (b'{"jsonrpc":"1.0","id":1,"method":"echo"}', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":1,"method":7}', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":1,"method":""}', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":true,"method":"echo"}', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":{"a":1},"method":"echo"}', INVALID_REQUEST),
        (b'{"jsonrpc":"2.0","id":1,"method":"missing"}', METHOD_NOT_FOUND),
        (b'{"jsonrpc":"2.0","id":1,"method":"echo","params":[1,2]}', INVALID_PARAMS),
        (b'{"jsonrpc":"2.0","id":1,"method":"echo","params":"x"}', INVALID_PARAMS),
    ],
)
def test_bad_messages_get_the_standard_error_codes(line: bytes, code: int) -> None:
    assert error_code(line) == code


def test_errors_echo_the_id_when_it_could_be_read() -> None:
    assert answer(b'{"jsonrpc":"1.0","id":9,"method":"echo"}')["id"] == 9
    assert answer(b"{not json")["id"] is None


def test_an_oversized_message_is_refused_as_an_invalid_request() -> None:
    response = answer(TOO_LONG)
    assert response["error"]["code"] == INVALID_REQUEST
    assert "1 MiB" in response["error"]["message"]


def test_kksync_errors_carry_a_one_line_message_and_a_kind() -> None:
    error = answer(b'{"jsonrpc":"2.0","id":3,"method":"fail"}')["error"]
    assert error == {
        "code": -32000,
        "message": "Persuasion: cannot read /mnt/onboard/x.epub",
        "data": {"kind": "book"},
    }


def test_an_unexpected_exception_becomes_an_internal_error_not_a_crash() -> None:
    error = answer(b'{"jsonrpc":"2.0","id":3,"method":"crash"}')["error"]
    assert error["code"] == -32603
    assert "crash" in error["message"]


def test_notifications_are_executed_and_get_no_response() -> None:
    calls.clear()
    assert DISPATCHER.handle(b'{"jsonrpc":"2.0","method":"record","params":{"n":1}}') is None
    assert calls == [{"n": 1}]


def test_failing_notifications_stay_silent_too() -> None:
    assert DISPATCHER.handle(b'{"jsonrpc":"2.0","method":"crash"}') is None
    assert DISPATCHER.handle(b'{"jsonrpc":"2.0","method":"missing"}') is None
    assert DISPATCHER.handle(b'{"jsonrpc":"2.0","method":"echo","params":[1]}') is None


def test_blank_lines_are_ignored() -> None:
    assert DISPATCHER.handle(b"") is None
    assert DISPATCHER.handle(b"   \t") is None


def test_responses_stay_on_one_line_whatever_the_strings_hold() -> None:
    response = answer(b'{"jsonrpc":"2.0","id":1,"method":"echo","params":{"t":"a\\nb\\u2028c \\u00fc"}}')
    assert response["result"]["t"] == "a\nb\u2028c ü"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_get_at_most_one_well_formed_answer(line: bytes) -> None:
    response = DISPATCHER.handle(line.replace(b"\n", b" "))
    if response is not None:
        decoded = json.loads(response)
        assert ("result" in decoded) != ("error" in decoded)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    )
)
def test_any_json_document_gets_an_answer_or_is_a_notification(document: Any) -> None:
    response = DISPATCHER.handle(json.dumps(document).encode())
    if response is None:
        assert isinstance(document, dict) and "id" not in document and document.get("jsonrpc") == "2.0"
    else:
        assert json.loads(response)["jsonrpc"] == "2.0"


def test_read_message_splits_lines_and_strips_line_ends() -> None:
    stream = io.BytesIO(b'{"a":1}\r\n{"b":2}\nlast')
    assert read_message(stream) == b'{"a":1}'
    assert read_message(stream) == b'{"b":2}'
    assert read_message(stream) == b"last"
    assert read_message(stream) is None


def test_read_message_drains_an_oversized_line_and_keeps_the_next() -> None:
    stream = io.BytesIO(b"x" * (MAX_MESSAGE_BYTES * 3) + b"\n" + b'{"ok":true}\n')
    assert read_message(stream) is TOO_LONG
    assert read_message(stream) == b'{"ok":true}'


def test_a_message_of_exactly_the_limit_is_accepted() -> None:
    body = b"y" * MAX_MESSAGE_BYTES
    assert read_message(io.BytesIO(body + b"\n")) == body
    assert read_message(io.BytesIO(body + b"y\n")) is TOO_LONG


def test_rpc_error_leaves_data_out_when_there_is_none() -> None:
    assert RpcError(INVALID_PARAMS, "bad").as_json() == {"code": INVALID_PARAMS, "message": "bad"}


@pytest.mark.parametrize("request_id", [7, 'a "quoted" id\n', None])
def test_a_result_kept_encoded_is_written_into_the_same_response(request_id: RequestId) -> None:
    """``library.list`` answers from rows kept as JSON text: the line must be what encoding the
    decoded result would have given, one line, whatever the id holds."""
    result = {"books": [{"title": "Tír na nÓg", "percent": 52.9, "koreader": None}]}
    kept = EncodedJson(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode())
    line = encode(result_response(request_id, kept))
    assert line == encode(result_response(request_id, result))
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
