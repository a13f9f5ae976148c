"""What the draft did, counted as mlx_lm drafts: rounds of num_draft_tokens proposals, each ended by the model's own
token; the acceptance, the speedup and the line the CLI and the chat footer show."""

from __future__ import annotations

from engine.backends.mlx_speculative import DraftCounter
from engine.speculative import DraftStats


def counted(from_draft: list[bool], num_draft_tokens: int = 3, max_tokens: int = 100) -> DraftStats:
    counter = DraftCounter(num_draft_tokens, max_tokens, 10.0)
    stats = DraftStats()
    for flag in from_draft:
        stats = counter.add(flag)
    return stats


def test_a_round_whose_drafts_are_all_kept_proposed_as_many_as_it_kept() -> None:
    assert counted([True, True, True, False]) == DraftStats(3, 3, 10.0)


def test_each_round_ended_by_the_models_own_token_proposed_a_full_draft() -> None:
    assert counted([True, False, False, True, True, False]) == DraftStats(9, 3, 10.0)


def test_the_last_round_proposes_only_the_tokens_left() -> None:
    assert counted([True, True, True, False, True], max_tokens=5) == DraftStats(4, 4, 10.0)


def test_acceptance_is_kept_over_proposed() -> None:
    assert DraftStats(8, 6).acceptance == 0.75


def test_the_speedup_is_against_the_model_alone() -> None:
    assert DraftStats(8, 6, baseline_tps=20.0).speedup(30.0) == 1.5


def test_the_line_says_what_was_kept_and_the_speedup() -> None:
    assert DraftStats(8, 6, baseline_tps=20.0).describe(30.0) == "draft 6/8 accepted (75%), ≈1.50× vs without"


def test_an_answer_that_ran_without_the_draft_says_why_and_claims_no_speedup() -> None:
    unused = DraftStats.unused("3 requests batched")
    assert unused.describe(30.0) == "draft not used: 3 requests batched" and unused.speedup(30.0) is None
