"""Before Qt starts on a Linux X11 desktop: are the system libraries its xcb platform plugin links against there?

Without them Qt prints "Could not load the Qt platform plugin xcb" and a page of advice, then aborts. The PySide6
wheel bundles Qt but not these X11 helpers, which many desktops lack (libxcb-cursor0 since Qt 6.5). Checking them
first turns that page into one line naming the packages to install. Nothing here imports Qt.
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Callable, Mapping

from engine.errors import CabinError

XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11-xcb.so.1": "libx11-xcb1",
}
"""What Qt 6's libqxcb.so / libQt6XcbQpa.so need outside the wheel (from `ldd`), by Debian/Ubuntu package."""


def uses_xcb(system: str, environ: Mapping[str, str]) -> bool:
    """Whether Qt would start its X11 (xcb) platform plugin: Linux, asked for xcb or left to choose on an X display
    (a Wayland session gets the wayland plugin; offscreen and the others need no X libraries)."""
    if system != "Linux":
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    wayland = environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland"
    return bool(environ.get("DISPLAY")) and not wayland


def library_loads(soname: str) -> bool:
    """Whether the dynamic loader finds `soname` (the same search Qt's plugin loading does)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(loads: Callable[[str], bool] | None = None) -> list[str]:
    loads = loads or library_loads
    return [package for soname, package in XCB_LIBRARIES.items() if not loads(soname)]


def check_desktop_libraries(
    system: str | None = None, environ: Mapping[str, str] | None = None, loads: Callable[[str], bool] | None = None
) -> None:
    """Raise CabinError naming the packages to install when Qt's xcb plugin would fail to load."""
    if not uses_xcb(system or platform.system(), os.environ if environ is None else environ):
        return
    missing = missing_packages(loads)
    if missing:
        sonames = ", ".join(soname for soname, package in XCB_LIBRARIES.items() if package in missing)
        raise CabinError(
            f"the desktop window needs X11 libraries this system lacks: sudo apt install {' '.join(missing)} "
            f"(on other distributions, the packages that provide {sonames})"
        )
