"""The local model's own judgement (Preferences ▸ Cloud ▸ Ask the local model to judge too), with the real SmolLM2:
its reply is held to "easy" or "hard" and averaged with the cheap score."""

from __future__ import annotations

import dataclasses

from engine.cloud.complexity import score_request
from engine.cloud.judge import judged
from engine.cloud.router import Request, Router
from engine.generation import SamplingSettings
from engine.messages import user
from engine.settings.schema import DEFAULTS

PRIMES = [user("Prove that there are infinitely many primes.")]
CAPITAL = [user("What is the capital of France?")]


def test_the_real_model_calls_a_proof_hard_and_the_verdict_is_averaged_in(smollm2_llamacpp) -> None:
    cheap = score_request(PRIMES)
    found = judged(smollm2_llamacpp, PRIMES, cheap)
    assert found.reason == f"{cheap.reason}, local model says hard"
    assert found.score == round((cheap.score + 1.0) / 2, 2)


def test_the_real_model_calls_a_capital_question_easy(smollm2_llamacpp) -> None:
    found = judged(smollm2_llamacpp, CAPITAL, score_request(CAPITAL))
    assert found.reason.endswith("local model says easy") and found.score < 0.1


def test_with_judging_on_an_auto_answer_carries_the_verdict_in_its_route(
    smollm2_llamacpp, fake_cloud, memory_keyring, cloud_reachable
) -> None:
    values = dataclasses.replace(DEFAULTS, cloud_base_url=f"{fake_cloud.url}/v1", cloud_model="m", route_judge=True)
    router = Router(smollm2_llamacpp, lambda: values)
    generation = router.answer(Request(CAPITAL, SamplingSettings(temperature=0.0, max_tokens=8), "c"), "auto", False)
    generation.result(60)
    assert generation.route.label == "Local: short simple request, local model says easy, score 0.01"
