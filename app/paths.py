"""Where Cabin keeps its own files (shared with the engine and the command line: see engine/paths.py) and
where its bundled resources are (resources/ beside the packages, also in the frozen app)."""

from pathlib import Path

from engine.paths import DATA_DIR_ENV, data_dir

RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"


def app_icon_path() -> Path:
    """The app icon as a PNG (packaging/make_icon.py draws it; Cabin.app carries the .icns made from it)."""
    return RESOURCES_DIR / "cabin.png"


__all__ = ["DATA_DIR_ENV", "RESOURCES_DIR", "app_icon_path", "data_dir"]
