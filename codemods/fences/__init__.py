"""The fences: ``# >>> instrument`` blocks, found, inserted, removed, and laid out for formatters."""
