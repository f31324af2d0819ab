"""``instrument check``: debug code in Python, YAML, commands and line-based files, without writing anything."""
