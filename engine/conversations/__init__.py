"""Conversations: the message tree (`model`), the SQLite store (`store`) and the history a model is asked
with (`history`), shared by the window and `cabin chat`."""
