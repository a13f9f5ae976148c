"""Chat with your documents: folders and files read (`readers`), cut into chunks (`chunker`), embedded on the
engine's worker (`embedder`) and indexed in one SQLite file beside the history (`database`, `store`) with FTS5
and sqlite-vec; a question's top chunks, by BM25 and vector rank fused (`search`), go into its prompt with
citations (`retrieval`). The indexer (`indexer`) runs in the background, resumes and follows changes."""
