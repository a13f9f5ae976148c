"""API errors: one exception type; each wire format's codec renders it (OpenAI's body, or Ollama's on /api/ routes)."""

from __future__ import annotations


class ApiError(Exception):
    """A request the server refuses or cannot answer; `status` is the HTTP status to reply with."""

    def __init__(self, status: int, message: str, kind: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    @classmethod
    def invalid(cls, message: str, param: str | None = None, code: str | None = None) -> ApiError:
        return cls(400, message, "invalid_request_error", param, code)

    @classmethod
    def unsupported(cls, param: str, what: str) -> ApiError:
        return cls.invalid(f"{what} is not supported by this server.", param, "unsupported_parameter")

    @classmethod
    def unknown_model(cls, model: str) -> ApiError:
        return cls(404, f"The model '{model}' does not exist: it is neither loaded nor among the models on this machine.",
                   "invalid_request_error", "model", "model_not_found")

    @classmethod
    def model_in_use(cls, model: str, loaded: str | None) -> ApiError:
        """The app's server never swaps the window's model: the user switches models in the window."""
        using = f"the Cabin window is using {loaded}" if loaded else "the Cabin window has no model loaded"
        return cls(409, f"The model '{model}' is not loaded and {using}: choose {model} in the Cabin window to serve it.",
                   "invalid_request_error", "model", "model_in_use")

    @classmethod
    def cannot_load(cls, model: str, reason: str) -> ApiError:
        return cls(400, f"The model '{model}' cannot be loaded: {reason}", "invalid_request_error", "model",
                   "model_load_failed")
