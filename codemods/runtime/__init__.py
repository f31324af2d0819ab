"""The code ``instrument add`` injects, as real Python modules.

Each module here holds one function exactly as it is placed into a user's
file, with module-level constants where the user's choices (port, timeout,
host, ranks) go. The modules are imported, linted, type-checked and unit
tested in-process like any other code; :mod:`.render` reads a function's
source, puts the chosen values in place of its constants as validated
literals and re-indents it for the target file.

The injected code runs inside users' jobs, on whatever Python their image
has: it must stay valid Python 3.6 (no walrus, no positional-only
parameters) and import nothing at module level that the job may lack.
"""
