"""Tool calling: which tool-call format a model speaks, the choice a request makes, and the calls read back out.

The tools themselves are rendered by the model's own chat template (its `tools` argument); the calls are
read out of the answer with mlx_lm's parser for the model's family (engine/tools/format.py); a forced
call is constrained by a grammar so that it is always a valid call (engine/tools/forced.py).
"""
