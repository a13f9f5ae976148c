"""Downloads against a local server that speaks the Hub's file API: progress, resume, cancel, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import CancelledByUser, DownloadError
from engine.generation import Engine
from engine.models.download import DownloadProgress, SpeedMeter, format_duration, pull
from engine.models.store import list_models
from tests.fake_hub import FakeHub
from tests.model_factory import ModelSpec, build_model

REPO = "mlx-community/tiny-llama-4bit"


def usable_keys() -> list[str]:
    return [m.key for m in list_models() if m.usable]


def test_pull_downloads_a_model_that_then_loads(fake_hub: FakeHub, engine: Engine) -> None:
    model = pull(REPO)
    assert model.usable and model.key == REPO
    assert engine.load(REPO).result().name == REPO


def test_pull_fetches_only_the_files_an_mlx_model_needs(fake_hub: FakeHub, llama_4bit_model: Path) -> None:
    (extra := llama_4bit_model.parent / "tiny-with-extras").mkdir(exist_ok=True)
    for file in llama_4bit_model.iterdir():
        (extra / file.name).write_bytes(file.read_bytes())
    (extra / "pytorch_model.bin").write_bytes(b"x" * 1000)
    (extra / "README.md").write_text("# card")
    fake_hub.add_repo("mlx-community/extras", extra)
    pull("mlx-community/extras")
    assert not fake_hub.file_gets("pytorch_model.bin")
    assert not fake_hub.file_gets("README.md")


def test_progress_reports_bytes_up_to_the_total(fake_hub: FakeHub) -> None:
    """The hub holds config.json until the first report and the weights until a later report has seen bytes
    arrive: the speed meter needs two samples with the download still in progress."""
    config, weights = fake_hub.hold("config.json"), fake_hub.hold("model.safetensors")
    seen: list[DownloadProgress] = []

    def report(progress: DownloadProgress) -> None:
        seen.append(progress)
        config.set()
        if progress.done > seen[0].done:
            weights.set()

    pull(REPO, on_progress=report)
    total = seen[-1].total
    assert total == sum(len(f.data) for f in fake_hub.repos[REPO].values())
    assert seen[-1].done == total
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert any(0 < p.done < total and p.speed > 0 and p.eta is not None for p in seen)


def test_a_connection_cut_mid_file_resumes_instead_of_starting_over(fake_hub: FakeHub, models_dir: Path) -> None:
    """huggingface_hub writes 10 MB chunks: a cut after 12 MB resumes at 10 MB with an HTTP Range request."""
    big = models_dir / "thirty-mb-llama"
    if not big.exists():
        build_model(big, ModelSpec(hidden_size=512, intermediate_size=2048, seed=3))
    fake_hub.add_repo("mlx-community/thirty-mb", big)
    fake_hub.cut_once["model.safetensors"] = 12 * 1024**2
    model = pull("mlx-community/thirty-mb")
    gets = fake_hub.file_gets("model.safetensors")
    assert model.usable
    assert [g.range for g in gets] == [None, f"bytes={10 * 1024**2}-"]


def cancel_once_bytes_arrive(cancel: threading.Event, held: threading.Event) -> Callable[[DownloadProgress], None]:
    """A progress callback that cancels once some files are on disk, then lets the held weights go."""

    def report(progress: DownloadProgress) -> None:
        if progress.done > 0:
            cancel.set()
            held.set()

    return report


def test_cancel_stops_the_transfer_and_lists_nothing_usable(fake_hub: FakeHub) -> None:
    cancel = threading.Event()
    report = cancel_once_bytes_arrive(cancel, fake_hub.hold("model.safetensors"))
    with pytest.raises(CancelledByUser, match="pull it again to resume"):
        pull(REPO, on_progress=report, cancel=cancel)
    assert REPO not in usable_keys()
    assert not [t for t in threading.enumerate() if t.name.startswith("cabin-download")]


def test_a_cancelled_download_is_listed_as_partial(fake_hub: FakeHub) -> None:
    cancel = threading.Event()
    with pytest.raises(CancelledByUser):
        pull(REPO, on_progress=cancel_once_bytes_arrive(cancel, fake_hub.hold("model.safetensors")), cancel=cancel)
    [model] = [m for m in list_models() if m.key == REPO]
    assert model.status == "partial download"


def test_pull_after_an_interruption_fetches_only_what_is_missing(fake_hub: FakeHub) -> None:
    cancel = threading.Event()
    report = cancel_once_bytes_arrive(cancel, fake_hub.hold("model.safetensors"))
    with pytest.raises(CancelledByUser):
        pull(REPO, on_progress=report, cancel=cancel, max_workers=1)
    completed = {r.path.rsplit("/", 1)[1] for r in fake_hub.requests if r.method == "GET" and "/resolve/" in r.path}
    fake_hub.requests.clear()
    assert pull(REPO).usable
    fetched_again = {r.path.rsplit("/", 1)[1] for r in fake_hub.requests if r.method == "GET" and "/resolve/" in r.path}
    assert len(fetched_again) < len(fake_hub.repos[REPO])
    assert completed - fetched_again


def test_missing_repo_is_one_clear_message(fake_hub: FakeHub) -> None:
    with pytest.raises(DownloadError, match="does not exist on the Hugging Face Hub"):
        pull("mlx-community/no-such-model")


def test_gated_repo_says_how_to_get_access(fake_hub: FakeHub, llama_4bit_model: Path) -> None:
    fake_hub.add_repo("meta-llama/gated", llama_4bit_model)
    fake_hub.gated.add("meta-llama/gated")
    with pytest.raises(DownloadError, match="is gated: accept its terms"):
        pull("meta-llama/gated")


def test_a_repo_without_safetensors_is_refused_before_downloading(fake_hub: FakeHub, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.gguf").write_bytes(b"gguf")
    fake_hub.add_repo("someone/gguf-only", tmp_path)
    with pytest.raises(DownloadError, match="no safetensors weights"):
        pull("someone/gguf-only")
    assert not fake_hub.file_gets("config.json")


def test_no_network_is_one_clear_message(online: None, empty_hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: connection refused
    with pytest.raises(DownloadError, match="Hugging Face Hub at http://127.0.0.1:9 is unreachable"):
        pull(REPO)


def test_not_enough_disk_space_is_refused_before_downloading(fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 100, 100))
    with pytest.raises(DownloadError, match="not enough disk space"):
        pull(REPO)
    assert not fake_hub.file_gets("model.safetensors")


def test_disk_full_during_a_download_is_one_clear_message() -> None:
    import errno

    from engine.models.hub import readable

    error = readable(OSError(errno.ENOSPC, "No space left on device"), REPO)
    assert str(error) == f"the disk is full: free some space and pull {REPO} again to resume"


def test_speed_is_measured_over_a_sliding_window() -> None:
    meter = SpeedMeter(window=5)
    meter.add(0.0, 0)
    assert meter.add(2.0, 2_000_000) == 1_000_000
    assert meter.add(10.0, 4_000_000) == pytest.approx(250_000)
    assert meter.eta(1_000_000, 5_000_000) == 5


def test_progress_line_shows_bytes_speed_and_time_left() -> None:
    progress = DownloadProgress(REPO, 512 * 1024**2, 2 * 1024**3, 20 * 1024**2, 77)
    assert progress.describe() == "512.0 MB of 2.0 GB · 20.0 MB/s · 1m 17s left"
    assert format_duration(3725) == "1h 02m"


def test_behind_a_proxy_the_hub_is_not_probed_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.models.hub import hub_reachable

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert hub_reachable("http://127.0.0.1:9")
