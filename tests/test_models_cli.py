"""`cabin models ...` as a user runs it: readable tables, a progress line, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.models.catalogue import USES
from engine.models.elsewhere import Stores, scan
from tests.conftest import put_in_hf_cache
from tests.fake_hub import FakeHub

REPO = "mlx-community/tiny-llama-4bit"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(empty_hf_cache: Path, cabin_data: Path) -> Path:
    return empty_hf_cache


def test_list_shows_each_model_with_its_facts_and_fit(store: Path, llama_4bit_model: Path, capsys) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    code, out, _ = run(capsys, "list")
    header, row = out.splitlines()[:2]
    assert code == 0
    assert header.split() == ["MODEL", "ARCH", "PARAMS", "BITS", "SIZE", "LAST", "USED", "STATUS", "/", "FIT", "RUNS", "AS"]
    assert row.split()[:4] == [REPO, "llama", "140K", "4-bit"]
    assert row.split()[-2] == "fits"


def test_list_says_a_4bit_model_runs_in_float32_on_the_cpu_backend(store: Path, llama_4bit_model: Path, capsys) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    out = run(capsys, "list")[1]
    assert out.splitlines()[1].split()[-1] == "float32"
    assert "run in float32 when that copy fits comfortably" in out


def test_list_with_no_models_says_what_to_do(store: Path, capsys) -> None:
    assert "cabin models recommend" in run(capsys, "list")[1]


def test_pull_shows_progress_and_how_to_chat(fake_hub: FakeHub, capsys, monkeypatch) -> None:
    """The hub holds the weights until a progress line with bytes in it has been printed."""
    from engine.models import download

    weights, real_report = fake_hub.hold("model.safetensors"), download.report_until_done

    def report_then_release_the_weights(transfer, files, total, show) -> None:
        def report(progress: download.DownloadProgress) -> None:
            show(progress)
            if progress.done:
                weights.set()

        real_report(transfer, files, total, report)

    monkeypatch.setattr(download, "report_until_done", report_then_release_the_weights)
    code, out, err = run(capsys, "pull", REPO)
    assert code == 0
    assert "100%" in err and "KB of" in err
    assert f"cabin chat --model {REPO}" in out


def test_pull_of_a_missing_repo_is_one_line_and_exit_1(fake_hub: FakeHub, capsys) -> None:
    code, _, err = run(capsys, "pull", "mlx-community/nope")
    assert code == 1
    assert err.strip().splitlines() == ["cabin: error: mlx-community/nope does not exist on the Hugging Face Hub (or it is private)"]


def test_search_lists_matches_and_marks_catalogue_models(fake_hub: FakeHub, capsys) -> None:
    code, out, _ = run(capsys, "search", "tiny")
    assert code == 0 and REPO in out


def test_rm_with_yes_deletes_and_shows_the_space_freed(store: Path, llama_4bit_model: Path, capsys) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    code, out, _ = run(capsys, "rm", REPO, "--yes")
    assert code == 0 and out.startswith(f"Deleted {REPO}: ") and "KB freed" in out


def test_rm_without_a_terminal_asks_for_yes(store: Path, llama_4bit_model: Path, capsys) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    code, _, err = run(capsys, "rm", REPO)
    assert code == 1 and "pass --yes" in err


def test_convert_shows_its_steps_then_the_size_before_and_after(store: Path, llama_fp16_model: Path, capfd) -> None:
    code, out, err = run(capfd, "convert", str(llama_fp16_model), "--bits", "4")  # capfd: the child's output too
    assert code == 0 and "Quantizing" in err and "100%" in err
    assert out.startswith("Converted to 4-bit: ") and "->" in out  # nothing the converter printed comes first


def test_recommend_picks_one_model_per_use(capsys) -> None:
    code, out, _ = run(capsys, "recommend")
    assert code == 0 and "usable by MLX" in out
    assert out.count("recommended") <= len(USES)


def test_chat_refuses_a_model_that_wont_fit(llama_model: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("engine.models.loading.memory_budget", lambda: 64 * 1024**2)  # a 64 MB machine
    assert main(["chat", "--model", str(llama_model), "--prompt", "hi", "--max-tokens", "2"]) == 1
    assert "won't fit in this machine's memory" in capsys.readouterr().err


def test_chat_allow_oversize_loads_it_anyway(llama_model: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("engine.models.loading.memory_budget", lambda: 64 * 1024**2)
    assert main(["chat", "--model", str(llama_model), "--prompt", "hi", "--max-tokens", "2", "--allow-oversize"]) == 0


def test_ctrl_c_during_a_pull_stops_it_and_says_how_to_resume(fake_hub: FakeHub, capsys, monkeypatch) -> None:
    from engine.models import download

    weights = fake_hub.hold("model.safetensors")

    def interrupt_once_started(transfer, files, total, on_progress) -> None:
        while download.bytes_on_disk(transfer.repo_id, files) == 0:
            transfer.join(0.05)
        weights.set()
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "report_until_done", interrupt_once_started)
    code, _, err = run(capsys, "pull", REPO)
    assert code == 130
    assert "cancelled" in err and "pull it again to resume" in err


def found_section(out: str) -> list[str]:
    lines = out.splitlines()
    return lines[lines.index("Found elsewhere (other apps' models; import one to use it in Cabin):") + 1 :]


def test_list_shows_models_found_elsewhere_with_their_facts(stores_at_home: Stores, cabin_data: Path, capsys) -> None:
    code, out, _ = run(capsys, "list")
    header, first, second = found_section(out)[:3]
    assert code == 0
    assert header.split() == ["MODEL", "FROM", "ARCH", "QUANT", "SIZE", "FIT"]
    assert first.split()[:2] == ["bartowski/cut:q4", "Ollama"]
    assert "unusable: it is truncated:" in first
    assert second.split()[:4] == ["smol:135m", "Ollama", "llama", "Q8_0"]


def test_each_usable_model_found_elsewhere_shows_the_command_that_imports_it(stores_at_home: Stores, cabin_data: Path, capsys) -> None:
    out = run(capsys, "list")[1]
    commands = [line.strip() for line in found_section(out) if line.startswith("    cabin models ")]
    assert commands == [m.import_command for m in scan(stores_at_home) if m.usable]
    assert len(commands) == 4


def test_list_with_only_models_found_elsewhere_says_cabin_has_none_yet(stores_at_home: Stores, cabin_data: Path, capsys) -> None:
    out = run(capsys, "list")[1]
    assert out.startswith("No models in Cabin yet: import one found elsewhere (below)")


def test_a_model_found_elsewhere_and_already_imported_says_so(stores_at_home: Stores, cabin_data: Path, capsys) -> None:
    (cabin_data / "models" / "smol-135m").mkdir(parents=True)
    section = found_section(run(capsys, "list")[1])
    row = next(i for i, line in enumerate(section) if line.startswith("smol:135m"))
    assert section[row + 1] == "    already in Cabin"
