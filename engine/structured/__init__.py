"""Structured output: grammars that constrain what a model may write (JSON, a JSON schema, a tool call).

`grammar` says what is allowed, as plain data a request can carry; `matcher` follows one answer's tokens
through it with llguidance and tells which tokens may come next. Backends turn a matcher into their own
logits mask (engine/backends/mlx_grammar.py for MLX).
"""
