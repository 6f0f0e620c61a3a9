"""Every bad-input row of the issue's table, over a real socket: the status, a JSON body
``{"error", "type"}``, the field named for 422s, and never a 5xx."""

from __future__ import annotations

import json
import socket
import time

import pytest

from seqlab.serve import ServeSettings

CLASSIFY = "/models/classifier/classify"


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``data`` as it is (as much as the server takes) and read one response: (status, body).

    Gives up after ``timeout`` seconds (TimeoutError), so a server that waits for the rest of a
    body fails the test instead of hanging it.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking everything: what we test for
        response = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in response or len(response) < _expected_length(response):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete response in {timeout} s: {response[:200]!r}")
            try:
                part = sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(f"no complete response in {timeout} s: {response[:200]!r}") from None
            if not part:
                break
            response += part
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def _expected_length(response: bytes) -> int:
    head, sep, _ = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + len(sep) + int(value)
    return len(response) + 1


def post(server, path: str, body: bytes, content_type: str = "application/json"):
    with server.client() as client:
        return client.post(path, content=body, headers={"content-type": content_type})


def assert_error(response, status: int, kind: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "type"} and body["error"], body
    if kind is not None:
        assert body["type"] == kind, body
    if field is not None:
        assert body.get("field") == field, body
        assert field in body["error"]
    return body


def test_malformed_json_is_400(server):
    assert_error(post(server, CLASSIFY, b'{"text": "a",'), 400, "malformed_json")
    assert_error(post(server, CLASSIFY, b"not json at all"), 400, "malformed_json")


def test_invalid_utf8_is_400(server):
    body = assert_error(post(server, CLASSIFY, b'{"text": "caf\xe9"}'), 400, "invalid_utf8")
    assert "UTF-8" in body["error"]


def test_wrong_type_is_422_naming_the_field(server):
    assert_error(post(server, CLASSIFY, json.dumps({"text": 5}).encode()), 422, "invalid_request", "text")
    body = json.dumps({"texts": ["fine", 7]}).encode()
    assert_error(post(server, CLASSIFY, body), 422, "invalid_request", "texts[1]")
    body = json.dumps({"prompt": "the", "max_tokens": "many"}).encode()
    assert_error(post(server, "/models/lm/generate", body), 422, "invalid_request", "max_tokens")
    body = json.dumps({"prompt": "the", "top_p": 1.5}).encode()
    assert_error(post(server, "/models/lm/generate", body), 422, "invalid_request", "top_p")


def test_missing_field_is_422_naming_it(server):
    assert_error(post(server, "/models/lm/generate", b'{"max_tokens": 3}'), 422, "invalid_request", "prompt")
    assert_error(post(server, CLASSIFY, b"{}"), 422, "invalid_request", "text")
    assert_error(post(server, CLASSIFY, b""), 422, "invalid_request")


def test_unknown_field_is_422_naming_it(server):
    body = json.dumps({"text": "the soup", "explian": True}).encode()
    assert_error(post(server, CLASSIFY, body), 422, "invalid_request", "explian")


def test_empty_input_is_422(server):
    assert_error(post(server, CLASSIFY, b'{"text": ""}'), 422, "empty_input", "text")
    assert_error(post(server, CLASSIFY, b'{"text": "  \\n\\t "}'), 422, "empty_input", "text")
    assert_error(post(server, CLASSIFY, b'{"texts": []}'), 422, "empty_input", "texts")
    assert_error(post(server, CLASSIFY, b'{"texts": ["ok", ""]}'), 422, "empty_input", "texts[1]")
    assert_error(post(server, "/models/lm/next", b'{"text": ""}'), 422, "empty_input", "text")
    assert_error(post(server, "/models/tagger/tag", b'{"text": " "}'), 422, "empty_input", "text")


