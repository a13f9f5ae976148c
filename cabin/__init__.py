"""The composition root: the `cabin` command, above both the app and the engine.

It is the only package that knows both: `app` builds on `engine`, `engine` knows neither (pyproject.toml's
import-linter contracts keep it so).
"""
