"""Core ML export: a store model as a stateful, compressed iOS 18 ML program with everything an iOS app needs.

`process.start_export` runs `export.run_export` as a child job (engine/jobs.py); the pieces are the source reader
(`source`), the stateful torch wrapper (`torch_model`), tracing and conversion (`convert`), weight
compression (`compress`), the export folder (`package`, `ios_readme`), golden vectors (`golden`)
and a numpy interpreter that runs the saved program on any platform (`mil_runtime`).
"""
