"""Hybrid routing in the window: the composer says who will answer, a routed answer streams into the same
window with its route under it and is stored with its provider and model, Preferences ▸ Cloud keeps the key in
the keychain, and the Performance view counts the cloud's tokens and cost."""

from __future__ import annotations

import pytest

from app.preferences.window import PreferencesWindow
from engine.cloud.keys import get_key, set_key
from engine.cloud.provider import provider_from
from tests.app_fixtures import WAIT, add_folder_and_wait, chat_pane, send

HARD = ("First, analyse our deployment and list its trade-offs. Then compare step by step:\n"
        "1. Kubernetes\n2. A single VM\n3. Serverless\nFinally, design a migration plan and explain why.")


@pytest.fixture
def cloud_window(window, fake_cloud, memory_keyring, cloud_reachable):
    """The window with the tiny local model, and the fake provider set up in its settings with a stored key."""
    settings = window.context.settings
    settings.update({"cloud_base_url": f"{fake_cloud.url}/v1", "cloud_model": "fake-gpt",
                     "cloud_input_cost": 3.0, "cloud_output_cost": 15.0})
    set_key(provider_from(settings.values), "sk-test")
    return window


def choose(pane, mode: str, private: bool = False) -> None:
    pane.route_bar.mode.setCurrentIndex(pane.route_bar.mode.findData(mode))
    pane.route_bar.private.setChecked(private)


def preview_text(qtbot, pane, text: str) -> str:
    pane.composer.edit.setPlainText(text)
    with qtbot.waitSignal(pane.route_bar.sig_preview_due, timeout=WAIT):
        pass
    return pane.route_bar.answers.text()


def test_a_new_conversation_is_local_only_and_says_so(cloud_window) -> None:
    pane = chat_pane(cloud_window)
    assert pane.route_bar.mode.currentData() == "local" and pane.route_bar.answers.text() == "→ Local"


def test_auto_with_an_empty_composer_waits_for_the_message(qtbot, cloud_window) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "auto")
    assert pane.route_bar.answers.text() == "→ Local or Cloud, by each message's score"


def test_the_composer_shows_who_will_answer_before_sending(qtbot, cloud_window) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "auto")
    assert preview_text(qtbot, pane, HARD).startswith("→ Cloud: multi-step request, score 0.")
    assert preview_text(qtbot, pane, "Hi there") == "→ Local: short simple request, score 0.00"
    pane.route_bar.private.setChecked(True)
    assert preview_text(qtbot, pane, HARD) == "→ Local: private conversation"


def test_a_cloud_answer_streams_into_the_window_with_its_route_and_is_stored_with_provider_and_model(
    qtbot, cloud_window, fake_cloud
) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "cloud")
    streamed = []
    pane.session.sig_streamed.connect(lambda text, _stats: streamed.append(text))
    send(qtbot, pane, HARD)
    answer = pane.session.thread[-1]
    assert answer.text == "".join(streamed) == "Paris is the capital."
    assert (answer.model, answer.provider) == ("fake-gpt", f"OpenAI-compatible (127.0.0.1:{fake_cloud.port})")
    assert answer.cost == pytest.approx((12 * 3 + 4 * 15) / 1e6) and answer.generated_tokens == 4
    assert pane.chat.views[-1].footer.text().startswith("Cloud: chosen for this conversation, score 0.")


def test_a_dropped_cloud_answer_is_finished_by_the_local_model_in_the_same_message(
    qtbot, cloud_window, fake_cloud
) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "cloud")
    fake_cloud.script.drop_after = 2
    send(qtbot, pane, HARD)
    answer = pane.session.thread[-1]
    assert answer.text.startswith("Paris is \n\n*(The cloud answer stopped here:") and answer.finish_reason == "length"
    assert pane.chat.views[-1].footer.text().startswith("Local: cloud failed (The connection to 127.0.0.1:")


def test_a_private_conversation_in_cloud_mode_opens_no_socket(qtbot, cloud_window, socket_connects, fake_cloud) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "cloud", private=True)
    send(qtbot, pane, HARD)
    assert pane.session.thread[-1].route == "Local: private conversation"
    assert socket_connects == [] and fake_cloud.requests == []


def test_each_conversation_keeps_its_own_mode(qtbot, cloud_window) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "auto", private=True)
    send(qtbot, pane, "Hello")
    kept = pane.session.conversation_id
    pane.new_chat()
    assert (pane.route_bar.mode.currentData(), pane.route_bar.private.isChecked()) == ("local", False)
    pane.session.open(kept)
    assert (pane.route_bar.mode.currentData(), pane.route_bar.private.isChecked()) == ("auto", True)


