"""packaging/macos_release.py: which commands build, sign, notarize and package Cabin.app for which credentials.

codesign, notarytool, stapler and hdiutil exist only on macOS: the plan is checked here with the platform
and the credentials faked, and run through a runner that records the commands instead of executing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import macos_release as release
from macos_release import Credentials, Layout

IDENTITY = "Developer ID Application: Cabin Test (TEAM123456)"
LAYOUT = Layout(Path("/src/dist"), Path("/src/build"), "1.2.0")
APP = "/src/dist/Cabin.app"
DMG = "/src/dist/Cabin-1.2.0.dmg"


def steps_for(creds: Credentials, model: str | None = None) -> dict[str, release.Step]:
    return {step.name: step for step in release.plan(LAYOUT, creds, "/venv/bin/python", model)}


def test_the_steps_run_in_release_order() -> None:
    assert list(steps_for(Credentials())) == ["build", "sign", "selftest", "notarize app", "dmg", "notarize dmg"]


def test_without_credentials_the_app_and_dmg_are_built_and_signing_and_notarizing_are_skipped() -> None:
    steps = steps_for(Credentials())
    assert steps["build"].env == {}
    assert "no Developer ID" in steps["sign"].skipped
    assert "not signed with a Developer ID" in steps["notarize app"].skipped
    assert "not signed with a Developer ID" in steps["notarize dmg"].skipped
    assert steps["dmg"].commands == [["hdiutil", "create", "-volname", "Cabin", "-srcfolder", "/src/build/dmg", "-ov", "-format", "UDZO", DMG]]


def test_the_build_draws_the_icns_then_runs_the_spec() -> None:
    icon, pyinstaller = steps_for(Credentials()).get("build").commands
    assert icon[1:] == [str(release.ROOT / "packaging" / "make_icon.py"), "--icns"]
    assert pyinstaller[:3] == ["/venv/bin/python", "-m", "PyInstaller"]
    assert pyinstaller[-1] == str(release.ROOT / "packaging" / "cabin.spec")


def test_a_developer_id_signs_every_binary_in_the_build_then_the_bundle_with_the_hardened_runtime() -> None:
    steps = steps_for(Credentials(identity=IDENTITY))
    assert steps["build"].env == {"CABIN_CODESIGN_IDENTITY": IDENTITY}
    sign, verify = steps["sign"].commands
    assert sign == [
        "codesign", "--force", "--timestamp", "--options", "runtime", "--sign", IDENTITY,
        "--entitlements", str(release.ENTITLEMENTS), APP,
    ]  # fmt: skip
    assert verify[:2] == ["codesign", "--verify"] and "--strict" in verify and verify[-1] == APP


def test_a_signed_build_signs_the_dmg_but_skips_notarizing_without_notary_credentials() -> None:
    steps = steps_for(Credentials(identity=IDENTITY))
    assert steps["dmg"].commands[-1] == ["codesign", "--force", "--timestamp", "--options", "runtime", "--sign", IDENTITY, DMG]
    assert "no notary credentials" in steps["notarize app"].skipped
    assert "no notary credentials" in steps["notarize dmg"].skipped


def test_a_keychain_profile_notarizes_and_staples_the_app_then_the_dmg() -> None:
    steps = steps_for(Credentials(identity=IDENTITY, notary_profile="cabin-notary"))
    zip_app, submit, staple = steps["notarize app"].commands
    assert zip_app == ["ditto", "-c", "-k", "--keepParent", APP, "/src/build/Cabin-notarize.zip"]
    assert submit == ["xcrun", "notarytool", "submit", "/src/build/Cabin-notarize.zip", "--keychain-profile", "cabin-notary", "--wait"]
    assert staple == ["xcrun", "stapler", "staple", APP]
    assert steps["notarize dmg"].commands == [
        ["xcrun", "notarytool", "submit", DMG, "--keychain-profile", "cabin-notary", "--wait"],
        ["xcrun", "stapler", "staple", DMG],
    ]


def test_an_apple_id_with_team_and_app_specific_password_also_notarizes() -> None:
    creds = Credentials(identity=IDENTITY, apple_id="dev@example.com", team_id="TEAM123456", password="abcd-efgh")
    submit = steps_for(creds)["notarize dmg"].commands[0]
    assert submit[3:] == [DMG, "--apple-id", "dev@example.com", "--team-id", "TEAM123456", "--password", "abcd-efgh", "--wait"]


def test_an_incomplete_apple_id_set_is_no_credentials() -> None:
    creds = Credentials(identity=IDENTITY, apple_id="dev@example.com", team_id="TEAM123456")
    assert "no notary credentials" in steps_for(creds)["notarize app"].skipped


def test_credentials_come_from_the_environment_and_empty_values_count_as_absent() -> None:
    env = {"CABIN_SIGN_IDENTITY": IDENTITY, "CABIN_NOTARY_PROFILE": "", "CABIN_NOTARY_APPLE_ID": "dev@example.com"}
    assert Credentials.from_env(env) == Credentials(identity=IDENTITY, apple_id="dev@example.com")


def test_the_built_app_runs_its_selftest_with_the_given_model() -> None:
    assert steps_for(Credentials(), model="/models/tiny").get("selftest").commands == [[f"{APP}/Contents/MacOS/Cabin", "--selftest", "/models/tiny"]]


def test_running_prints_skips_runs_commands_in_order_and_stages_the_dmg_first(tmp_path: Path, capsys) -> None:
    layout = Layout(tmp_path / "dist", tmp_path / "build", "1.2.0")
    (layout.app / "Contents" / "MacOS").mkdir(parents=True)
    ran = []
    release.run(release.plan(layout, Credentials(), "python"), Credentials(), dry_run=False, runner=lambda command, **_: ran.append(command))
    assert [command[0] for command in ran] == ["python", "python", f"{layout.app}/Contents/MacOS/Cabin", "hdiutil"]
    assert (layout.dmg_staging / "Cabin.app" / "Contents" / "MacOS").is_dir()
    assert (layout.dmg_staging / "Applications").readlink() == Path("/Applications")
    out = capsys.readouterr().out
    assert "skip sign: no Developer ID" in out
    assert "==> dmg" in out


def test_a_dry_run_runs_nothing_and_never_prints_the_password(capsys) -> None:
    creds = Credentials(identity=IDENTITY, apple_id="dev@example.com", team_id="TEAM123456", password="abcd-efgh")

    def refuse(command, **_):
        raise AssertionError(f"a dry run ran {command}")

    release.run(release.plan(LAYOUT, creds, "python"), creds, dry_run=True, runner=refuse)
    out = capsys.readouterr().out
    assert "notarytool submit" in out
    assert "abcd-efgh" not in out and "--password ****" in out


@pytest.mark.parametrize(("platform", "machine"), [("linux", "x86_64"), ("darwin", "x86_64")])
def test_a_real_build_needs_an_apple_silicon_mac(platform: str, machine: str) -> None:
    with pytest.raises(SystemExit, match="Apple Silicon Mac"):
        release.main([], env={}, platform=platform, machine=machine)


def test_a_dry_run_works_anywhere(capsys) -> None:
    assert release.main(["--dry-run"], env={"CABIN_SIGN_IDENTITY": IDENTITY}, platform="linux", machine="x86_64") == 0
    assert "codesign --force" in capsys.readouterr().out
