"""The one exception root of the tool.

Every error a user can cause (a file that cannot be read, decoded, parsed or
transformed, an option value that cannot be placed into generated code, a
launch.json or run log that cannot be read) is an :class:`InstrumentError`;
``str()`` is the one-line reason, without the file name (the caller adds it).
Anything else that escapes is a bug, reported as an internal error.
"""


class InstrumentError(ValueError):
    """Input the tool refuses; ``str()`` is the one-line reason."""
