"""The Chat pane: conversation list on the left; the conversation, system prompt and composer on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.attaching import Attacher
from app.chat.chat_view import ChatView
from app.chat.composer import Composer
from app.chat.conversation_list import ConversationList
from app.chat.documents import ChatDocuments
from app.chat.library_watch import LibraryWatcher
from app.chat.documents_bar import DocumentsBar
from app.chat.first_run import OFFERING, FirstRun
from app.chat.route_bar import RouteBar, attach_route_bar
from app.chat.session import ChatSession
from app.chat.think_toggle import ThinkToggle
from app.chat.transcript import to_json, to_markdown
from app.context import AppContext
from app.model_state import ModelStatus

EXPORT_SUFFIX = {"markdown": ".md", "json": ".json"}


class SystemPromptBar(QWidget):
    """A one-line summary of the conversation's system prompt; clicking it edits the prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setToolTip("The instructions the model gets before this conversation")
        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(placeholder-text)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 4, 16, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.summary, 1)

    def show_prompt(self, prompt: str) -> None:
        first_line = prompt.strip().splitlines()[0] if prompt.strip() else ""
        self.button.setText("System prompt:" if first_line else "Add a system prompt…")
        self.summary.setText(first_line[:120])


class ChatPane(QWidget):
    sig_request = Signal(str, object)
    """(pane title, what it should do): the empty chat asks the Models pane to import or download a model."""
    sig_title = Signal(str)
    """The open conversation's title ("" for a new chat not yet sent)."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.setWindowTitle("Chat")
        self.context = context
        self.store = context.store
        self.documents = ChatDocuments(context.engine, context.data_dir)
        self.library_watcher = LibraryWatcher(self.documents)
        self.session = ChatSession(context, self.documents)
        self.documents_bar = DocumentsBar(self.documents, lambda: self.session.conversation_id)
        self.conversations = ConversationList()
        self.chat = ChatView(self.session, lambda: context.models.name or "Assistant")
        self.system_bar = SystemPromptBar()
        self.think = ThinkToggle()
        self.composer = Composer()
        self.route_bar = RouteBar()
        self.attacher = Attacher(context, self.session, self.composer)
        self.first_run = FirstRun(context, self.chat.empty)
        self._build_actions()
        self._lay_out()
        self._connect()
        self.refresh_conversations()
        self.session.open(None)
        self._model_changed()

    def _lay_out(self) -> None:
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.system_bar)
        column.addWidget(self.documents_bar)
        column.addWidget(self.chat, 1)
        beside = QVBoxLayout()
        beside.setContentsMargins(0, 12, 16, 0)  # level with Send, inside the composer's own margin
        beside.addWidget(self.think)
        beside.addStretch()
        column.addWidget(self.route_bar)
        composer_row = QHBoxLayout()
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(beside)
        column.addLayout(composer_row)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        state = self.context.settings.get("splitter_state")
        if not (state and self.splitter.restoreState(QByteArray.fromHex(state.encode()))):
            self.splitter.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _connect(self) -> None:
        session = self.session
        self.composer.sig_send.connect(self.send)
        self.composer.sig_stop.connect(session.stop)
        self.think.sig_changed.connect(session.set_thinking)
        self.chat.sig_edit.connect(session.edit)
        self.chat.sig_regenerate.connect(session.regenerate)
        self.chat.sig_switch.connect(session.switch_branch)
        self.chat.empty.sig_choose_model.connect(self.choose_model_folder)
        offers = self.chat.empty.offers
        offers.sig_load.connect(lambda key: self.context.models.load(key))
        offers.sig_import.connect(lambda found: self.sig_request.emit("Models", found))
        offers.sig_download.connect(lambda repo: self.sig_request.emit("Models", repo))
        self.system_bar.button.clicked.connect(self.edit_system_prompt)
        self.conversations.sig_selected.connect(session.open)
        self.conversations.sig_new.connect(self.new_chat)
        self.conversations.sig_search.connect(lambda _text: self.refresh_conversations())
        self.conversations.sig_rename.connect(self._rename)
        self.conversations.sig_delete.connect(self.delete_conversation)
        self.conversations.sig_export.connect(self.export_with_dialog)
        self.conversations.undo_bar.sig_undo.connect(self.undo_delete)
        self.conversations.undo_bar.sig_expired.connect(lambda _id: self.store.purge_deleted())
        session.sig_thread_changed.connect(self._thread_changed)
        session.sig_conversations_changed.connect(self.refresh_conversations)
        session.sig_busy_changed.connect(self._busy_changed)
        self.context.models.sig_changed.connect(self._model_changed)
        self.context.models.sig_changed.connect(lambda: self.think.follow_model(self.context.engine))
        attach_route_bar(self.route_bar, session, self.composer)

    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut: QKeySequence | str | None = None) -> QAction:
            made = QAction(text, self)
            if shortcut is not None:
                made.setShortcut(QKeySequence(shortcut))
            made.triggered.connect(slot)
            return made

        self.new_chat_action = action("New Chat", self.new_chat, QKeySequence.StandardKey.New)
        self.choose_model_action = action("Choose Model Folder…", self.choose_model_folder, QKeySequence.StandardKey.Open)
        self.attach_action = action("Attach File…", self.composer.choose_files, "Ctrl+Shift+A")
        self.export_markdown_action = action("Export as Markdown…", lambda: self.export_with_dialog(None, "markdown"))
        self.export_json_action = action("Export as JSON…", lambda: self.export_with_dialog(None, "json"))
        self.regenerate_action = action("Regenerate Answer", lambda: self.session.regenerate(), "Ctrl+R")
        self.stop_action = action("Stop Answer", self.session.stop, "Esc")
        self.stop_action.setEnabled(False)
        self.system_prompt_action = action("System Prompt…", self.edit_system_prompt)
        self.rename_action = action("Rename…", self.conversations.start_rename)
        self.delete_action = action("Delete Conversation", lambda: self._delete_current())
        self.undo_delete_action = action("Undo Delete", self.conversations.undo_bar.undo)
        for made in (self.stop_action, self.regenerate_action):
            self.addAction(made)

    def populate_menus(self, menus: dict[str, QMenu]) -> None:
        """Put the chat's commands in the window's menu bar."""
        menus["File"].addActions([self.new_chat_action, self.choose_model_action, self.attach_action])
        menus["File"].addSeparator()
        menus["File"].addActions([self.export_markdown_action, self.export_json_action])
        menus["Edit"].addAction(self.undo_delete_action)
        menus["Conversation"].addActions([self.regenerate_action, self.stop_action])
        menus["Conversation"].addSeparator()
        menus["Conversation"].addActions([self.system_prompt_action, self.rename_action, self.delete_action])

    def start(self) -> None:
        """The window is on screen: without a model (none was used before), offer the ones there are once
        the empty chat is drawn (the offers' memory budget imports MLX)."""
        if self.context.models.status in OFFERING:
            self.chat.empty.when_painted(self.first_run.refresh)
        self.documents.catch_up()
        self.library_watcher.watch()

    def shutdown(self) -> None:
        """The window is closing: save the answer being written, erase what was deleted, keep the divider."""
        self.session.finish_now()
        self.library_watcher.stop()
        self.documents.shutdown()
        self.conversations.undo_bar.expire()
        self.context.settings.set("splitter_state", self.splitter.saveState().toHex().data().decode())

    # -- conversations -----------------------------------------------------------------------
    def refresh_conversations(self) -> None:
        found = self.store.conversations(self.conversations.search.text())
        self.conversations.show_conversations(found, self.session.conversation_id)
        self._show_title()

    def _show_title(self) -> None:
        conversation_id = self.session.conversation_id
        self.sig_title.emit(self.store.conversation(conversation_id).title if conversation_id else "")

    def new_chat(self) -> None:
        self.session.open(None)
        self.conversations.list.clearSelection()
        self.conversations.list.setCurrentItem(None)
        self.composer.edit.setFocus()

    def _rename(self, conversation_id: str, title: str) -> None:
        self.store.rename(conversation_id, title)
        self.refresh_conversations()

    def _delete_current(self) -> None:
        if self.session.conversation_id is not None:
            self.delete_conversation(self.session.conversation_id)

    def delete_conversation(self, conversation_id: str) -> None:
        """Hide it at once and offer Undo for a few seconds; only then is it erased."""
        if self.session.answering_in(conversation_id):
            self.session.finish_now()
        title = self.store.conversation(conversation_id).title
        self.store.delete(conversation_id)
        self.context.engine.forget(conversation_id)
        if conversation_id == self.session.conversation_id:
            self.session.open(None)
        self.conversations.undo_bar.offer(conversation_id, title)
        self.refresh_conversations()

    def undo_delete(self, conversation_id: str) -> None:
        self.store.undelete(conversation_id)
        self.session.open(conversation_id)
        self.refresh_conversations()

    # -- chatting ----------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """Send unless there is no model to answer; the text stays in the composer if it was not sent."""
        if self.context.models.status in (ModelStatus.NONE, ModelStatus.FAILED):
            self.composer.show_notice("No model is loaded: choose one with File ▸ Choose Model Folder… first.")
            return
        if self.attacher.pending:
            self.composer.show_notice("Still reading an attached file: send again in a moment.")
            return
        if self.session.send(text, self.composer.attachments):
            self.composer.clear()
            self.refresh_conversations()

    def edit_system_prompt(self) -> None:
        text, ok = QInputDialog.getMultiLineText(
            self, "System Prompt", "Instructions the model gets before this conversation:", self.session.system_prompt
        )
        if ok:
            self.session.set_system_prompt(text)

    def _thread_changed(self) -> None:
        self.system_bar.show_prompt(self.session.system_prompt)
        self.think.show_state(self.session.thinking)
        self.documents_bar.refresh()
        self._model_changed()
        self._show_title()

    def _busy_changed(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        self.stop_action.setEnabled(busy)
        self.regenerate_action.setEnabled(not busy)

    def _model_changed(self) -> None:
        models = self.context.models
        hints = {
            ModelStatus.NONE: ("No model loaded yet: pick one to start chatting. Choose a folder if your MLX model "
                               "(config.json, *.safetensors, tokenizer) is somewhere else.", True),
            ModelStatus.LOADING: (f"Loading {models.loading_name}…", False),
            ModelStatus.READY: (f"Ask {models.name} anything.", False),
            ModelStatus.FAILED: (f"{models.error}\n\nChoose another model folder to continue.", True),
        }
        self.chat.empty.show_hint(*hints[models.status])
        if models.status is ModelStatus.FAILED and self.first_run.started:
            self.first_run.refresh()

    # -- models and files --------------------------------------------------------------------
    def choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a Model Folder")
        if folder:
            self.context.models.load(folder)

    @staticmethod
    def accepts_files(paths: list[Path]) -> bool:
        """Files dropped on the window that the chat takes: anything but a model (a GGUF goes to the Models pane)."""
        return any(p.suffix.lower() != ".gguf" for p in paths)

    def open_files(self, paths: list[Path]) -> None:
        """Attach the files dropped on the window to the next message."""
        self.attacher.attach([p for p in paths if p.suffix.lower() != ".gguf"])

    def export_with_dialog(self, conversation_id: str | None, kind: str) -> None:
        conversation_id = conversation_id or self.session.conversation_id
        if conversation_id is None:
            return
        title = self.store.conversation(conversation_id).title
        suggested = str(Path.home() / (title.replace("/", "-") + EXPORT_SUFFIX[kind]))
        path, _filter = QFileDialog.getSaveFileName(self, "Export Conversation", suggested)
        if not path:
            return
        try:
            self.export(conversation_id, kind, Path(path))
        except OSError as e:
            QMessageBox.warning(self, "Export failed", f"Could not write {path}: {e.strerror or e}")

    def export(self, conversation_id: str, kind: str, path: Path) -> None:
        conversation = self.store.conversation(conversation_id)
        tree = self.store.tree(conversation_id)
        thread = tree.path_to(conversation.current_leaf)
        sources = {message_id: cited for message_id in tree.messages if (cited := self.documents.citations(message_id))}
        text = to_markdown(conversation, thread, sources) if kind == "markdown" else to_json(conversation, tree, thread, sources)
        path.write_text(text, encoding="utf-8")
