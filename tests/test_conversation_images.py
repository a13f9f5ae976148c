"""Images kept with a conversation: one file per image beside the database, named by its sha256, read back as a
file: URL the engine reads; exports carry the image itself."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

from app.chat.transcript import to_json, to_markdown
from engine.conversations.store import ConversationStore
from engine.images import image_bytes
from engine.messages import Image, Message, Text
from tests.vision_factory import png_bytes

RED = png_bytes((200, 30, 30))
DIGEST = hashlib.sha256(RED).hexdigest()


def asked(store: ConversationStore) -> tuple[str, str]:
    conversation = store.create_conversation()
    image = Image(data=base64.b64encode(RED).decode("ascii"))
    stored = store.add_message(conversation.id, None, Message("user", (image, Text("What is this?"))))
    return conversation.id, stored.id


def test_an_image_is_a_file_named_by_its_digest_beside_the_database(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    asked(store)
    assert (tmp_path / "images" / DIGEST).read_bytes() == RED


def test_the_message_keeps_the_digest_not_the_bytes(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    _, message_id = asked(store)
    [raw] = sqlite3.connect(tmp_path / "history.db").execute("SELECT parts FROM messages WHERE id=?", (message_id,)).fetchone()
    assert json.loads(raw)[0] == {"type": "image", "url": None, "data": None, "detail": None, "sha256": DIGEST,
                                  "media_type": "image/png"}


def test_a_reopened_store_gives_the_image_back_as_a_file_url_the_engine_reads(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    conversation_id, _ = asked(store)
    store.close()
    [message] = ConversationStore(tmp_path / "history.db").thread(conversation_id)
    image = message.parts[0]
    assert image.url == (tmp_path / "images" / DIGEST).as_uri()
    assert image_bytes(image) == RED


def test_the_same_image_twice_is_stored_once(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    asked(store)
    asked(store)
    assert [p.name for p in (tmp_path / "images").iterdir()] == [DIGEST]


def test_exports_carry_the_image_itself(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    conversation_id, _ = asked(store)
    conversation, tree = store.conversation(conversation_id), store.tree(conversation_id)
    thread = store.thread(conversation_id)
    encoded = base64.b64encode(RED).decode("ascii")
    assert f"![image](data:image/png;base64,{encoded})" in to_markdown(conversation, thread)
    [message] = json.loads(to_json(conversation, tree, thread))["messages"]
    assert message["parts"][0]["data"] == encoded and message["parts"][0]["url"] is None


def test_purging_a_deleted_conversation_deletes_the_images_only_it_held(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "history.db")
    kept, _ = asked(store)
    gone = store.create_conversation()
    blue = Image(data=base64.b64encode(png_bytes((30, 30, 200))).decode("ascii"))
    store.add_message(gone.id, None, Message("user", (blue, Text("And this?"))))
    store.delete(gone.id)
    store.purge_deleted()
    assert [p.name for p in (tmp_path / "images").iterdir()] == [DIGEST]
    assert store.thread(kept)[0].parts[0].sha256 == DIGEST
