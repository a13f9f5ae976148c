"""The Preferences window: settings from the typed schema, and the performance view."""
