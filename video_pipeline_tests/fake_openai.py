"""An OpenAI-compatible HTTP server for tests, driven through the real `openai` client.

It checks requests the way the API does (a bearer key, a model, messages, a strict
json_schema for Structured Outputs), answers from the request's content (research quotes
real sentences of the sources it was sent; speech is a real WAV with a tone per word), and
can be scripted per test with faults consumed in order: HTTP errors with headers, delays,
refusals and replies that do not match the schema. Every request is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import numpy as np
from PIL import Image

STRUCTURED_REPLIES = ("ResearchReply", "DnaReply", "ScriptReply")
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
_FLAGGED_WORDS = {
    "violence": re.compile(r"\b(kill|attack|stab|shoot)\w*", re.I),
    "violence/graphic": re.compile(r"\b(gore|bloody)\b", re.I),
    "self-harm/intent": re.compile(r"\bhurt myself\b", re.I),
    "illicit": re.compile(r"\b(counterfeit|smuggl)\w*", re.I),
}
SAMPLE_RATE = 24_000
_SENTENCE = re.compile(r"[^.!?]+[.!?]")


@dataclass
class Fault:
    """What to do instead of (or before) answering the next matching request."""

    kind: Literal["status", "delay", "refusal", "invalid_reply"]
    status: int = 500
    message: str = "The server had an error while processing your request."
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    path: str | None = None
    """Only requests to this endpoint (e.g. "/v1/embeddings") consume the fault."""
    reply: str | None = None
    """Only chat requests for this structured reply (e.g. "ResearchReply") consume it."""


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class BadRequest(Exception):
    pass


def fake_embedding(text: str, dimension: int) -> list[float]:
    """A unit vector that depends only on the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).normal(size=dimension)
    return [float(x) for x in vector / np.linalg.norm(vector)]


def check_strict_schema(schema: dict[str, Any], where: str = "schema") -> None:
    """The rules of strict Structured Outputs that a careless schema breaks."""
    for name, definition in schema.get("$defs", {}).items():
        check_strict_schema(definition, f"{where}.$defs.{name}")
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            raise BadRequest(f"{where}: 'additionalProperties' is required to be false")
        if sorted(schema.get("required", [])) != sorted(properties):
            raise BadRequest(f"{where}: 'required' must list every property")
        for name, sub in properties.items():
            check_strict_schema(sub, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        check_strict_schema(schema["items"], f"{where}.items")
    for index, variant in enumerate(schema.get("anyOf", [])):
        check_strict_schema(variant, f"{where}.anyOf.{index}")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.split()) >= 4]


def _research_reply(payload: dict[str, Any]) -> dict[str, Any]:
    facts = [
        {"text": sentence, "source_id": source["source_id"], "quote": sentence}
        for source in payload["sources"]
        for sentence in _sentences(source["text"])[:3]
    ][:15]
    return {
        "summary": " ".join(f["text"] for f in facts[:2]) or payload["brief"],
        "facts": facts,
        "topics": sorted({w for f in facts for w in re.findall(r"\b[A-Z][a-z]{3,}\b", f["text"])})[
            :5
        ],
        "outline": [f["text"] for f in facts[:5]],
        "open_questions": ["What do the sources leave out?"],
    }


def _dna_reply(payload: dict[str, Any]) -> dict[str, Any]:
    words = re.findall(r"[a-z']{5,}", " ".join(r["text"] for r in payload["references"]).lower())
    common = sorted(set(words), key=lambda w: (-words.count(w), w))
    return {
        "tone": "curious, upbeat",
        "energy": 0.7,
        "formality": 0.3,
        "words_per_minute": 155,
        "signature_vocabulary": common[:8],
        "hook_patterns": ["Ever wondered why X?"],
        "cta_patterns": ["Follow for more."],
        "audience": "curious general viewers",
    }


def _script_reply(system: str, payload: dict[str, Any]) -> dict[str, Any]:
    target = int(re.search(r"about (\d+) words of narration", system).group(1))  # type: ignore[union-attr]
    facts = payload["research"]["key_facts"]
    scenes = [
        {
            "kind": "hook",
            "narration": f"Here is something about {payload['title']} you did not know.",
            "on_screen_text": payload["title"],
            "visual_description": "A wide shot of the subject at dawn",
            "fact_ids": [],
        }
    ]
    spoken = len(scenes[0]["narration"].split()) + 4
    for fact in facts:
        if spoken >= target:
            break
        scenes.append(
            {
                "kind": "body",
                "narration": fact["text"],
                "on_screen_text": " ".join(fact["text"].split()[:5]),
                "visual_description": f"An illustration of: {fact['text']}",
                "fact_ids": [fact["id"]],
            }
        )
        spoken += len(fact["text"].split())
    scenes.append(
        {
            "kind": "cta",
            "narration": "Follow for more.",
            "on_screen_text": "Follow for more",
            "visual_description": "The subject in close-up",
            "fact_ids": [],
        }
    )
    return {"scenes": scenes}


