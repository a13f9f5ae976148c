"""The stream pump: a frame's worth of the worker's events reaches the UI as one signal, then the end once."""

from __future__ import annotations

from app.chat.stream_pump import StreamPump
from engine.generation import Finished, Generation, Stats, Token


def stats(generated: int) -> Stats:
    return Stats(5, 5, 100.0, generated, 50.0, 0.1, 0)


def test_the_tokens_of_one_frame_arrive_as_one_signal(qtbot) -> None:
    pump, frames = StreamPump(), []
    pump.sig_frame.connect(lambda delta, _thought: frames.append(delta))
    generation = Generation()
    pump.start(generation)
    for n, text in enumerate(["Hel", "lo", " there"], start=1):
        generation.emit(Token(text, n, stats(n)))
    pump.poll()
    assert frames == ["Hello there"]
    assert (pump.text, pump.stats.generated_tokens) == ("Hello there", 3)
    pump.release()


def test_the_end_of_the_answer_is_signalled_after_its_last_frame(qtbot) -> None:
    pump, heard = StreamPump(), []
    pump.sig_frame.connect(lambda delta, _thought: heard.append(("frame", delta)))
    pump.sig_finished.connect(lambda finished: heard.append(("finished", finished.finish_reason)))
    generation = Generation()
    pump.start(generation)
    generation.emit(Token("Hi", 1, stats(1)))
    generation.emit(Finished("Hi", "stop", stats(1), (1,)))
    pump.poll()
    assert heard == [("frame", "Hi"), ("finished", "stop")]


def test_waiting_asks_the_worker_to_stop_and_takes_in_what_it_sent(qtbot) -> None:
    pump, ended = StreamPump(), []
    pump.sig_finished.connect(ended.append)
    generation = Generation()
    pump.start(generation)
    generation.emit(Token("Par", 1, stats(1)))
    generation.emit(Finished("Par", "cancelled", stats(1), (1,)))
    pump.wait(timeout=1.0)
    assert generation.stop_requested.is_set()
    assert pump.text == "Par" and [f.finish_reason for f in ended] == ["cancelled"]


def test_released_the_pump_is_idle_and_forgets_the_answer(qtbot) -> None:
    pump = StreamPump()
    pump.start(Generation())
    pump.release()
    assert (pump.running, pump.text, pump.reasoning, pump.stats) == (False, "", "", None)


def test_thinking_and_answer_of_one_frame_arrive_apart_in_one_signal(qtbot) -> None:
    pump, frames = StreamPump(), []
    pump.sig_frame.connect(lambda delta, thought: frames.append((delta, thought)))
    generation = Generation()
    pump.start(generation)
    generation.emit(Token("", 1, stats(1), "Let me see."))
    generation.emit(Token("Yes", 2, stats(2), " Done."))
    pump.poll()
    assert frames == [("Yes", "Let me see. Done.")]
    assert (pump.text, pump.reasoning) == ("Yes", "Let me see. Done.")
    pump.release()
