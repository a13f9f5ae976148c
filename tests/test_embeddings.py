"""Sentence embeddings with MLX: a BERT encoder, mean-pooled over real tokens and L2-normalised, run on the worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.embeddings.model import SentenceEncoder, is_embedding_model
from engine.generation import Engine
from tests.embedding_factory import reference_embeddings

TEXTS = ["the cat sat on the mat", "hello world", "stock market fell today", "a"]


@pytest.fixture
def encoder(engine: Engine, tiny_encoder: Path) -> SentenceEncoder:
    return engine.submit(lambda: SentenceEncoder(tiny_encoder)).result()


def embed(engine: Engine, encoder: SentenceEncoder, texts: list[str]) -> np.ndarray:
    return np.array(engine.submit(lambda: encoder.embed(texts)[0]).result())


def test_embeddings_match_transformers_on_the_same_weights(engine: Engine, encoder: SentenceEncoder,
                                                           tiny_encoder: Path) -> None:
    np.testing.assert_allclose(embed(engine, encoder, TEXTS), reference_embeddings(tiny_encoder, TEXTS), atol=1e-5)


def test_each_text_gets_one_unit_vector_of_the_models_width(engine: Engine, encoder: SentenceEncoder) -> None:
    vectors = embed(engine, encoder, TEXTS)
    assert vectors.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_a_batch_embeds_each_text_as_it_would_alone(engine: Engine, encoder: SentenceEncoder) -> None:
    alone = np.concatenate([embed(engine, encoder, [text]) for text in TEXTS])
    np.testing.assert_allclose(embed(engine, encoder, TEXTS), alone, atol=1e-5)


def test_the_same_text_gets_the_same_vector(engine: Engine, encoder: SentenceEncoder) -> None:
    assert embed(engine, encoder, TEXTS).tolist() == embed(engine, encoder, TEXTS).tolist()


def test_the_tokens_read_are_counted(engine: Engine, encoder: SentenceEncoder) -> None:
    assert engine.submit(lambda: encoder.embed(["hello world"])[1]).result() == 4  # [CLS] hello world [SEP]


def test_a_bert_folder_is_an_embedding_model_and_a_chat_model_is_not(tiny_encoder: Path, llama_model: Path) -> None:
    assert is_embedding_model(tiny_encoder) and not is_embedding_model(llama_model)


def test_an_embedding_model_folder_can_be_added_to_the_store(cabin_data: Path, tiny_encoder: Path) -> None:
    from engine.models.store import add_model_folder, list_models

    add_model_folder(tiny_encoder)
    assert tiny_encoder.resolve() in [model.path for model in list_models()]


def test_the_store_lists_an_embedding_model_as_one_not_as_a_broken_chat_model(
    cabin_data: Path, tiny_encoder: Path
) -> None:
    from engine.models.store import add_model_folder, list_models

    add_model_folder(tiny_encoder)
    (listed,) = [model for model in list_models() if model.path == tiny_encoder.resolve()]
    assert listed.status.startswith("embedding model")
