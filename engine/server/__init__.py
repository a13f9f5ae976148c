"""The local API: OpenAI- and Ollama-compatible HTTP endpoints for the engine's loaded model (aiohttp)."""

from engine.server.request_queue import Served
from engine.server.runner import DEFAULT_PORT, ServerConfig, ServerHandle, start_server

__all__ = ["DEFAULT_PORT", "Served", "ServerConfig", "ServerHandle", "start_server"]
