"""Write to a hidden folder beside the destination and rename it into place only when complete,
so a cancelled or failed export never leaves a half-written folder where the user looks."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from engine.coreml.options import ExportError

PARTIAL_MARK = ".partial-"


def check_destination(out: Path, overwrite: bool) -> None:
    """Refuse before any work: an existing destination (unless `overwrite`), or a parent we cannot write."""
    if out.exists() and not overwrite:
        raise ExportError(f"{out} already exists; choose another folder or allow overwriting")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder")
    parent = out.parent
    if not parent.is_dir():
        raise ExportError(f"cannot export to {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot export to {out}: {parent} is not writable")


def make_staging(out: Path) -> Path:
    """A fresh hidden folder on the same file system as `out` (so the final rename is atomic)."""
    return Path(tempfile.mkdtemp(prefix=f".{out.name}{PARTIAL_MARK}", dir=out.parent))


def publish(staging: Path, out: Path, overwrite: bool) -> None:
    """Move the finished staging folder to `out`, replacing an old export only when asked to."""
    if out.exists():
        if not overwrite:
            raise ExportError(f"{out} appeared while exporting; the export was discarded")
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old / out.name)
        os.rename(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, out)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
