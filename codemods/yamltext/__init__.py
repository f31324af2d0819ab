"""YAML and conda files: round-trip text edits, the debugpy dependency in a conda file."""
