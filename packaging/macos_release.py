"""Build, sign, notarize and package Cabin.app as a DMG (packaging/build_macos.sh runs this on a Mac).

Each step runs only when what it needs is there; otherwise it prints one line saying why it was skipped:
- signing needs a Developer ID:       CABIN_SIGN_IDENTITY="Developer ID Application: Name (TEAMID)"
- notarizing needs a signed app and either a notarytool keychain profile (CABIN_NOTARY_PROFILE) or an
  Apple ID with an app-specific password (CABIN_NOTARY_APPLE_ID, CABIN_NOTARY_TEAM_ID, CABIN_NOTARY_PASSWORD).
The app is notarized and stapled first (so it opens offline once copied out of the DMG), then the DMG.
`--dry-run` prints the plan without running anything (any platform).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from bundle_contents import APP_NAME

ROOT = Path(__file__).resolve().parents[1]
ENTITLEMENTS = ROOT / "packaging" / "entitlements.plist"
Command = list[str]


@dataclass(frozen=True)
class Credentials:
    identity: str | None = None
    notary_profile: str | None = None
    apple_id: str | None = None
    team_id: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Credentials:
        def get(name: str) -> str | None:
            return env.get(name) or None

        return cls(
            get("CABIN_SIGN_IDENTITY"),
            get("CABIN_NOTARY_PROFILE"),
            get("CABIN_NOTARY_APPLE_ID"),
            get("CABIN_NOTARY_TEAM_ID"),
            get("CABIN_NOTARY_PASSWORD"),
        )

    def notary_auth(self) -> Command | None:
        """notarytool's authentication arguments, or None when no complete set was given."""
        if self.notary_profile:
            return ["--keychain-profile", self.notary_profile]
        if self.apple_id and self.team_id and self.password:
            return ["--apple-id", self.apple_id, "--team-id", self.team_id, "--password", self.password]
        return None


@dataclass(frozen=True)
class Layout:
    """Where the build puts things."""

    dist: Path
    work: Path
    version: str

    @property
    def app(self) -> Path:
        return self.dist / f"{APP_NAME}.app"

    @property
    def dmg(self) -> Path:
        return self.dist / f"{APP_NAME}-{self.version}.dmg"

    @property
    def dmg_staging(self) -> Path:
        return self.work / "dmg"

    @property
    def notary_zip(self) -> Path:
        return self.work / f"{APP_NAME}-notarize.zip"


