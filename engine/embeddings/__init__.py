"""Sentence embeddings: a BERT-style encoder run with MLX on the engine's worker, mean-pooled and L2-normalised."""
