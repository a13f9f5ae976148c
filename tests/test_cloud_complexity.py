"""The complexity score from cheap local signals, and the pure Local/Cloud decision built on it."""

from __future__ import annotations

from engine.cloud.complexity import score_request
from engine.cloud.judge import verdict_of
from engine.cloud.provider import Provider
from engine.cloud.route import Route, decide
from engine.messages import File, assistant, user

PROVIDER = Provider("openai", "", "gpt-4o-mini")
STEPS = ("First, analyse our deployment and list its trade-offs. Then compare step by step:\n"
         "1. Kubernetes\n2. A single VM\n3. Serverless\nFinally, design a migration plan and explain why.")


def test_a_short_question_scores_low_and_reads_as_simple() -> None:
    assert score_request([user("What is the capital of France?")]).reason == "short simple request"
    assert score_request([user("What is the capital of France?")]).score < 0.1


def test_a_multi_step_request_scores_high() -> None:
    found = score_request([user(STEPS)])
    assert found.score >= 0.6 and found.reason == "multi-step request"


def test_length_code_maths_and_attachments_each_raise_the_score() -> None:
    base = score_request([user("Please help.")]).score
    for text in ("word " * 300, "```python\ndef f(x):\n    return x\n```\nwhy?", "Prove the integral of x is x^2/2"):
        assert score_request([user(text)]).score > base + 0.15
    attached = user("Summarise.", [File(name="notes.md", text="notes " * 50)])
    assert "with attachments" in score_request([attached]).reason


def test_signals_combine_but_never_pass_one() -> None:
    everything = STEPS + "\n```\nint main() {\n}\n```\nProve the theorem and the integral. " + "more " * 900
    found = score_request([user(everything, [File(name="a", text="x"), File(name="b", text="y")])])
    assert 0.95 <= found.score <= 1.0 and found.reason.startswith("long code maths multi-step request")


def test_only_the_last_question_is_scored() -> None:
    assert score_request([user(STEPS), assistant("Done."), user("Thanks!")]).score < 0.1


def test_local_only_is_local_without_a_score() -> None:
    assert decide("local", False, None, PROVIDER, score_request([user(STEPS)]), 0.6) == Route("local", "")


def test_private_offline_and_no_provider_keep_auto_and_cloud_local() -> None:
    hard = score_request([user(STEPS)])
    assert decide("cloud", True, None, PROVIDER, hard, 0.6).label == "Local: private conversation"
    assert decide("auto", False, "offline", PROVIDER, hard, 0.6).label == "Local: offline"
    assert decide("cloud", False, None, None, hard, 0.6).label == "Local: no cloud provider set up"


def test_auto_compares_the_score_with_the_threshold() -> None:
    hard = score_request([user(STEPS)])
    assert decide("auto", False, None, PROVIDER, hard, hard.score).target == "cloud"
    assert decide("auto", False, None, PROVIDER, hard, hard.score + 0.01).target == "local"


def test_the_label_reads_like_the_issue_asks() -> None:
    assert Route("cloud", "long multi-step request", 0.71).label == "Cloud: long multi-step request, score 0.71"


def test_the_local_models_verdict_is_read_from_its_first_word() -> None:
    assert (verdict_of(" Hard."), verdict_of("easy"), verdict_of("Maybe hard")) == (1.0, 0.0, None)