def test_the_performance_view_counts_cloud_tokens_and_cost(qtbot, cloud_window, tmp_path) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "cloud")
    send(qtbot, pane, HARD)
    preferences = PreferencesWindow(cloud_window.context)
    qtbot.addWidget(preferences)
    box = preferences.performance.cloud_box
    box.refresh()
    assert box.answers_figure.value.text() == "1" and box.tokens_figure.detail.text() == "12 in · 4 out"
    assert box.cost_figure.value.text() == "$0.0001"
    preferences.show_page("Performance")
    preferences.resize(780, 720)
    preferences.grab().save(str(tmp_path / "performance-cloud.png"))


def test_preferences_store_the_key_in_the_keychain_and_test_the_connection(
    qtbot, cloud_window, memory_keyring, tmp_path
) -> None:
    preferences = PreferencesWindow(cloud_window.context)
    qtbot.addWidget(preferences)
    preferences.show_page("Cloud")
    row = preferences.cloud_key
    row.key_edit.setText("sk-new-key")
    row.save_button.click()
    assert get_key(provider_from(cloud_window.context.settings.values)) == "sk-new-key" and row.key_edit.text() == ""
    assert "sk-new-key" not in (cloud_window.context.data_dir / "settings.json").read_text()
    with qtbot.waitSignal(row.sig_checked, timeout=WAIT):
        row.test_button.click()
    assert row.status.text().startswith("Connected: fake-gpt answered “Paris is the capital.” in ")
    preferences.resize(780, 720)
    preferences.grab().save(str(tmp_path / "preferences-cloud.png"))


def test_test_connection_refuses_while_offline_without_a_socket(qtbot, cloud_window, socket_connects) -> None:
    cloud_window.context.settings.set("offline", True)
    preferences = PreferencesWindow(cloud_window.context)
    qtbot.addWidget(preferences)
    with qtbot.waitSignal(preferences.cloud_key.sig_checked, timeout=WAIT):
        preferences.cloud_key.test_button.click()
    assert preferences.cloud_key.status.text().startswith("Offline is on") and socket_connects == []


def test_an_auto_conversation_with_the_real_model_shows_who_answered_each_question(
    qtbot, smollm2_window, fake_cloud, memory_keyring, cloud_reachable, tmp_path
) -> None:
    settings = smollm2_window.context.settings
    settings.update({"cloud_base_url": f"{fake_cloud.url}/v1", "cloud_model": "fake-gpt", "max_tokens": 24})
    set_key(provider_from(settings.values), "sk-test")
    pane = chat_pane(smollm2_window)
    pane.session.set_system_prompt("You are a helpful AI assistant.")
    choose(pane, "auto")
    send(qtbot, pane, "What is the capital of France?")
    send(qtbot, pane, HARD)
    _, local, _, cloud = pane.session.thread
    smollm2_window.resize(1100, 760)
    qtbot.wait(300)  # let the resized window lay out before it is drawn
    smollm2_window.grab().save(str(tmp_path / "routed.png"))
    assert "Paris" in local.text and local.route == "Local: short simple request, score 0.01" and local.provider is None
    assert cloud.text == "Paris is the capital." and cloud.route.startswith("Cloud: multi-step request, score 0.")
    assert [v.footer.text().split(" · ")[0] for v in pane.chat.views[1::2]] == [local.route, cloud.route]
    assert [v.author.text() for v in pane.chat.views[1::2]] == ["SmolLM2-135M-Instruct.Q4_1", "fake-gpt"]


def test_an_answer_from_the_conversations_documents_stays_local_in_cloud_mode(
    qtbot, cloud_window, fake_cloud, socket_connects, encoder_in_store, handbook
) -> None:
    pane = chat_pane(cloud_window)
    choose(pane, "cloud")
    add_folder_and_wait(qtbot, pane, handbook)
    send(qtbot, pane, HARD)
    assert pane.session.thread[-1].route == "Local: answers from your documents stay on this machine"
    assert fake_cloud.requests == [] and socket_connects == []


def test_the_preview_says_a_conversation_with_documents_answers_locally(qtbot, cloud_window, encoder_in_store,
                                                                       handbook) -> None:  # fmt: skip
    pane = chat_pane(cloud_window)
    choose(pane, "cloud")
    add_folder_and_wait(qtbot, pane, handbook)
    pane.composer.edit.setPlainText(HARD)
    qtbot.waitUntil(lambda: pane.route_bar.answers.text() == "→ Local: answers from your documents stay on this machine",
                    timeout=WAIT)  # fmt: skip
