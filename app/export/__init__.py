"""The Core ML export pane."""
