"""The live performance view: answer speeds, time to first token and memory, as numbers and small plots."""