def test_too_many_tokens_is_422(server):
    limit = ServeSettings().max_input_tokens
    text = " ".join(["soup"] * (limit + 1))
    body = assert_error(
        post(server, CLASSIFY, json.dumps({"text": text}).encode()), 422, "too_many_tokens", "text"
    )
    assert str(limit) in body["error"]
    body = json.dumps({"texts": ["ok", text]}).encode()
    assert_error(post(server, "/models/tagger/tag", body), 422, "too_many_tokens", "texts[1]")


def test_limits_on_outputs_and_batch_are_422(server):
    limits = ServeSettings()
    body = json.dumps({"prompt": "the", "max_tokens": limits.max_output_tokens + 1}).encode()
    assert_error(post(server, "/models/lm/generate", body), 422, "invalid_request", "max_tokens")
    body = json.dumps({"prompt": "the", "num_samples": limits.max_batch_size + 1}).encode()
    assert_error(post(server, "/models/lm/generate", body), 422, "invalid_request", "num_samples")
    body = json.dumps({"texts": ["a"] * (limits.max_batch_size + 1)}).encode()
    assert_error(post(server, CLASSIFY, body), 422, "invalid_request", "texts")


def test_unpaired_surrogate_is_422_not_500(server):
    assert_error(post(server, CLASSIFY, b'{"text": "a \\ud800 b"}'), 422, "invalid_request", "text")


def test_deeply_nested_json_is_400_not_500(server):
    body = b"[" * 200_000 + b"]" * 200_000
    assert_error(post(server, CLASSIFY, body), 400)


def test_unknown_model_is_404(server):
    body = assert_error(post(server, "/models/nope/classify", b'{"text": "a"}'), 404, "not_found")
    assert "nope" in body["error"]
    with server.client() as client:
        assert_error(client.get("/models/nope"), 404, "not_found")
        assert_error(client.get("/no/such/path"), 404, "not_found")


def test_an_operation_the_model_lacks_is_404(server):
    body = assert_error(post(server, "/models/classifier/generate", b'{"prompt": "a"}'), 404, "not_found")
    assert "classify" in body["error"]


def test_wrong_method_is_405_json(server):
    with server.client() as client:
        assert_error(client.get(CLASSIFY), 405, "method_not_allowed")
        assert_error(client.delete("/models"), 405, "method_not_allowed")


def test_body_over_the_limit_is_413_before_it_is_read(server):
    """A 100 MiB Content-Length is refused after the headers alone: the client sends 10 bytes of it."""
    head = (
        f"POST {CLASSIFY} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, body = raw_request(server.port, head + b'{"text": "')
    assert status == 413
    assert json.loads(body)["type"] == "body_too_large"


def test_chunked_body_over_the_limit_is_413(server):
    """No Content-Length: the server counts while reading and stops at the limit."""
    limit = ServeSettings().max_body_bytes
    chunk = b"x" * 65536
    head = (
        f"POST {CLASSIFY} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunks = b"".join(
        f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(limit // len(chunk) + 2)
    )
    status, body = raw_request(server.port, head + chunks)
    assert status == 413
    assert json.loads(body)["type"] == "body_too_large"


def test_a_body_just_under_the_limit_is_read(server):
    limit = ServeSettings().max_body_bytes
    body = json.dumps({"text": "the soup " + " " * (limit - 100)}).encode()
    assert len(body) <= limit
    response = post(server, CLASSIFY, body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [b"null", b"[]", b'"text"', b"12", b'{"text": null}', b'{"texts": "abc"}', b'{"text": ["a"]}', b"\x00"],
)
def test_odd_bodies_never_give_a_5xx(server, body):
    response = post(server, CLASSIFY, body)
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) >= {"error", "type"}


def test_a_non_json_content_type_never_gives_a_5xx(server):
    response = post(server, CLASSIFY, b'{"text": "a"}', content_type="text/plain")
    assert 400 <= response.status_code < 500, response.text


def test_a_foreign_host_header_is_refused_on_loopback(server):
    head = f"GET /models HTTP/1.1\r\nHost: evil.example:{server.port}\r\n\r\n".encode()
    status, body = raw_request(server.port, head)
    assert status == 400
    assert json.loads(body)["type"] == "bad_host"
