"""A fake OpenAI-compatible server for the caption provider tests.

It runs for real on a loopback port (uvicorn in a thread), checks every request it gets
the way the real API would (the bearer key, the model, JSON mode, the message shapes, the
image parts, the multipart transcription upload) and answers from a script: captions,
error statuses with or without Retry-After, delays longer than the client's timeout,
malformed JSON. Every request is recorded; anything it did not like is in `problems`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "sk-test-captions"
MODEL = "caption-model-1"
TRANSCRIBE_MODEL = "whisper-test"
TRANSCRIPT = "Welcome to the old town, where the bakery opened in 1902."
_KEYS_LINE = re.compile(r"Its keys are exactly: (.+)\.")


@dataclass
class Step:
    """One scripted answer to a chat completion."""

    status: int = 200
    # the assistant message content; a dict is sent as JSON, a str as it is
    content: dict[str, Any] | str | None = None
    body: Any = None  # a whole response body instead of a completion
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    finish_reason: str = "stop"
    refusal: str | None = None


def default_captions(platforms: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for platform in platforms:
        if platform == "youtube":
            out[platform] = {
                "title": "A Morning in the Old Town",
                "description": "We walk through the old town at dawn.\n\n#OldTown #Travel",
            }
        else:
            out[platform] = f"Fresh from the old town bakery ({platform}). #bakery #oldtown"
    return out


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[Step] = []
        self.chat_requests: list[dict[str, Any]] = []
        self.transcriptions: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/audio/transcriptions", self.transcribe, methods=["POST"]),
            ]
        )

    def _problem(self, text: str) -> JSONResponse:
        self.problems.append(text)
        return JSONResponse({"error": {"message": text, "type": "invalid_request_error"}}, 400)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {API_KEY}"

    # ------------------------------------------------------------------ chat

    async def chat(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": {"message": "Incorrect API key provided"}}, 401)
        try:
            body = await request.json()
        except ValueError:
            return self._problem("the body is not JSON")
        self.chat_requests.append(body)
        problem = self._check_chat(body)
        if problem:
            return self._problem(problem)
        step = self.script.pop(0) if self.script else Step()
        if step.delay:
            await asyncio.sleep(step.delay)
        if step.status != 200:
            payload = (
                step.body if step.body is not None else {"error": {"message": "upstream trouble"}}
            )
            return JSONResponse(payload, step.status, headers=step.headers)
        if step.body is not None:
            if isinstance(step.body, str):
                return Response(step.body, media_type="application/json")
            return JSONResponse(step.body)
        content = step.content
        if content is None:
            content = default_captions(self.platforms_asked(body))
        text = content if isinstance(content, str) else json.dumps(content)
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": step.refusal}
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
            }
        )

    @staticmethod
    def platforms_asked(body: dict[str, Any]) -> list[str]:
        system = body["messages"][0]["content"]
        match = _KEYS_LINE.search(system)
        return re.findall(r'"(\w+)"', match.group(1)) if match else []

    def _check_chat(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the body is not an object"
        if body.get("model") != MODEL:
            return f"unknown model {body.get('model')!r}"
        if body.get("response_format") != {"type": "json_object"}:
            return "response_format must be json_object"
        messages = body.get("messages")
        if not isinstance(messages, list) or len(messages) != 2:
            return "expected a system and a user message"
        system, user = messages
        if system.get("role") != "system" or not isinstance(system.get("content"), str):
            return "the first message must be a system message with text content"
        if "JSON" not in system["content"]:
            return "JSON mode needs the word JSON in the messages"
        if user.get("role") != "user" or not isinstance(user.get("content"), list):
            return "the user message must be a list of content parts"
        for part in user["content"]:
            kind = part.get("type")
            if kind == "text":
                if not isinstance(part.get("text"), str):
                    return "a text part without text"
            elif kind == "image_url":
                url = part.get("image_url", {}).get("url", "")
                if not url.startswith("data:image/jpeg;base64,"):
                    return "images must be JPEG data URLs"
                try:
                    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
                        if im.format != "JPEG":
                            return "an image part is not a JPEG"
                except (OSError, ValueError):
                    return "an image part does not decode"
            else:
                return f"unknown content part type {kind!r}"
        return None

    def images_in(self, body: dict[str, Any]) -> list[Image.Image]:
        found = []
        for part in body["messages"][1]["content"]:
            if part["type"] == "image_url":
                raw = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                with Image.open(io.BytesIO(raw)) as im:
                    im.load()
                    found.append(im.copy())
        return found

    @staticmethod
    def user_text(body: dict[str, Any]) -> str:
        return "\n".join(p["text"] for p in body["messages"][1]["content"] if p["type"] == "text")

    # ------------------------------------------------------------------ transcription

    async def transcribe(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": {"message": "Incorrect API key provided"}}, 401)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return self._problem("transcriptions take multipart/form-data")
        async with request.form() as form:
            upload = form.get("file")
            model = form.get("model")
            if not isinstance(upload, UploadFile):
                return self._problem("no file part")
            data = await upload.read()
            file_name = upload.filename
        self.transcriptions.append(
            {"model": model, "file_name": file_name, "size": len(data), "head": data[:3]}
        )
        if model != TRANSCRIBE_MODEL:
            return self._problem(f"unknown transcription model {model!r}")
        # an MP3 starts with an ID3 tag or an MPEG frame sync
        if not (data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF)):
            return self._problem("the audio is not MP3")
        return JSONResponse({"text": TRANSCRIPT})
