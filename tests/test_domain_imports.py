"""The domain modules (messages, conversations, settings, API request parsing) load without MLX, torch or Qt:
`cabin chat`'s history, the server's parsers and the window's store cost no heavy import."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = ["engine.messages", "engine.chat_template", "engine.conversations.store", "engine.conversations.history",
          "engine.settings.file", "engine.server.openai_requests", "engine.server.ollama_requests",
          "engine.library.store", "engine.library.search", "engine.library.indexer", "engine.library.retrieval"]
HEAVY = ["mlx", "mlx_lm", "torch", "transformers", "PySide6"]


def test_the_domain_modules_import_nothing_heavy() -> None:
    script = f"import sys\nfor name in {DOMAIN!r}: __import__(name)\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
