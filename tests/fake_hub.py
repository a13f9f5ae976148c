"""A local HTTP server that speaks the parts of the Hugging Face Hub API that downloads and search use.

Point `huggingface_hub` at it (HF_ENDPOINT / `constants.ENDPOINT`) and it serves model folders from disk:
repo info, the file tree, HEAD/GET of files with HTTP Range (resume), the model search, and the Hub's
error headers for missing and gated repos. It can also cut a file off mid-way, or hold
a file's transfer open (headers sent, body waiting) until the test lets it go, so a test can see a download
in progress without racing the clock.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "c0ffee" + "0" * 34
CHUNK = 16 * 1024
HOLD_LIMIT_SECONDS = 300


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None


@dataclass
class HubFile:
    data: bytes

    @property
    def git_oid(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def tree_entry(self, path: str) -> dict:
        entry = {"type": "file", "path": path, "size": len(self.data), "oid": self.git_oid}
        if path.endswith(".safetensors"):
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": 134}
        return entry

    def etag(self, path: str) -> str:
        return self.sha256 if path.endswith(".safetensors") else self.git_oid


@dataclass
class FakeHub:
    """The server's state: repos, gated repo ids, cuts, holds, and a log of every request."""

    repos: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    cut_once: dict[str, int] = field(default_factory=dict)  # file name -> bytes sent before the first GET is cut
    requests: list[Request] = field(default_factory=list)
    holds: dict[str, threading.Event] = field(default_factory=dict)  # file name -> set to let its body go
    url: str = ""

    def hold(self, name: str) -> threading.Event:
        """Hold every GET of `name` after its headers until the returned event is set."""
        return self.holds.setdefault(name, threading.Event())

    def release_all(self) -> None:
        for event in self.holds.values():
            event.set()

    def add_repo(self, repo_id: str, folder: Path) -> None:
        self.repos[repo_id] = {
            str(f.relative_to(folder)): HubFile(f.read_bytes()) for f in sorted(folder.rglob("*")) if f.is_file()
        }

    def file_gets(self, name: str) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path.endswith(f"/{name}")]


class HubHandler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.route("HEAD")

    def do_GET(self) -> None:
        self.route("GET")

    def route(self, method: str) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        self.hub.requests.append(Request(method, path, self.headers.get("Range")))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) == 2:
            return self.search(parse_qs(url.query))
        if parts[:2] == ["api", "models"]:
            repo_id, rest = "/".join(parts[2:4]), parts[4:]
            if not self.repo_ok(repo_id):
                return None
            if rest[:1] == ["tree"]:
                return self.send_json([f.tree_entry(p) for p, f in self.hub.repos[repo_id].items()])
            return self.send_json(self.repo_info(repo_id))
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, filename = "/".join(parts[:2]), "/".join(parts[4:])
            if self.repo_ok(repo_id):
                self.send_file(method, repo_id, filename)
            return None
        self.send_error_headers(404, "RepoNotFound", "no such route")
        return None

    def repo_ok(self, repo_id: str) -> bool:
        if repo_id in self.hub.gated:
            self.send_error_headers(401, "GatedRepo", f"Access to model {repo_id} is restricted.")
            return False
        if repo_id not in self.hub.repos:
            self.send_error_headers(404, "RepoNotFound", "Repository not found")
            return False
        return True

    def repo_info(self, repo_id: str) -> dict:
        files = self.hub.repos[repo_id]
        return {"id": repo_id, "sha": COMMIT, "private": False, "gated": False, "siblings": [{"rfilename": p} for p in files]}

    def search(self, query: dict[str, list[str]]) -> None:
        text = query.get("search", [""])[0].lower()
        author = query.get("author", [""])[0]
        found = [
            {"id": r, "downloads": 1000 * (i + 1), "likes": i, "lastModified": "2025-01-02T03:04:05.000Z"}
            for i, r in enumerate(sorted(self.hub.repos))
            if text in r.lower() and r.startswith(f"{author}/")
        ]
        self.send_json(found)

    def send_json(self, value: object) -> None:
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_headers(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_file(self, method: str, repo_id: str, filename: str) -> None:
        file = self.hub.repos[repo_id].get(filename)
        if file is None:
            return self.send_error_headers(404, "EntryNotFound", f"{filename} does not exist")
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{file.etag(filename)}"')
        if filename.endswith(".safetensors"):
            self.send_header("X-Linked-Etag", f'"{file.sha256}"')
            self.send_header("X-Linked-Size", str(len(file.data)))
        self.send_header("Content-Length", str(len(file.data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(file.data) - 1}/{len(file.data)}")
        self.end_headers()
        if method == "GET":
            self.wait_for_release(filename)
            self.stream(file.data[start:], self.hub.cut_once.pop(filename, None))
        return None

    def wait_for_release(self, filename: str) -> None:
        """A held file waits for its test; the bound only keeps a failing test from hanging the run."""
        if filename in self.hub.holds:
            self.hub.holds[filename].wait(HOLD_LIMIT_SECONDS)

    def stream(self, data: bytes, cut_at: int | None) -> None:
        for offset in range(0, len(data), CHUNK):
            if cut_at is not None and offset >= cut_at:
                self.close_connection = True
                return
            try:
                self.wfile.write(data[offset : offset + CHUNK])
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return


def serve(hub: FakeHub) -> ThreadingHTTPServer:
    """Start serving `hub` on 127.0.0.1 (a free port) in a daemon thread; sets `hub.url`."""
    handler = type("Handler", (HubHandler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
