"""The helper module ``add`` writes beside a script, and the few lines that use it.

A script instrumented with the helper beside it (the default; ``--inline``
puts the whole helper in the script instead) gets a handful of fenced lines:
one statement that loads the helper file by path, and the calls. The helper
is the runtime code of :mod:`instrument.codemods.runtime`, rendered once per
version of the tool (:func:`module_text`): its options are arguments at the
call sites, so every script of a folder shares one file.

A script loads the helper as a module from the file next to its own
``__file__``, with the standard source loader (bytecode cached as an
import's is): it is found whatever ``sys.path`` is (``python
train.py`` from any folder, ``python -m pkg.train``, a scoring script the
inference server loads by path), and nothing is imported under a name the
user's code could see. Loading only defines functions; each one imports what
it needs when debugging is switched on.

The file's header says what it is and carries the SHA-256 of the text below
it: ``strip`` deletes a helper only while that still matches (an edited
helper is the user's now), and ``add`` replaces an older version of its own.
"""

from __future__ import annotations

import functools
from typing import Optional, Sequence

from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.core.options import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_RANKS,
    Options,
    validate_host,
    validate_identifier,
    validate_port,
    validate_ranks,
    validate_helper_file,
    validate_timeout,
)
from instrument.codemods.helper.header import Found, header
from instrument.codemods.helper.header import examine as examine_text
from instrument.codemods.runtime import remote_debug, render, score_debug
from instrument.codemods.runtime.render import string_literal

#: The helper's file name; ``_instrument_debug_2.py``... where a module of the user's has it.
FILE_NAME = "_instrument_debug.py"
#: The name the loaded helper gets in a script (a suffix is added on a clash).
LOADED_NAME = "_instrument"
#: Longest line the lines in a user's script may have (black's and ruff's default).
LINE_LENGTH = 88

TRAIN_FUNCTION = "remote_debug"
FLAGS_FUNCTION = "add_flags"
SCORE_FUNCTION = "score_debug"


_DOCSTRING = '''"""Remote debugging (VS Code, debugpy) for the scripts in this folder.

Each instrumented script loads this file by path and calls one function:
remote_debug(args) after its arguments are parsed (add_flags(parser) puts the
--remote_debug* flags on its parser first), remote_debug() at the top of a
script without a parser it can follow, score_debug() at the start of a
scoring script's init(). Nothing runs when the file is loaded.
"""'''


def is_file_name(name: str) -> bool:
    """A name :func:`file_names` can give (what a script's loader may name)."""
    try:
        return bool(validate_helper_file(name))
    except InstrumentError:
        return False


def file_names() -> list[str]:
    """The names the helper may have in a folder, in the order they are tried."""
    return [FILE_NAME] + [f"_instrument_debug_{n}.py" for n in range(2, 100)]


@functools.lru_cache(maxsize=1)
def module_text() -> str:
    """The helper module of this version of the tool (header included)."""
    parts = [
        render.function_lines(remote_debug.__name__, "_instrument_remote_debug", TRAIN_FUNCTION, {}, "    "),
        render.flags_function_lines(remote_debug.__name__, "_instrument_remote_debug", FLAGS_FUNCTION),
        render.function_lines(score_debug.__name__, "_instrument_remote_debug", SCORE_FUNCTION, {}, "    "),
    ]
    body = _DOCSTRING + "\n"
    for lines in parts:
        body += "\n\n" + "\n".join(lines) + "\n"
    return header(body) + body


def examine(text: str) -> Found:
    """:func:`helper_header.examine`, and whether ``text`` is what this version writes."""
    found = examine_text(text)
    if found.ours and not found.edited:
        return Found(ours=True, current=text == module_text())
    return found


