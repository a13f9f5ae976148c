"""`cabin library`: document libraries to chat with (engine/library/): add folders and files, list what is
indexed and why some files are not, update after changes, search, remove."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import CabinError
from engine.library.indexer import Progress
from engine.library.store import Library, LibraryStore


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add folders or files to a library (made if new) and index them")
    add.add_argument("name")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument("--embedding-model", help="a new library's sentence encoder (default: the first one you have)")
    show = actions.add_parser("list", help="the libraries; with a name, its folders, files and notes")
    show.add_argument("name", nargs="?")
    update = actions.add_parser("update", help="index what changed in a library's folders since the last time")
    update.add_argument("name")
    search = actions.add_parser("search", help="the chunks a question would be given (BM25 and vectors fused)")
    search.add_argument("name")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    remove = actions.add_parser("remove", help="remove a library, or some of its folders and files")
    remove.add_argument("name")
    remove.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.library.encoders import index_path

    store = LibraryStore(index_path())
    try:
        return ACTIONS[args.action](store, args)
    finally:
        store.close()


def add(store: LibraryStore, args: argparse.Namespace) -> int:
    from engine.library.encoders import choose_encoder

    missing = [str(p) for p in args.paths if not p.expanduser().exists()]
    if missing:
        raise CabinError(f"no such file or folder: {', '.join(missing)}")
    library = store.find(args.name) or store.create(args.name, choose_encoder(args.embedding_model))
    for path in args.paths:
        store.add_source(library, path)
    return index(store, library)


def update(store: LibraryStore, args: argparse.Namespace) -> int:
    return index(store, store.named(args.name))


def index(store: LibraryStore, library: Library) -> int:
    """Index on the engine's worker with progress on stderr; then the library's notes."""
    from engine.generation import Engine
    from engine.library.embedder import WorkerEmbedder
    from engine.library.indexer import Indexer

    engine = Engine()
    indexer = Indexer(store.path, WorkerEmbedder(engine).embed)
    try:
        indexer.start(library.name, show_progress).result()
    finally:
        indexer.shutdown()
        engine.shutdown()
    print(file=sys.stderr)
    print_library(store, store.named(library.name), notes_only=True)
    return 0


def show_progress(progress: Progress) -> None:
    if progress.finished:
        sys.stderr.write(f"\rindexed {progress.total:,} files: {progress.chunks:,} new chunks" + " " * 30)
    else:
        name = Path(progress.path).name if progress.path else ""
        sys.stderr.write(f"\r{progress.done:,}/{progress.total:,} files · {progress.chunks:,} chunks · {name[:40]:<40}")
    sys.stderr.flush()


def show(store: LibraryStore, args: argparse.Namespace) -> int:
    if args.name:
        print_library(store, store.named(args.name), notes_only=False)
        return 0
    libraries = store.libraries()
    if not libraries:
        print("No libraries yet: cabin library add NAME FOLDER", file=sys.stderr)
    for library in libraries:
        s = store.summary(library)
        print(f"{library.name}\t{s.indexed:,} files indexed\t{s.chunks:,} chunks\t{s.skipped:,} not indexed"
              f"\t{s.pending:,} waiting\t{library.encoder}")  # fmt: skip
    return 0


def print_library(store: LibraryStore, library: Library, notes_only: bool) -> None:
    for source in store.sources(library):
        print(source.path + (f" — {source.note}" if source.note else ""))
    for record in store.files(library):
        if record.note or not notes_only:
            print(f"  {record.state:<8} {record.path}" + (f"  — {record.note}" if record.note else ""))
    s = store.summary(library)
    print(f"{library.name}: {s.indexed:,} files indexed ({s.chunks:,} chunks), {s.skipped:,} not indexed, "
          f"{s.pending:,} waiting")  # fmt: skip


def search(store: LibraryStore, args: argparse.Namespace) -> int:
    from engine.generation import Engine
    from engine.library.embedder import WorkerEmbedder
    from engine.library.search import search as find

    library = store.named(args.name)
    engine = Engine()
    try:
        embedder = WorkerEmbedder(engine)
        hits = find(store.db, [library], args.query, lambda encoder, text: embedder.embed(encoder, [text])[0], args.k)
    finally:
        engine.shutdown()
    for rank, hit in enumerate(hits, start=1):
        page = f" p. {hit.page}" if hit.page is not None else ""
        print(f"[{rank}] {hit.path}{page}  ({hit.score:.4f})\n    {hit.text[:200]}")
    return 0


def remove(store: LibraryStore, args: argparse.Namespace) -> int:
    library = store.named(args.name)
    if not args.paths:
        store.remove(library)
        print(f"removed library {library.name}", file=sys.stderr)
        return 0
    unknown = [str(p) for p in args.paths if not store.remove_source(library, p)]
    if unknown:
        raise CabinError(f"not in {library.name}: {', '.join(unknown)} (see: cabin library list {library.name})")
    return index(store, library)


ACTIONS = {"add": add, "list": show, "update": update, "search": search, "remove": remove}

