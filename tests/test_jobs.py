"""The child-job runner (engine/jobs.py) that conversion, GGUF import and Core ML export share:
progress from the child, one end event, cancel by kill, and nothing left in the staging folder."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from engine.errors import CabinError, CancelledByUser, ModelError
from engine.jobs import ChildJob, JobCancelled, JobFailed, JobFinished, JobProgress
from tests import job_targets


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    folder = tmp_path / ".out.partial"
    folder.mkdir()
    return folder


def test_the_child_reports_progress_then_its_result_and_the_parent_publishes_it(staging: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = ChildJob(job_targets.write_in_steps, (str(staging),), name="test", staging=staging,
                   publish=lambda: staging.rename(out))  # fmt: skip
    events = list(job)
    assert events == [JobProgress("write", 0.5, "wrote a.txt"), JobProgress("write", 1.0, "wrote b.txt"),
                      JobFinished("a.txt b.txt")]  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"] and not staging.exists()


def test_cancel_kills_the_child_and_removes_what_it_wrote(staging: Path) -> None:
    job = ChildJob(job_targets.write_then_wait, (str(staging),), name="test", staging=staging,
                   cancelled="test cancelled")  # fmt: skip
    assert next(iter(job)) == JobProgress("write", 0.5, "wrote half")
    job.cancel()
    assert job.result == JobCancelled("test cancelled")
    assert multiprocessing.active_children() == [] and not staging.exists()


def test_run_turns_a_set_cancel_flag_into_cancelled_by_user(staging: Path) -> None:
    cancel = threading.Event()
    job = ChildJob(job_targets.write_then_wait, (str(staging),), name="test", staging=staging,
                   cancelled="test cancelled")  # fmt: skip
    with pytest.raises(CancelledByUser, match="^test cancelled$"):
        job.run(on_progress=lambda _: cancel.set(), cancel=cancel)
    assert not staging.exists()


@pytest.mark.parametrize(("kind", "message"), [
    ("cabin", "could not test: the weights do not fit"),
    ("bug", "could not test: ValueError: bad shape (3, 4)"),
])  # fmt: skip
def test_a_failure_in_the_child_is_one_line_naming_the_job(staging: Path, kind: str, message: str) -> None:
    job = ChildJob(job_targets.fail, (kind,), name="test", staging=staging, failure="could not test")
    with pytest.raises(ModelError) as raised:
        job.run(error=ModelError)
    assert str(raised.value) == message and not staging.exists()


def test_a_child_that_dies_without_a_word_is_a_failure(staging: Path) -> None:
    job = ChildJob(job_targets.die, (), name="test", staging=staging)
    assert job.wait(timeout=120) == JobFailed("the test process stopped unexpectedly (exit status 3)")
    assert not staging.exists()


def test_a_refused_publish_fails_the_job_and_removes_the_staging_folder(staging: Path) -> None:
    def refuse() -> None:
        raise CabinError("out appeared while working")

    job = ChildJob(job_targets.write_in_steps, (str(staging),), name="test", staging=staging, publish=refuse)
    assert job.wait(timeout=120) == JobFailed("out appeared while working")
    assert not staging.exists()
