"""Downloading an MLX model into the Hugging Face cache with huggingface_hub's own machinery.

Only the files an MLX model needs are fetched (mlx_lm's allow-patterns). Progress (bytes, speed, ETA) is
read from the cache on disk, so it is the same whichever transfer path the hub library takes. A dropped
connection resumes mid-file (HTTP Range) inside huggingface_hub; after an interruption or a cancel the
files already complete are kept and the next pull fetches only the rest. The snapshot is listed as a usable
model only once every file is there and the folder validates.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import CancelledByUser, DownloadError
from engine.memory import format_bytes
from engine.models.folder import inspect_model_folder
from engine.models.hub import endpoint, ensure_online, hub_api, hub_errors
from engine.models.store import StoredModel, find_model, hf_cache_dir, mlx_file_patterns

POLL_SECONDS = 0.25
SPEED_WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class DownloadProgress:
    repo_id: str
    done: int
    total: int
    speed: float  # bytes per second over the last few seconds
    eta: float | None  # seconds left at that speed

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def describe(self) -> str:
        text = f"{format_bytes(self.done)} of {format_bytes(self.total)} · {format_bytes(self.speed)}/s"
        return text + (f" · {format_duration(self.eta)} left" if self.eta is not None else "")


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


class SpeedMeter:
    """Bytes per second over a sliding window, and the time left at that speed."""

    def __init__(self, window: float = SPEED_WINDOW_SECONDS) -> None:
        self._window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> float:
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
            self._samples.popleft()
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    @staticmethod
    def eta(speed: float, left: int) -> float | None:
        return left / speed if speed > 0 else None


@dataclass(frozen=True)
class PlannedFile:
    path: str
    size: int
    etag: str  # the blob's name in the cache: the LFS sha256, else the git object id


def plan(repo_id: str) -> list[PlannedFile]:
    """The files of `repo_id` an MLX model needs, with their sizes, from the Hub's file listing."""
    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils import filter_repo_objects

    api = hub_api()
    with hub_errors(repo_id):
        commit = api.repo_info(repo_id).sha
        tree = [f for f in api.list_repo_tree(repo_id, recursive=True, revision=commit) if isinstance(f, RepoFile)]
    wanted = set(filter_repo_objects([f.path for f in tree], allow_patterns=mlx_file_patterns()))
    files = [PlannedFile(f.path, f.size, f.lfs.sha256 if f.lfs else f.blob_id) for f in tree if f.path in wanted]
    if not any(f.path.endswith(".safetensors") for f in files):
        raise DownloadError(f"{repo_id} has no safetensors weights, so MLX cannot load it (look for an mlx-community version)")
    return files


def repo_folder(repo_id: str) -> Path:
    return hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"


def bytes_on_disk(repo_id: str, files: list[PlannedFile]) -> int:
    """How much of the planned files is in the cache: whole blobs plus the partial `.incomplete` ones."""
    blobs = repo_folder(repo_id) / "blobs"
    return sum(file_bytes_on_disk(blobs, file) for file in files)


def file_bytes_on_disk(blobs: Path, file: PlannedFile) -> int:
    """The partial file is read before the finished blob is looked for: huggingface_hub renames one into
    the other, and in the other order a file renamed in between would count as 0 (progress going back)."""
    partial = 0
    for part in blobs.glob(f"{file.etag}*.incomplete"):
        try:
            partial += part.stat().st_size
        except FileNotFoundError:
            pass
    return file.size if (blobs / file.etag).exists() else partial


def check_disk_space(repo_id: str, needed: int) -> None:
    folder = hf_cache_dir()
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise DownloadError(
            f"not enough disk space for {repo_id}: it needs {format_bytes(needed)} more, "
            f"{format_bytes(free)} is free on {folder}"
        )


def cancellable_bar(cancel: threading.Event) -> type:
    """A silent progress-bar class for huggingface_hub whose every update stops the transfer once cancelled."""
    from huggingface_hub.utils import tqdm

    class CancellableBar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            if cancel.is_set():
                raise CancelledByUser("download cancelled")
            return super().update(n)

    return CancellableBar


class Transfer(threading.Thread):
    """snapshot_download on its own thread, so the caller can report progress and cancel while it runs."""

    def __init__(self, repo_id: str, cancel: threading.Event, max_workers: int) -> None:
        super().__init__(name=f"cabin-download-{repo_id}", daemon=True)
        self.repo_id, self.cancel, self.max_workers = repo_id, cancel, max_workers
        self.error: BaseException | None = None
        self.path: Path | None = None

    def run(self) -> None:
        from huggingface_hub import snapshot_download

        try:
            self.path = Path(
                snapshot_download(
                    self.repo_id,
                    allow_patterns=mlx_file_patterns(),
                    tqdm_class=cancellable_bar(self.cancel),
                    max_workers=self.max_workers,
                    endpoint=endpoint(),
                )
            )
        except BaseException as e:  # noqa: BLE001 — handed to the caller
            self.error = e


def pull(
    repo_id: str,
    on_progress: Callable[[DownloadProgress], None] | None = None,
    cancel: threading.Event | None = None,
    max_workers: int = 4,
) -> StoredModel:
    """Download `repo_id` (or finish an interrupted download) and return it as a usable model.

    `on_progress` is called on this thread about four times a second. Setting `cancel` stops the transfer
    within one chunk; CancelledByUser is raised and the files completed so far are kept for the next pull.
    """
    ensure_online(f"download {repo_id}")
    cancel = cancel or threading.Event()
    files = plan(repo_id)
    total = sum(f.size for f in files)
    check_disk_space(repo_id, total - bytes_on_disk(repo_id, files))
    transfer = Transfer(repo_id, cancel, max_workers)
    transfer.start()
    try:
        report_until_done(transfer, files, total, on_progress)
    except KeyboardInterrupt:  # Ctrl-C in the terminal: a cancel like any other
        cancel.set()
        transfer.join()
    return finish(repo_id, transfer, files, total, on_progress)


def report_until_done(
    transfer: Transfer, files: list[PlannedFile], total: int, on_progress: Callable[[DownloadProgress], None] | None
) -> None:
    meter = SpeedMeter()
    while transfer.is_alive():
        transfer.join(POLL_SECONDS)
        if on_progress:
            done = bytes_on_disk(transfer.repo_id, files)
            speed = meter.add(time.monotonic(), done)
            on_progress(DownloadProgress(transfer.repo_id, done, total, speed, meter.eta(speed, total - done)))


def finish(
    repo_id: str,
    transfer: Transfer,
    files: list[PlannedFile],
    total: int,
    on_progress: Callable[[DownloadProgress], None] | None,
) -> StoredModel:
    if transfer.cancel.is_set() or isinstance(transfer.error, CancelledByUser):
        kept = bytes_on_disk(repo_id, files)
        raise CancelledByUser(f"download of {repo_id} cancelled with {format_bytes(kept)} of {format_bytes(total)} "
                              "kept; pull it again to resume")
    if transfer.error is not None:
        with hub_errors(repo_id):
            raise transfer.error
    if on_progress:
        on_progress(DownloadProgress(repo_id, total, total, 0.0, 0.0))
    inspect_model_folder(transfer.path)
    return find_model(repo_id)
