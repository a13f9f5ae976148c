"""A streamed OpenAI Chat Completions request as the benchmarks time it: when each chunk with text arrived, and
the usage block the server sends last."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp


async def timed_stream(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> tuple[list[float], dict]:
    """(arrival time of each chunk with text, the usage block) of one streamed request to `url`."""
    body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    times, usage = [], {}
    async with session.post(f"{url}/v1/chat/completions", json=body) as response:
        assert response.status == 200, await response.text()
        async for line in response.content:
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                times.append(time.perf_counter())
            usage = chunk.get("usage") or usage
    return times, usage