def loader_lines(name: str, file_name: str, indent: str = "") -> list[str]:
    """``name = <the helper module>``: the file beside the script, loaded by path.

    The loader is the standard one for source files, so the helper's bytecode is
    cached in ``__pycache__`` as an imported module's is: loading it costs a
    training script's start well under a millisecond, where ``runpy`` cost ten
    (its imports, and a compile on every start). The module is not put in
    ``sys.modules``: nothing is imported under a name the user's code could see.
    Written as black writes it at ``indent``.
    """
    if not is_file_name(file_name):
        raise ValueError(f"not a helper file name: {file_name!r}")
    name = validate_identifier(name)
    # os.path is loaded with the interpreter (pathlib would cost a start some milliseconds);
    # normpath takes "<script>/.." textually, and "/" separates on Windows too.
    path = f"__import__(\"os\").path.normpath(__file__ + {string_literal('/../' + file_name)})"
    head = [f"{name} = __import__(\"types\").ModuleType(\"\")",
            "__import__(\"importlib.machinery\").machinery.SourceFileLoader("]
    tail = f").exec_module({name})"
    if len(indent.expandtabs(4)) + 4 + len(f'"", {path}') <= LINE_LENGTH:
        return head + [f'    "", {path}', tail]
    return head + ['    "",', f"    {path},", tail]


def call_lines(callee: str, arguments: Sequence[str], indent: str) -> list[str]:
    """``callee(arguments)`` as black writes it at ``indent``: on one line if it
    fits in 88 columns, else the arguments on one line of their own, else one per line."""
    one = f"{callee}({', '.join(arguments)})"
    width = len(indent.expandtabs(4))
    if width + len(one) <= LINE_LENGTH or not arguments:
        return [one]
    inner = ", ".join(arguments)
    if width + 4 + len(inner) <= LINE_LENGTH:
        return [f"{callee}(", f"    {inner}", ")"]
    return [f"{callee}("] + [f"    {argument}," for argument in arguments] + [")"]


def _chosen(options: Options, timeout: int, ranks: bool) -> list[str]:
    """The options that differ from a helper function's defaults, as keyword arguments."""
    arguments = []
    if validate_host(options.host) != DEFAULT_HOST:
        arguments.append(f"host={string_literal(options.host)}")
    if validate_port(options.port) != DEFAULT_PORT:
        arguments.append(f"port={options.port}")
    if options.timeout is not None and validate_timeout(options.timeout) != timeout:
        arguments.append(f"timeout={options.timeout}")
    chosen_ranks = validate_ranks(options.ranks or DEFAULT_RANKS)
    if ranks and chosen_ranks != DEFAULT_RANKS:
        arguments.append(f"ranks={string_literal(chosen_ranks)}")
    if not ranks and options.client_ip:  # the scoring function connects out
        arguments.append(f"client_ip={string_literal(validate_host(options.client_ip))}")
    return arguments


def train_arguments(options: Options) -> list[str]:
    """The keyword arguments of ``remote_debug`` and ``add_flags`` for the chosen options."""
    return _chosen(options, remote_debug.TIMEOUT, ranks=True)


def score_arguments(options: Options) -> list[str]:
    """The keyword arguments of ``score_debug`` for the chosen options."""
    return _chosen(options, score_debug.TIMEOUT, ranks=False)


def function(loaded: str, name: str) -> str:
    """``loaded.name``: one of the helper's functions, in a script."""
    return f"{validate_identifier(loaded)}.{validate_identifier(name)}"


def loaded_file(code: str) -> Optional[str]:
    """The helper file a loader block's code loads, else None (read from its syntax tree).

    Knows the loader of the previous versions too (``runpy.run_path`` on the
    script's folder + ``"/_instrument_debug.py"``), so their helpers are swept.
    """
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None

    def tail(node: ast.expr, prefix: str) -> Optional[str]:
        """The file name of ``<anything> + "<prefix><helper file>"``."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.right, ast.Constant):
            value = node.right.value
            if isinstance(value, str) and value.startswith(prefix) and is_file_name(value[len(prefix):]):
                return value[len(prefix):]
        return None

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "normpath" and len(node.args) == 1:  # SourceFileLoader("", normpath(__file__ + "/../x"))
            argument = node.args[0]
            if isinstance(argument, ast.BinOp) and isinstance(argument.left, ast.Name) and argument.left.id == "__file__":
                found = tail(argument, "/../")
                if found:
                    return found
        if node.func.attr == "run_path" and len(node.args) == 1:  # the earlier loader
            found = tail(node.args[0], "/")
            if found:
                return found
    return None
