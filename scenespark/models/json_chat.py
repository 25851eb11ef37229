"""One JSON chat completion against an OpenAI-compatible endpoint, shared by the LLM planner and
the vision-LLM captioner.

The openai client retries timeouts, connection errors, 408/409/429 and 5xx itself (its
``max_retries``). What is left here: asking for JSON in the richest ``response_format`` the
endpoint accepts — an endpoint that rejects one (HTTP 400/422) is asked again with the next
simpler one, remembered for later calls — and turning the client's exceptions into one
:class:`ChatFailure` whose ``kind`` and one-line ``detail`` the callers word as their own errors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import openai  # imported on first use: 0.4 s that a server start need not pay

log = logging.getLogger(__name__)

ResponseFormat = Literal["json_schema", "json_object", "none"]
FailureKind = Literal["timeout", "connection", "transient", "rejected"]


class ChatFailure(Exception):
    """The endpoint did not answer: ``kind`` says how, ``detail`` is one line for the user."""

    def __init__(self, kind: FailureKind, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.status = status


class JsonChat:
    """Chat completions asking for JSON, with the response-format fallback shared by callers."""

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        formats: tuple[ResponseFormat, ...],
        *,
        name: str = "endpoint",
    ) -> None:
        self.client = client
        self.model = model
        self.formats = formats
        self.name = name
        self._format_index = 0  # advances when the server rejects a response_format
        self._lock = threading.Lock()

    @property
    def response_format(self) -> ResponseFormat:
        with self._lock:
            return self.formats[self._format_index]

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        json_schema: Callable[[], dict[str, Any]] | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> str:
        """The reply's text ("" when the endpoint returned no choice). Raises ChatFailure.
        ``on_request`` is called before every HTTP request (for the callers' usage counts)."""
        while True:
            fmt = self.response_format
            kwargs: dict[str, Any] = {}
            if fmt == "json_schema" and json_schema is not None:
                kwargs["response_format"] = {"type": "json_schema", "json_schema": json_schema()}
            elif fmt == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            if on_request is not None:
                on_request()
            import openai

            try:
                response = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=0,
                    **kwargs,
                )
            except openai.APITimeoutError as exc:
                raise ChatFailure("timeout", "timed out") from exc
            except openai.APIConnectionError as exc:
                raise ChatFailure("connection", f"connection failed ({one_line(exc)})") from exc
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status in (400, 422) and self._fall_back(fmt):
                    log.info("%s rejected response_format=%s; falling back", self.name, fmt)
                    continue  # the same request with a simpler format: not a failed attempt
                kind: FailureKind = (
                    "transient" if status >= 500 or status in (408, 409, 429) else "rejected"
                )
                raise ChatFailure(kind, f"HTTP {status} {one_line(exc)}", status) from exc
            if not response.choices:
                return ""
            return response.choices[0].message.content or ""

    def _fall_back(self, rejected: ResponseFormat) -> bool:
        with self._lock:
            position = self.formats.index(rejected)
            if position >= len(self.formats) - 1:
                return False
            self._format_index = max(self._format_index, position + 1)
            return True


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
