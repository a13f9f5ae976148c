"""Where Cabin keeps its own files (shared with the engine and the command line: see engine/paths.py)."""

from engine.paths import DATA_DIR_ENV, data_dir

__all__ = ["DATA_DIR_ENV", "data_dir"]
