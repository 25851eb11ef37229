"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol, for tests.

The only allowed fake in the test suite: it stands in for an LLM endpoint so that the real
``openai`` client (HTTP, JSON, errors, timeouts) is exercised. Behaviour is scripted per request:

* ``good``            a valid plan choosing the first ``choose_n`` candidate ids of the request
* ``everything``      a valid plan choosing every candidate id
* ``invalid_json``    text that is not JSON
* ``unknown_ids``     a plan referencing ids that were never sent
* ``duplicate_ids``   a plan choosing the same id twice
* ``wrong_types``     a plan whose ``tags`` is a string and ``clips`` items lack ids
* ``empty``           a plan with no clips
* ``slow``            sleeps ``slow_s`` seconds, then answers like ``good``
* ``error500``        HTTP 500
* ``reject_schema``   HTTP 400 when ``response_format.type`` is ``json_schema``, else ``good``
* ``reject_formats``  HTTP 400 for any ``response_format``, else ``good``

``script`` is consumed one entry per request; the last entry repeats. ``requests`` records
every request body received (parsed JSON).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_ID_RE = re.compile(r'(?<!\\)"id":\s*"(c\d+)"')


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[str] = ["good"]
        self.choose_n = 3
        self.slow_s = 2.0
        self.model = "fake-model"
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, *script: str) -> None:
        with self._lock:
            self.script = list(script) or ["good"]
            self.requests.clear()

    # ---- behaviour -------------------------------------------------------------------------
    def _next_behaviour(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.requests.append(body)
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0]

    @staticmethod
    def candidate_ids(body: dict[str, Any]) -> list[str]:
        """Candidate ids found in the request's first user message (in order, unique)."""
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        text = str(users[0].get("content", "")) if users else ""
        return list(dict.fromkeys(_ID_RE.findall(text)))

    def plan(self, ids: list[str]) -> dict[str, Any]:
        return {
            "title": "Fake highlight",
            "description": "Chosen by the fake LLM",
            "clips": [
                {
                    "candidate_id": cid,
                    "title": f"Clip {cid}",
                    "tags": ["fake", cid],
                    "description": f"Description of {cid}",
                    "reason": f"fake reason {cid}",
                }
                for cid in ids
            ],
        }

    def respond(self, behaviour: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        ids = self.candidate_ids(body)
        fmt = (body.get("response_format") or {}).get("type")
        if behaviour == "error500":
            return 500, {"error": {"message": "internal error", "type": "server_error"}}
        if behaviour in ("reject_schema", "reject_formats") and (
            fmt == "json_schema" or (behaviour == "reject_formats" and fmt)
        ):
            return 400, {
                "error": {"message": f"response_format {fmt} unsupported", "type": "invalid"}
            }
        if behaviour == "slow":
            time.sleep(self.slow_s)
        content: str
        if behaviour == "invalid_json":
            content = "Sure! Here are the clips: {clips: [c1, c2"
        elif behaviour == "unknown_ids":
            content = json.dumps(self.plan(["c999", "c998"]))
        elif behaviour == "duplicate_ids":
            content = json.dumps(self.plan(ids[:1] * 2))
        elif behaviour == "wrong_types":
            content = json.dumps({"title": 3, "clips": [{"tags": "a,b"}]})
        elif behaviour == "empty":
            content = json.dumps(self.plan([]))
        elif behaviour == "everything":
            content = json.dumps(self.plan(ids))
        else:
            content = json.dumps(self.plan(ids[: self.choose_n]))
        return 200, self.completion(content, body)

    def completion(self, content: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, payload: dict[str, Any] | str) -> None:
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": fake.model}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "body is not JSON"}})
                    return
                status, payload = fake.respond(fake._next_behaviour(body), body)
                self._send(status, payload)

        return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
