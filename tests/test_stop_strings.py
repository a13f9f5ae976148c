"""Stop strings: the answer ends just before one, nothing of it is ever streamed, finish_reason is "stop"."""

from __future__ import annotations

from engine.generation import Engine, SamplingSettings, Token
from engine.generation.stop_strings import StopStrings
from engine.messages import assistant, user

HELLO = [user("Hello there")]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


def test_a_stop_string_inside_one_piece_ends_the_text_before_it() -> None:
    stops = StopStrings(["END"])
    assert stops.feed("hello END more") == "hello "
    assert stops.hit


def test_a_stop_string_split_across_pieces_is_never_shown() -> None:
    stops = StopStrings(["END"])
    assert [stops.feed(piece) for piece in ("hel", "lo E", "N", "D!")] == ["hel", "lo ", "", ""]
    assert stops.hit


def test_held_back_text_is_released_when_it_turns_out_not_to_be_a_stop() -> None:
    stops = StopStrings(["END"])
    assert stops.feed("E") == ""
    assert stops.feed("x") == "Ex"
    assert not stops.hit


def test_flush_returns_what_was_held_back_at_the_end() -> None:
    stops = StopStrings(["END"])
    stops.feed("the E")
    assert stops.flush() == "E"


def test_the_earliest_of_several_stop_strings_wins() -> None:
    stops = StopStrings(["zz", "b"])
    assert stops.feed("abczz") == "a"


def test_empty_stop_strings_are_ignored() -> None:
    stops = StopStrings([""])
    assert stops.feed("text") == "text"
    assert not stops.hit


def test_generation_stops_before_a_stop_string_and_streams_none_of_it(llama_engine: Engine) -> None:
    full = llama_engine.chat(HELLO, GREEDY, conversation_id="full").result().text
    stop = full[6:9]
    settings = SamplingSettings(temperature=0.0, max_tokens=24, stop=(stop,))
    events = list(llama_engine.chat(HELLO, settings, conversation_id="stopped"))
    finished = events[-1]
    assert (finished.text, finished.finish_reason) == (full[: full.find(stop)], "stop")
    assert "".join(e.text for e in events if isinstance(e, Token)) == finished.text


def test_a_stop_string_that_never_appears_changes_nothing(llama_engine: Engine) -> None:
    full = llama_engine.chat(HELLO, GREEDY, conversation_id="full").result()
    settings = SamplingSettings(temperature=0.0, max_tokens=24, stop=("\x00never\x00",))
    again = llama_engine.chat(HELLO, settings, conversation_id="other").result()
    assert (again.text, again.finish_reason, again.token_ids) == (full.text, "length", full.token_ids)


def test_the_next_turn_after_a_stop_string_still_reuses_the_prompt(llama_engine: Engine) -> None:
    full = llama_engine.chat(HELLO, GREEDY, conversation_id="full").result().text
    stopped = llama_engine.chat(HELLO, SamplingSettings(temperature=0.0, max_tokens=24, stop=(full[6:9],))).result()
    follow_up = [*HELLO, assistant(stopped.text), user("More")]
    answer = llama_engine.chat(follow_up, GREEDY).result()
    assert answer.stats.cached_tokens >= stopped.stats.prompt_tokens
