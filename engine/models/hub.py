"""Talking to the Hugging Face Hub: offline checks, one readable line for each way a request fails, and
the mlx-community search. Only a download or a search the user asked for reaches the network."""

from __future__ import annotations

import errno
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from engine.errors import CabinError, DownloadError, OfflineError

COMMUNITY = "mlx-community"
PROBE_SECONDS = 5.0


def is_offline() -> bool:
    from huggingface_hub import constants

    return constants.is_offline_mode()


def ensure_online(action: str) -> None:
    """Fail at once when Cabin is offline (before any socket is opened) or the Hub cannot be reached at all
    (instead of huggingface_hub's ~25 s of retries)."""
    if is_offline():
        raise OfflineError(f"offline: cannot {action} (HF_HUB_OFFLINE is set); models already downloaded still work")
    if not hub_reachable(endpoint()):
        raise DownloadError(f"cannot {action}: the Hugging Face Hub at {endpoint()} is unreachable (no network?)")


def hub_reachable(url: str) -> bool:
    """A quick TCP connect to the Hub. Behind a proxy the Hub may be reachable when a direct connect is not,
    so then the answer is left to the real request."""
    if urllib.request.getproxies():
        return True
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)), PROBE_SECONDS).close()
    except OSError:
        return False
    return True


def endpoint() -> str:
    """HF_ENDPOINT as set now (huggingface_hub reads it only once, at import), else the library's default."""
    from huggingface_hub import constants

    return os.environ.get("HF_ENDPOINT", constants.ENDPOINT).rstrip("/")


def hub_api() -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=endpoint())


def is_network_failure(error: BaseException | None) -> bool:
    import httpx2

    while error is not None:
        if isinstance(error, (httpx2.ConnectError, httpx2.TimeoutException, httpx2.NetworkError)):
            return True
        error = error.__cause__ or error.__context__
    return False


def readable(error: Exception, repo_id: str) -> CabinError:
    """The one line a user should read for a failed Hub request about `repo_id`."""
    from huggingface_hub import errors

    if isinstance(error, errors.OfflineModeIsEnabled):
        return OfflineError(f"offline: cannot reach the Hub for {repo_id} (HF_HUB_OFFLINE is set)")
    if isinstance(error, errors.GatedRepoError):
        return DownloadError(
            f"{repo_id} is gated: accept its terms at https://huggingface.co/{repo_id} and log in with `hf auth login`"
        )
    if isinstance(error, errors.RepositoryNotFoundError):
        return DownloadError(f"{repo_id} does not exist on the Hugging Face Hub (or it is private)")
    if isinstance(error, errors.RevisionNotFoundError):
        return DownloadError(f"{repo_id} has no such revision on the Hub")
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return DownloadError(f"the disk is full: free some space and pull {repo_id} again to resume")
    if is_network_failure(error):
        return DownloadError(f"cannot reach the Hugging Face Hub at {endpoint()} (no network?)")
    if isinstance(error, errors.HfHubHTTPError):
        return DownloadError(f"the Hub refused {repo_id}: {str(error).splitlines()[0]}")
    if isinstance(error, errors.LocalEntryNotFoundError):
        return DownloadError(f"cannot reach the Hugging Face Hub for {repo_id} (no network?)")
    return DownloadError(f"download of {repo_id} failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")


@contextmanager
def hub_errors(repo_id: str) -> Iterator[None]:
    """Turn any failed Hub request inside the block into one readable CabinError."""
    try:
        yield
    except CabinError:
        raise
    except Exception as e:  # noqa: BLE001 — httpx2, huggingface_hub and OS errors all end as one line
        raise readable(e, repo_id) from e


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None


def search(query: str, limit: int = 30) -> list[HubModel]:
    """mlx-community models whose name contains `query`, most downloaded first."""
    ensure_online("search the Hub")
    with hub_errors(f"{COMMUNITY} search"):
        found = hub_api().list_models(author=COMMUNITY, search=query, sort="downloads", limit=limit)
        return [HubModel(m.id, m.downloads or 0, m.likes or 0, m.last_modified) for m in found]
