"""Python source: parsing once, positions, names and imports, statements, call arguments, verification."""