def speech_wav(text: str) -> bytes:
    """A tone per word (longer words last longer), run together within a phrase as speech
    is, with a pause after punctuation; the header's sizes are those of a streamed WAV."""
    pieces = [np.zeros(int(0.1 * SAMPLE_RATE))]
    for index, word in enumerate(text.split()):
        length = int((0.06 + 0.05 * len(word)) * SAMPLE_RATE)
        t = np.arange(length) / SAMPLE_RATE
        pieces.append(0.4 * np.sin(2 * np.pi * (180 + 20 * (index % 5)) * t))
        pause = 0.35 if word.endswith((".", ",", "!", "?")) else 0.02
        pieces.append(np.zeros(int(pause * SAMPLE_RATE)))
    samples = (np.concatenate(pieces) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    return header + b"data" + struct.pack("<I", 0xFFFFFFFF) + samples


def png_b64(size: str) -> str:
    width, height = (int(n) for n in size.split("x"))
    gradient = np.linspace(0, 255, width, dtype=np.uint8)
    pixels = np.stack([np.tile(gradient, (height, 1))] * 3, axis=-1)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _next_fault(self, path: str, body: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path in (None, path) and fault.reply in (None, _reply_name(body)):
                    self._faults.remove(fault)
                    return fault
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        body = json.loads(raw or b"{}")
        path = handler.path.split("?")[0]
        with self._lock:
            self.requests.append(
                Recorded(
                    path, {k.lower(): v for k, v in handler.headers.items()}, body, time.monotonic()
                )
            )
        fault = self._next_fault(path, body)
        try:
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "status":
                self._error(handler, fault.status, fault.message, fault.code, fault.headers)
                return
            auth = handler.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                self._error(handler, 401, "You didn't provide an API key.", "invalid_api_key")
                return
            if not body.get("model"):
                raise BadRequest("you must provide a model parameter")
            self._answer(handler, path, body, fault)
        except BadRequest as problem:
            self._error(handler, 400, str(problem), "invalid_request_error")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _answer(
        self, handler: BaseHTTPRequestHandler, path: str, body: dict[str, Any], fault: Fault | None
    ) -> None:
        if path == "/v1/chat/completions":
            self._json(handler, self._chat(body, fault))
        elif path == "/v1/moderations":
            self._json(handler, self._moderation(body))
        elif path == "/v1/embeddings":
            self._json(handler, self._embeddings(body))
        elif path == "/v1/audio/speech":
            if body.get("response_format") != "wav" or not body.get("input"):
                raise BadRequest("this fake only speaks non-empty input as wav")
            self._send(handler, 200, speech_wav(body["input"]), "audio/wav")
        elif path == "/v1/images/generations":
            image = {"b64_json": png_b64(body.get("size", "1024x1024"))}
            self._json(handler, {"created": int(time.time()), "data": [image]})
        else:
            self._error(handler, 404, f"Invalid URL (POST {path})", None)

    def _chat(self, body: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        messages = body.get("messages") or []
        if not messages:
            raise BadRequest("'messages' must be a non-empty array")
        schema = (body.get("response_format") or {}).get("json_schema") or {}
        name = _reply_name(body)
        if name not in STRUCTURED_REPLIES or schema.get("strict") is not True:
            raise BadRequest(f"expected a strict json_schema named one of {STRUCTURED_REPLIES}")
        check_strict_schema(schema["schema"])
        system = next(m["content"] for m in messages if m["role"] == "system")
        payload = json.loads(next(m["content"] for m in messages if m["role"] == "user"))
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if fault is not None and fault.kind == "refusal":
            message["refusal"] = "I'm sorry, I can't help with that."
        elif fault is not None and fault.kind == "invalid_reply":
            message["content"] = json.dumps({"summary": 42})
        elif name == "ResearchReply":
            message["content"] = json.dumps(_research_reply(payload))
        elif name == "DnaReply":
            message["content"] = json.dumps(_dna_reply(payload))
        else:
            message["content"] = json.dumps(_script_reply(system, payload))
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4
        completion_tokens = len(message["content"] or message["refusal"]) // 4
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _moderation(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = []
        for text in inputs:
            scores = {
                name: (
                    0.93 if name in _FLAGGED_WORDS and _FLAGGED_WORDS[name].search(text) else 0.01
                )
                for name in MODERATION_CATEGORIES
            }
            flags = {name: score > 0.5 for name, score in scores.items()}
            results.append(
                {
                    "flagged": any(flags.values()),
                    "categories": flags,
                    "category_scores": scores,
                    "category_applied_input_types": {name: ["text"] for name in scores},
                }
            )
        return {"id": "modr-fake", "model": body["model"], "results": results}

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if not inputs or any(not isinstance(t, str) or not t for t in inputs):
            raise BadRequest("'$.input' is invalid: every input must be a non-empty string")
        dimension = body.get("dimensions") or EMBEDDING_DIMENSIONS[body["model"]]
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(text, dimension)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(text) for text in inputs) // 4
        return {
            "object": "list",
            "model": body["model"],
            # Reversed: clients must order by `index`, not by position.
            "data": data[::-1],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _json(self, handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        self._send(handler, 200, json.dumps(payload).encode(), "application/json")

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        message: str,
        code: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        error = {"error": {"message": message, "type": "error", "param": None, "code": code}}
        self._send(handler, status, json.dumps(error).encode(), "application/json", headers)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)


def _reply_name(body: dict[str, Any]) -> str | None:
    """The name of the structured reply a chat request asks for."""
    response_format = body.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name")
    return str(name) if name else None
