"""Chatting in the window: streaming, stopping, regenerating, editing, branches, system prompt."""

from __future__ import annotations

from app.chat.chat_view import STICK_MARGIN
from tests.app_fixtures import WAIT, chat_pane, send


def test_a_prompt_streams_an_answer_into_the_window(qtbot, window) -> None:
    pane = chat_pane(window)
    streamed = []
    pane.session.sig_streamed.connect(lambda text, _stats: streamed.append(text))
    send(qtbot, pane, "Hello")
    question, answer = pane.session.thread
    assert question.text == "Hello"
    assert answer.text == "".join(streamed)
    assert answer.finish_reason in ("stop", "length") and answer.generated_tokens > 0
    assert [v.message.id for v in pane.chat.views] == [question.id, answer.id]
    assert pane.composer.edit.toPlainText() == ""


def long_answer_settings(window) -> None:
    window.context.settings.set("max_tokens", 100_000)


def test_stop_ends_the_answer_and_keeps_the_partial_text_marked_stopped(qtbot, window) -> None:
    pane = chat_pane(window)
    long_answer_settings(window)
    pane.composer.edit.setPlainText("Write a table")
    pane.composer.button.click()
    qtbot.waitUntil(lambda: len(pane.session.live_text) > 20, timeout=WAIT)
    pane.composer.button.click()  # the Send button reads "Stop" while an answer is written
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    answer = pane.session.thread[-1]
    assert answer.finish_reason == "cancelled"
    assert 0 < answer.generated_tokens < 100_000 and answer.text
    assert "stopped" in pane.chat.views[-1].footer.text()
    assert pane.composer.button.text() == "Send"


def test_escape_stops_the_answer(qtbot, window) -> None:
    pane = chat_pane(window)
    long_answer_settings(window)
    pane.send("Write a table")
    qtbot.waitUntil(lambda: len(pane.session.live_text) > 20, timeout=WAIT)
    assert pane.stop_action.isEnabled() and pane.stop_action.shortcut().toString() == "Esc"
    pane.stop_action.trigger()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    assert pane.session.thread[-1].finish_reason == "cancelled"


def test_regenerate_adds_a_second_version_of_the_answer(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    first = pane.session.thread[-1]
    pane.chat.views[-1].action_button.click()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    second = pane.session.thread[-1]
    assert second.id != first.id and second.parent_id == first.parent_id
    assert pane.chat.views[-1].switcher.label.text() == "2 / 2"


def test_switching_back_shows_the_first_answer(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    first = pane.session.thread[-1]
    pane.session.regenerate()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    pane.chat.views[-1].switcher.previous.click()
    assert pane.session.thread[-1].id == first.id
    assert pane.chat.views[-1].switcher.label.text() == "1 / 2"


def test_editing_a_question_resends_from_there_and_keeps_the_old_branch(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    send(qtbot, pane, "Tell me more")
    old_thread = pane.session.thread
    first_question = pane.chat.views[0]
    first_question.action_button.click()  # Edit
    first_question.editor.setPlainText("Hi there")
    first_question.edit_send_button.click()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    question, answer = pane.session.thread
    assert question.text == "Hi there" and question.parent_id is None
    assert answer.finish_reason in ("stop", "length")
    pane.chat.views[0].switcher.previous.click()
    assert [m.id for m in pane.session.thread] == [m.id for m in old_thread]


def test_a_second_turn_reuses_the_prompt_cache(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    send(qtbot, pane, "Tell me more")
    first, second = [m for m in pane.session.thread if m.role == "assistant"]
    assert second.cached_tokens >= first.prompt_tokens


def test_the_system_prompt_is_kept_with_the_conversation(qtbot, window) -> None:
    pane = chat_pane(window)
    pane.session.set_system_prompt("You are terse.")
    send(qtbot, pane, "Hello")
    conversation = window.context.store.conversation(pane.session.conversation_id)
    assert conversation.system_prompt == "You are terse."
    assert pane.system_bar.summary.text() == "You are terse."


def test_the_answer_footer_shows_tokens_speed_and_ttft(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    footer = pane.chat.views[-1].footer.text()
    assert "tokens" in footer and "tok/s" in footer and "TTFT" in footer


def test_the_status_bar_names_the_model(window, llama_model) -> None:
    assert llama_model.name in window.model_label.text()


def test_the_status_bar_shows_memory(qtbot, window) -> None:
    qtbot.waitUntil(lambda: "Model memory" in window.memory_label.text(), timeout=WAIT)


def test_coming_back_to_a_conversation_reuses_its_cache(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    first_id = pane.session.conversation_id
    pane.new_chat()
    send(qtbot, pane, "Tell me about the weather")
    pane.session.open(first_id)
    send(qtbot, pane, "Tell me more")
    assert pane.session.thread[-1].cached_tokens >= pane.session.thread[1].prompt_tokens


def test_an_answer_keeps_streaming_while_another_conversation_is_open(qtbot, window) -> None:
    pane = chat_pane(window)
    window.context.settings.set("max_tokens", 400)
    pane.send("Write a table")
    first_id = pane.session.conversation_id
    qtbot.waitUntil(lambda: len(pane.session.live_text) > 10, timeout=WAIT)
    pane.new_chat()
    assert pane.chat.currentWidget() is pane.chat.empty
    pane.session.open(first_id)
    assert pane.chat.views[-1].body.toPlainText().startswith(pane.session.thread[-1].text[:10])
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    answer = window.context.store.thread(first_id)[-1]
    assert answer.finish_reason in ("stop", "length")
    assert pane.chat.views[-1].message == answer


def test_the_view_follows_a_growing_answer(qtbot, window) -> None:
    pane = chat_pane(window)
    window.context.settings.set("max_tokens", 2000)
    send(qtbot, pane, "Write a table")
    bar = pane.chat.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=WAIT)


def test_the_view_stays_put_when_the_user_scrolled_up(qtbot, window) -> None:
    pane = chat_pane(window)
    window.context.settings.set("max_tokens", 2000)
    send(qtbot, pane, "Write a table")
    bar = pane.chat.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT)
    pane.send("Tell me more")
    qtbot.waitUntil(lambda: len(pane.session.live_text) > 100 and bar.maximum() > STICK_MARGIN, timeout=WAIT)
    bar.setValue(0)  # farther from the end than the margin within which the view follows
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    assert bar.value() == 0
