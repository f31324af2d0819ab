"""The defaults and limits of the user's choices, as plain numbers and strings.

Apart from :mod:`.options` (which validates against them) so that the command
line can name them in its help without loading the validation: ``instrument
--help`` is a start, and is timed as one.
"""

DEFAULT_PORT = 5678
#: Seconds to wait for the debugger when --timeout is not given; each kind
#: may have its own (a scoring service must answer soon, see its kind module).
DEFAULT_TIMEOUT = 300
DEFAULT_HOST = "0.0.0.0"
DEFAULT_RANKS = "all"
#: Longest timeout accepted: a day. Longer waits are mistakes on billed compute,
#: and threading.Timer refuses values past threading.TIMEOUT_MAX.
MAX_TIMEOUT = 24 * 60 * 60
#: Longest list of ranks (characters): a job has at most a few thousand processes.
MAX_RANKS_TEXT = 4096
MAX_RANK = 1_000_000