@dataclass
class Step:
    name: str
    commands: list[Command] = field(default_factory=list)
    skipped: str | None = None
    """Why the step does not run, as the line the user sees."""
    prepare: Callable[[], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


def build_step(layout: Layout, creds: Credentials, python: str) -> Step:
    pyinstaller = [python, "-m", "PyInstaller", "--noconfirm", "--distpath", str(layout.dist), "--workpath", str(layout.work / "pyinstaller")]
    env = {"CABIN_CODESIGN_IDENTITY": creds.identity} if creds.identity else {}
    return Step("build", [[python, str(ROOT / "packaging" / "make_icon.py"), "--icns"], [*pyinstaller, str(ROOT / "packaging" / "cabin.spec")]], env=env)


def codesign(target: Path, identity: str, entitlements: bool) -> Command:
    command = ["codesign", "--force", "--timestamp", "--options", "runtime", "--sign", identity]
    if entitlements:
        command += ["--entitlements", str(ENTITLEMENTS)]
    return [*command, str(target)]


def sign_app_step(layout: Layout, creds: Credentials) -> Step:
    if not creds.identity:
        return Step("sign", skipped="no Developer ID (CABIN_SIGN_IDENTITY): the app keeps an ad-hoc signature and opens only on this Mac")
    verify = ["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(layout.app)]
    return Step("sign", [codesign(layout.app, creds.identity, entitlements=True), verify])


def selftest_step(layout: Layout, model: str | None) -> Step:
    command = [str(layout.app / "Contents" / "MacOS" / APP_NAME), "--selftest"]
    return Step("selftest", [command + ([model] if model else [])])


def notarize_commands(target: Path, auth: Command) -> list[Command]:
    return [["xcrun", "notarytool", "submit", str(target), *auth, "--wait"], ["xcrun", "stapler", "staple", str(target)]]


def notarize_skip_reason(creds: Credentials) -> str | None:
    if not creds.identity:
        return "the app is not signed with a Developer ID, and Apple notarizes only signed apps"
    if creds.notary_auth() is None:
        return "no notary credentials (CABIN_NOTARY_PROFILE, or CABIN_NOTARY_APPLE_ID + CABIN_NOTARY_TEAM_ID + CABIN_NOTARY_PASSWORD)"
    return None


def notarize_app_step(layout: Layout, creds: Credentials) -> Step:
    if reason := notarize_skip_reason(creds):
        return Step("notarize app", skipped=reason)
    zip_app = ["ditto", "-c", "-k", "--keepParent", str(layout.app), str(layout.notary_zip)]
    submit, _ = notarize_commands(layout.notary_zip, creds.notary_auth())
    return Step("notarize app", [zip_app, submit, ["xcrun", "stapler", "staple", str(layout.app)]])


def stage_dmg(layout: Layout) -> None:
    """The DMG's window: Cabin.app and a link to /Applications to drag it onto."""
    shutil.rmtree(layout.dmg_staging, ignore_errors=True)
    layout.dmg_staging.mkdir(parents=True)
    shutil.copytree(layout.app, layout.dmg_staging / layout.app.name, symlinks=True)
    (layout.dmg_staging / "Applications").symlink_to("/Applications")


def dmg_step(layout: Layout, creds: Credentials) -> Step:
    create = ["hdiutil", "create", "-volname", APP_NAME, "-srcfolder", str(layout.dmg_staging), "-ov", "-format", "UDZO", str(layout.dmg)]
    commands = [create]
    if creds.identity:
        commands.append(codesign(layout.dmg, creds.identity, entitlements=False))
    return Step("dmg", commands, prepare=lambda: stage_dmg(layout))


def notarize_dmg_step(layout: Layout, creds: Credentials) -> Step:
    if reason := notarize_skip_reason(creds):
        return Step("notarize dmg", skipped=reason)
    return Step("notarize dmg", notarize_commands(layout.dmg, creds.notary_auth()))


def plan(layout: Layout, creds: Credentials, python: str, model: str | None = None) -> list[Step]:
    return [
        build_step(layout, creds, python),
        sign_app_step(layout, creds),
        selftest_step(layout, model),
        notarize_app_step(layout, creds),
        dmg_step(layout, creds),
        notarize_dmg_step(layout, creds),
    ]


def shown(command: Command, creds: Credentials) -> str:
    """A command as printed: the app-specific password never reaches the log."""
    return " ".join("****" if creds.password and part == creds.password else part for part in command)


def run(steps: list[Step], creds: Credentials, dry_run: bool, runner: Callable[..., object] = subprocess.run) -> None:
    for step in steps:
        if step.skipped:
            print(f"skip {step.name}: {step.skipped}", flush=True)
            continue
        print(f"==> {step.name}", flush=True)
        for command in step.commands:
            print(f"    {shown(command, creds)}", flush=True)
        if dry_run:
            continue
        if step.prepare:
            step.prepare()
        for command in step.commands:
            runner(command, check=True, env=os.environ | step.env)


def check_platform(platform: str, machine: str) -> None:
    if platform != "darwin" or machine != "arm64":
        raise SystemExit(
            "build_macos: Cabin.app is built on an Apple Silicon Mac (MLX has no Intel or Linux build of Metal); "
            "on Linux, packaging/smoke_test_linux.sh builds the same spec as a folder app"
        )


def main(argv: list[str] | None = None, env: Mapping[str, str] = os.environ, platform: str = sys.platform, machine: str | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build, sign, notarize and package Cabin.app.")
    parser.add_argument("--dry-run", action="store_true", help="print the steps without running them")
    parser.add_argument("--model", help="a small model folder for the built app's --selftest to generate with")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    if not args.dry_run:
        check_platform(platform, machine or os.uname().machine)
    creds = Credentials.from_env(env)
    layout = Layout(args.dist, args.work, version("cabin-ai"))
    try:
        run(plan(layout, creds, sys.executable, args.model), creds, args.dry_run)
    except subprocess.CalledProcessError as e:
        print(f"build_macos: {Path(e.cmd[0]).name} failed (exit {e.returncode})", file=sys.stderr)
        return 1
    if not args.dry_run:
        print(f"built {layout.app} and {layout.dmg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
