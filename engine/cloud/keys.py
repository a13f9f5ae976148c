"""API keys in the OS keychain (keyring: macOS Keychain, Secret Service on Linux, Windows Credential Locker).

Keys are never written to settings.json, the conversation database or a log line: only the keychain holds
them. Where the system has no keychain, every call raises `NoKeychain` with one line that says so.
keyring is imported on first use (~85 ms: it looks for its backends), not when the window opens.
"""

from __future__ import annotations

import sys

from engine.cloud.provider import Provider

SERVICE = "Cabin cloud provider"


class NoKeychain(RuntimeError):
    """The system has no keychain Cabin can store an API key in (or it refused)."""


def _missing() -> NoKeychain:
    if sys.platform.startswith("linux"):
        return NoKeychain("No keychain on this system (Secret Service not running): start gnome-keyring or KWallet "
                          "to store an API key")
    return NoKeychain("No keychain on this system: the API key cannot be stored")


def _failed(error: Exception) -> NoKeychain:
    from keyring.errors import NoKeyringError

    if isinstance(error, NoKeyringError):
        return _missing()
    return NoKeychain(f"The keychain refused: {str(error).splitlines()[0] if str(error) else type(error).__name__}")


def get_key(provider: Provider) -> str | None:
    """The provider's API key, or None when none is stored."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, provider.account)
    except KeyringError as e:
        raise _failed(e) from None


def set_key(provider: Provider, key: str) -> None:
    """Store the key (an empty key removes it)."""
    if not key.strip():
        delete_key(provider)
        return
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, provider.account, key.strip())
    except KeyringError as e:
        raise _failed(e) from None


def delete_key(provider: Provider) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, provider.account)
    except PasswordDeleteError:
        pass
    except KeyringError as e:
        raise _failed(e) from None
