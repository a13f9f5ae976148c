"""The Models pane: models on this machine, the catalogue with fit checks, downloads, conversion, deletion."""
