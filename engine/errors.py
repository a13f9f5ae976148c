"""Errors a user can read: one line that names the problem, never a traceback from deep inside."""


class CabinError(Exception):
    """Base class for problems Cabin reports to the user as a single readable line."""


class ModelError(CabinError):
    """A model could not be found, validated or loaded."""


class DownloadError(CabinError):
    """A model could not be fetched from (or searched on) the Hugging Face Hub."""


class OfflineError(DownloadError):
    """The Hub was not contacted because Cabin is offline (HF_HUB_OFFLINE=1)."""


class CancelledByUser(CabinError):
    """The user stopped a long job: a download, a conversion, an import."""
