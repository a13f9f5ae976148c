"""Errors a user can read: one line that names the problem, never a traceback from deep inside."""


class CabinError(Exception):
    """Base class for problems Cabin reports to the user as a single readable line."""


class ModelError(CabinError):
    """A model could not be found, validated or loaded."""
