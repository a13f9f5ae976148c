"""Hybrid routing: answers from a cloud model (OpenAI-compatible or Anthropic) when the user opts in.

Local-first: every conversation is Local only unless the user picks Auto or Cloud; a private conversation, an
offline machine (`HF_HUB_OFFLINE`, the Offline setting) or a Local-only conversation never opens a socket.
Qt-free: the window, `cabin serve --route auto` and the tests use the same router (router.py).
"""
