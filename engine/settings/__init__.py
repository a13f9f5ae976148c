"""Cabin's settings: one typed schema (`schema`), its file on disk (`file`) and upgrades of older files
(`migrations`). No Qt: the window's Preferences, the CLI and the server read the same settings."""
