"""The Models pane: what is on this computer and whether it fits, models other apps keep (found elsewhere), the
catalogue, downloads, conversion, GGUF import or run (as it is, on llama.cpp), deletion.

This module is its controller: the state (stored models, memory budget, search results, the running job) and
the actions; the widgets are app/models/view.py's, what the tables' rows say is app/models/tables.py's.
Everything slow runs off the UI thread (listing and deleting on a helper thread, the memory budget on the
engine's worker because it asks MLX, downloads, conversions and imports as cancellable jobs); one timer
shows their progress at most ten times a second.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFileDialog

from app.context import AppContext
from app.model_state import ModelState, ModelStatus
from app.drafts import set_draft, shown_name
from app.models.convert_dialog import ConvertDialog
from app.models.draft_choice import ask_for_draft, draft_bytes, show_draft
from app.models.jobs import Job, Watcher, run_in_thread
from app.models.requests import RunFound
from app.models.tables import catalogue_rows, fill, installed_rows, select_key, selected_key
from app.models.view import ModelsView, here
from engine.backends import kv_bits_for
from engine.errors import CabinError
from engine.generation import Engine
from engine.memory import format_bytes, system_memory
from engine.jobs import JobCancelled, JobFailed, JobProgress
from engine.models.convert import convert
from engine.models.download import DownloadProgress, pull
from engine.models.elsewhere import FoundModel, scan
from engine.models.fit import DEFAULT_CONTEXT, Fit, Verdict, assess, memory_budget
from engine.models.gguf_model import can_run_gguf, inspect_gguf_model
from engine.models.hub import is_offline, search
from engine.models.import_job import Imported, import_in_child
from engine.models.store import StoredModel, add_model_folder, delete_model, gguf_key, list_models


KEPT_IN_PLACE = ("folder", "gguf")
"""Sources whose models are the user's (or another app's) files: deleting only forgets them."""


class ModelsPane(ModelsView):
    """The view, driven: fills it from the state, runs what its buttons ask for."""

    sig_use_model = Signal(str, bool)
    """The user chose a model to chat with: (repo id or folder path, load it even though it won't fit)."""
    sig_set_draft = Signal(object, object)
    """The user chose a draft model: (the model's ModelInfo, the draft's key or None for none)."""
    sig_request = Signal(str, object)
    """(pane title, request): after "Use for Chat", show the Chat pane (see app/panes.py)."""

    def __init__(self, engine: Engine, context_length: int = DEFAULT_CONTEXT) -> None:
        """`context_length`: what the fit check plans for at first (the chat's, from Preferences)."""
        super().__init__(context_length)
        self.engine = engine
        self.budget: int | None = None
        self._budget_asked = False
        self.models: list[StoredModel] = []
        self.found: list[FoundModel] = []
        self.search_results: list[Any] | None = None
        self.job: Job | None = None
        self.watcher = Watcher(self._show_job_progress)
        self.watcher.setParent(self)  # deleted with the pane: a closed pane's pending reads call nothing back
        self._connect()
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 — Qt's name
        """Ask the engine for the memory budget when the pane is first seen: asking at construction would
        import MLX on the worker while the window is still opening (the chat pane opens first). Each time it is
        shown, the fit follows the KV-cache bits chosen in Preferences meanwhile."""
        super().showEvent(event)
        if not self._budget_asked:
            self._budget_asked = True
            self.watcher.watch(self.engine.submit(memory_budget), self._set_budget)
        elif self.budget is not None:
            self._fill_tables()

    def _connect(self) -> None:
        self.context_box.currentIndexChanged.connect(self._fill_tables)
        self.installed.itemSelectionChanged.connect(self._update_buttons)
        self.catalogue.itemSelectionChanged.connect(self._update_buttons)
        self.installed.doubleClicked.connect(self.use_selected)
        self.catalogue.doubleClicked.connect(self.download_selected)
        self.use_button.clicked.connect(self.use_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.draft_button.clicked.connect(self.choose_draft)
        self.add_button.clicked.connect(self.add_folder)
        self.convert_button.clicked.connect(self.convert_model)
        self.import_button.clicked.connect(self.import_gguf_file)
        self.run_button.clicked.connect(self.run_gguf_file)
        self.elsewhere.sig_import.connect(self.import_found)
        self.elsewhere.sig_run.connect(self.run_found)
        self.download_button.clicked.connect(self.download_selected)
        self.search_field.returnPressed.connect(self.search_hub)
        self.catalogue_button.clicked.connect(self.show_catalogue)
        self.task.cancel.clicked.connect(self.cancel_job)

    # -- reading state -----------------------------------------------------------------------
    def refresh(self) -> None:
        self.watcher.watch(run_in_thread(list_models, "cabin-list-models"), self._set_models)
        self.watcher.watch(run_in_thread(scan, "cabin-scan-elsewhere"), self._set_found)

    def _set_models(self, future: Future) -> None:
        try:
            self.models = future.result()
        except CabinError as e:
            self.say(f"Could not list models: {e}", error=True)
        self._fill_tables()

    def _set_found(self, future: Future) -> None:
        try:
            self.found = future.result()
        except (CabinError, OSError) as e:
            self.say(f"Could not look for other apps' models: {e}", error=True)
        self._fill_tables()

    def _set_budget(self, future: Future) -> None:
        self.budget = future.result()
        self._fill_tables()

    def _show_memory(self) -> None:
        kv = f" · fit counted with a {self.engine.kv_bits}-bit KV cache on MLX" if self.engine.kv_bits else ""
        self.memory_label.setText(f"This machine: {format_bytes(system_memory().total)} of memory, about "
                                  f"{format_bytes(self.budget)} usable for models{kv}")  # fmt: skip

    def fit(self, weights: int, model: StoredModel) -> Fit | None:
        """The model's fit at the chosen context, with the KV cache it would run with (Preferences' bits on MLX)."""
        if self.budget is None or model.info is None:
            return None
        kv_bits = kv_bits_for(model.info, self.engine.kv_bits)
        weights += draft_bytes(self.engine, model, self.models, self.context_length, kv_bits)
        return assess(weights, model.info.kv, self.context_length, self.budget, kv_bits)

    def fit_found(self, model: FoundModel) -> Fit | None:
        return model.fit(self.context_length, self.budget) if self.budget is not None else None

    def _fill_tables(self) -> None:
        if self.budget is not None:
            self._show_memory()
        self.show_installed(installed_rows(self.models, lambda m: self.fit(m.info.weight_bytes if m.info else 0, m)))
        self.elsewhere.show_models(self.found, self.fit_found, idle=self.job is None)
        fill(self.catalogue, catalogue_rows(self.models, self.search_results, self.budget, self.context_length,
                                            self.engine.kv_bits))  # fmt: skip
        self._update_buttons()

    def _update_buttons(self) -> None:
        model = self.selected_model()
        self.use_button.setEnabled(bool(model and model.usable))
        self.delete_button.setEnabled(model is not None)
        show_draft(self.draft_button, self.engine, model)
        idle = self.job is None
        chosen = self.downloaded(selected_key(self.catalogue))
        self.download_button.setText("Use for Chat" if chosen else "Download")
        self.download_button.setEnabled(bool(chosen and chosen.usable) or (idle and selected_key(self.catalogue) is not None))
        self.convert_button.setEnabled(idle)
        self.import_button.setEnabled(idle)
        self.elsewhere.set_idle(idle)
        offline = is_offline()
        self.search_field.setEnabled(not offline)
        self.search_field.setPlaceholderText("Offline: Hub search is off" if offline else "Search mlx-community…")
        self.catalogue_button.setVisible(self.search_results is not None)

    def selected_model(self) -> StoredModel | None:
        key = selected_key(self.installed)
        return next((m for m in self.models if m.key == key), None)

    # -- actions -----------------------------------------------------------------------------
    def use_selected(self) -> None:
        model = self.selected_model()
        if model is None or not model.usable:
            return
        self.use(model.key, self.fit(model.info.weight_bytes, model))

    def use(self, key: str, fit: Fit | None, name: str | None = None) -> None:
        """Load `key` for the chat (after confirming when it won't fit) and show the chat; `name`: what to call it."""
        oversize = fit is not None and fit.verdict is Verdict.WONT_FIT
        if oversize and not self.confirm(
            "Load a model that won't fit?",
            f"{name or key} {fit.describe()}. Loading it may make {here()} swap heavily or fail.",
            "Load Anyway",
        ):
            return
        self.sig_use_model.emit(key, oversize)
        self.say(f"Loading {name or key} for Chat…")
        self.sig_request.emit("Chat", None)

    def choose_draft(self) -> None:
        model = self.selected_model()
        if model is not None and model.info is not None:
            chosen = ask_for_draft(self, self.engine, model, self.models)
            if chosen is not False:
                self.set_draft(model, chosen)

    def set_draft(self, model: StoredModel, draft: str | None) -> None:
        """Give `model` the draft `draft` (a model key; None: none): saved, and used the next time it is loaded."""
        self.sig_set_draft.emit(model.info, draft)
        self.say(f"{model.info.name} will load with {shown_name(draft)} as its draft model." if draft
                 else f"{model.info.name} will load without a draft model.")  # fmt: skip
        self._fill_tables()

    def run_found(self, model: FoundModel) -> None:
        """Run a GGUF another app keeps, as it is (llama.cpp): once loaded it is listed among this machine's models."""
        self.use(gguf_key(model.path), self.fit_found(model), model.name)

    def run_gguf_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Run a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.run_gguf(Path(path))

    def run_gguf(self, path: Path) -> None:
        """Run a GGUF file as it is; its header is read off the UI thread for the fit check."""
        self.watcher.watch(run_in_thread(lambda: inspect_gguf_model(path), "cabin-inspect-gguf"),
                           lambda f: self._run_inspected(path, f))  # fmt: skip

    def _run_inspected(self, path: Path, future: Future) -> None:
        try:
            info = future.result()
        except CabinError as e:
            self.say(str(e), error=True)
            return
        fit = assess(info.weight_bytes, info.kv, self.context_length, self.budget) if self.budget is not None else None
        self.use(gguf_key(path), fit, info.name)

    def delete_selected(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        if model.source in KEPT_IN_PLACE:
            kind = "folder" if model.source == "folder" else "file"
            question, detail, verb = f"Remove this {kind} from the list?", f"{model.path} stays on disk.", "Remove"
        else:
            question, detail, verb = f"Delete {model.key}?", f"This frees {format_bytes(model.size_bytes)}.", "Delete"
        if self.confirm(question, detail, verb):
            self.watcher.watch(run_in_thread(lambda: delete_model(model.key), "cabin-delete"),
                               lambda f: self._deleted(model, f))  # fmt: skip

    def _deleted(self, model: StoredModel, future: Future) -> None:
        try:
            freed = future.result()
        except (CabinError, OSError) as e:
            self.say(f"Could not delete {model.key}: {e}", error=True)
            return
        self.say(f"Removed {model.key} from the list." if model.source in KEPT_IN_PLACE
                 else f"Deleted {model.key}: {format_bytes(freed)} freed.")  # fmt: skip
        self.refresh()

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.add_model_folder(Path(folder))

    def add_model_folder(self, folder: Path) -> None:
        try:
            model = add_model_folder(folder)
        except CabinError as e:
            self.say(str(e), error=True)
            return
        self.say(f"Added {model.key}.")
        self.refresh()

    def downloaded(self, key: str | None) -> StoredModel | None:
        return next((m for m in self.models if m.key == key and m.usable), None)

    def download_selected(self) -> None:
        """Download the chosen catalogue model, or use it if it is already here."""
        key = selected_key(self.catalogue)
        if self.downloaded(key):
            select_key(self.installed, key)
            self.use_selected()
        elif key and self.job is None:
            self.download(key)

    def download(self, key: str) -> None:
        if self.job is not None:
            self.say(f"Wait for “{self.job.title}” to finish before downloading {key}.", error=True)
            return
        select_key(self.catalogue, key)
        self.start_job(f"Downloading {key}", lambda report, cancel: pull(key, report, cancel))

    def take_request(self, request: RunFound | FoundModel | str) -> None:
        """From the empty chat: run or import a model found elsewhere, or download a catalogue repo."""
        if isinstance(request, RunFound):
            self.run_found(request.model)
        elif isinstance(request, FoundModel):
            self.import_found(request)
        else:
            self.download(request)

    def convert_model(self) -> None:
        dialog = ConvertDialog(self)
        if dialog.exec():
            self.start_conversion(*dialog.choice())

    def start_conversion(self, source: str, bits: int, group_size: int) -> None:
        self.start_job(
            f"Converting {Path(source).name or source} to {bits}-bit",
            lambda report, cancel: convert(source, bits, group_size, on_progress=report, cancel=cancel),
        )

    def import_gguf_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.start_import(Path(path))

    def import_found(self, model: FoundModel) -> None:
        """Import (or, for an MLX folder, add) a model another app keeps."""
        if model.kind == "mlx":
            self.add_model_folder(model.path)
        else:
            self.start_import(model.path, model.import_name)

    def start_import(self, path: Path, name: str | None = None) -> None:
        if self.job is not None:
            self.say(f"Wait for “{self.job.title}” to finish before importing {path.name}.", error=True)
            return
        self.start_job(f"Importing {name or path.name}",
                       lambda report, cancel: import_in_child(path, name, on_progress=report, cancel=cancel))  # fmt: skip

    @staticmethod
    def accepts_files(paths: list[Path]) -> bool:
        """Files dropped on the window that this pane takes: GGUF models, to run or import."""
        return any(p.suffix.lower() == ".gguf" for p in paths)

    def open_files(self, paths: list[Path]) -> None:
        """Run or import the first GGUF among files dropped on the window, as the user chooses (import only, without
        llama.cpp; one import runs at a time)."""
        path = next(p for p in paths if p.suffix.lower() == ".gguf")
        choice = self.ask_run_or_import(path.name) if can_run_gguf() else "import"
        if choice == "run":
            self.run_gguf(path)
        elif choice == "import":
            self.start_import(path)

    def search_hub(self) -> None:
        query = self.search_field.text().strip()
        if query:
            self.say(f"Searching the Hub for “{query}”…")
            self.watcher.watch(run_in_thread(lambda: search(query), "cabin-search"), self._show_search)

    def _show_search(self, future: Future) -> None:
        try:
            self.search_results = future.result()
        except CabinError as e:
            self.say(str(e), error=True)
            return
        self.say(f"{len(self.search_results)} mlx-community models found." if self.search_results
                 else "No mlx-community model matches.")  # fmt: skip
        self._fill_tables()

    def show_catalogue(self) -> None:
        self.search_results = None
        self.search_field.clear()
        self._fill_tables()

    # -- long jobs ---------------------------------------------------------------------------
    def start_job(self, title: str, fn: Any) -> None:
        self.job = Job(title, fn)
        self.task.start(title)
        self.say("")
        self.watcher.watch(self.job.future, self._job_done)
        self._update_buttons()

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel.set()
            self.task.cancel.setEnabled(False)
            self.task.detail.setText("cancelling…")

    def _show_job_progress(self) -> None:
        progress = self.job.latest if self.job else None
        if isinstance(progress, DownloadProgress):
            self.task.show_fraction(progress.fraction, progress.describe())
        elif isinstance(progress, JobProgress):
            self.task.show_fraction(progress.fraction, progress.message)

    def _job_done(self, _future: Future) -> None:
        end = self.job.end()
        self.job = None
        self.task.hide()
        self._update_buttons()
        if isinstance(end, JobCancelled):
            self.say(f"{end.message[0].upper()}{end.message[1:]}.")
        elif isinstance(end, JobFailed):
            self.say(end.message, error=True)
        else:
            self.say(self._describe_result(end.result))
        self.refresh()

    @staticmethod
    def _describe_result(result: Any) -> str:
        if isinstance(result, StoredModel):
            return f"{result.key} is ready ({format_bytes(result.size_bytes)}). Select it and choose Use for Chat."
        if isinstance(result, Imported):
            return "\n".join(result.lines)
        ratio = result.after / result.before if result.before else 0
        return (f"Converted: {format_bytes(result.before)} → {format_bytes(result.after)} ({ratio:.0%}). "
                f"{result.model.key} is ready.")  # fmt: skip

    def show_load_result(self, models: ModelState) -> None:
        """After "Use for Chat": say whether the model loaded (and refresh its last-used time) or why not."""
        if models.status is ModelStatus.READY:
            draft = f" Its draft model: {self.engine.draft_name}." if self.engine.draft_name else ""
            note = f" ({self.engine.draft_note}.)" if self.engine.draft_note else ""
            self.say(f"{models.name} is loaded for Chat.{draft}{note}")
            self.refresh()
        elif models.status is ModelStatus.FAILED:
            self.say(models.error, error=True)

    def shutdown(self) -> None:
        """Stop a running download or conversion (the window is closing)."""
        if self.job is not None:
            self.job.cancel.set()


def models_pane(context: AppContext) -> ModelsPane:
    """The pane as the main window makes it: "Use for Chat" loads through the app's shared model state."""
    pane = ModelsPane(context.engine, context.settings.values.context_length)
    pane.sig_use_model.connect(lambda key, oversize: context.models.load(key, allow_oversize=oversize))
    pane.sig_set_draft.connect(lambda info, draft: set_draft(context.settings, context.engine, info, draft))
    context.models.sig_changed.connect(lambda: pane.show_load_result(context.models))
    return pane
