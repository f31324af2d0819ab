"""Pure LibCST transforms: source text in, source text out. No I/O, no click."""
