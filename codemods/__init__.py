"""Pure LibCST transforms: source text in, source text out. No I/O, no click."""

#: The tool's version (``instrument --version``): here, with the transforms, because the
#: helper module they write beside scripts carries it.
__version__ = "0.1.0"
