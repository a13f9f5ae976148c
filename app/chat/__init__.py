"""The chat pane: conversation list, message view and composer over the engine."""
