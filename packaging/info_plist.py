"""Cabin.app's Info.plist entries (PyInstaller's BUNDLE merges them over its defaults)."""

from __future__ import annotations

from bundle_contents import APP_NAME, BUNDLE_ID, MINIMUM_MACOS


def info_plist(version: str) -> dict[str, object]:
    """Keys for a non-sandboxed Developer ID app that follows the system's light/dark appearance."""
    short_version = version.split("+")[0]
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleShortVersionString": short_version,
        "CFBundleVersion": short_version,
        "LSMinimumSystemVersion": MINIMUM_MACOS,
        "LSArchitecturePriority": ["arm64"],
        "LSApplicationCategoryType": "public.app-category.productivity",
        "NSRequiresAquaSystemAppearance": False,
        "NSHighResolutionCapable": True,
        "NSSupportsAutomaticGraphicsSwitching": True,
        "NSHumanReadableCopyright": "Cabin runs language models on this Mac; conversations stay on it.",
    }
