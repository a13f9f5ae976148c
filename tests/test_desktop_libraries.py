"""Before Qt starts on a Linux X11 desktop, missing xcb libraries are one line naming the packages to install."""

from __future__ import annotations

import pytest

from app.desktop_libraries import check_desktop_libraries, library_loads, missing_packages, uses_xcb
from cabin.main import main
from engine.errors import CabinError

X11_DESKTOP = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}


def lacking(*sonames: str):
    return lambda soname: soname not in sonames


def test_an_x11_desktop_on_linux_uses_xcb() -> None:
    assert uses_xcb("Linux", X11_DESKTOP)


@pytest.mark.parametrize(
    "environ",
    [
        {},  # no display at all
        {"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"},
        {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"},
        {"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"},
        {"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"},
    ],
)
def test_other_platforms_need_no_x11_libraries(environ: dict[str, str]) -> None:
    assert not uses_xcb("Linux", environ)


def test_asking_for_xcb_uses_it_even_in_a_wayland_session() -> None:
    assert uses_xcb("Linux", {"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})


def test_a_mac_never_uses_xcb() -> None:
    assert not uses_xcb("Darwin", X11_DESKTOP)


def test_the_loader_finds_what_is_installed_and_not_what_is_not() -> None:
    assert library_loads("libc.so.6")
    assert not library_loads("libcabin-no-such-library.so.7")


def test_missing_libraries_are_named_by_their_package() -> None:
    assert missing_packages(lacking("libxcb-icccm.so.4", "libxcb-keysyms.so.1")) == ["libxcb-icccm4", "libxcb-keysyms1"]


def test_missing_libraries_on_an_x11_desktop_are_one_line_with_the_apt_command() -> None:
    with pytest.raises(CabinError) as raised:
        check_desktop_libraries("Linux", X11_DESKTOP, lacking("libxcb-cursor.so.0"))
    assert str(raised.value).count("\n") == 0
    assert "sudo apt install libxcb-cursor0 " in str(raised.value) and "libxcb-cursor.so.0" in str(raised.value)


def test_nothing_is_checked_off_xcb() -> None:
    check_desktop_libraries("Linux", {"QT_QPA_PLATFORM": "offscreen"}, lacking("libxcb-cursor.so.0"))


def test_cabin_without_a_command_stops_before_qt_with_exit_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr("app.desktop_libraries.platform.system", lambda: "Linux")
    monkeypatch.setattr("app.desktop_libraries.library_loads", lacking("libxcb-cursor.so.0"))
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cabin: error: the desktop window needs X11 libraries") and err.count("\n") == 1
    assert "libxcb-cursor0" in err
