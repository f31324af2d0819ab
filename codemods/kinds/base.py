"""What a target kind is, and the outer steps every kind shares.

A kind is one module under ``codemods/kinds/`` that defines ``KIND = Kind(...)``:
its name, the file suffixes it is looked for in, its default timeout, which
``add`` options apply to it, ``detect(text, tree)`` and ``plan(text, tree,
options)``. :func:`apply` does the rest for every kind alike: remove the old
blocks, parse once, plan, insert the fenced blocks, verify. A plan is data (the
insertions, the notes, the other files the kind needs changed), so the
transform stays pure: text in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from instrument.codemods.fences import markers
from instrument.codemods.core.errors import InstrumentError
from instrument.codemods.core.options import Options

from instrument.codemods.languages import PYTHON, TEXT, YAML, parser

#: Option names (fields of :class:`Options`) that every kind that injects a
#: listener uses; kinds list any others they take in ``Kind.options``.
LISTENER_OPTIONS = frozenset({"port", "timeout", "host", "ranks"})


@dataclass(frozen=True)
class Note:
    """A remark about the file that is not a failure: ``path:line:col: note: message``."""

    line: int
    col: int
    message: str


@dataclass(frozen=True)
class Companion:
    """Another file that must change with this one (a job's local conda file).

    ``path`` is as written in the file (relative to the file's folder);
    ``kind`` names the kind that instruments it.
    """

    path: str
    kind: str
    #: The entry script of a command (the flags on the command need it instrumented):
    #: when it cannot be, the definition is planned again without the flags there.
    entry: bool = False
    #: Uploaded alone (a ``code:`` that names the script itself): a helper file beside it
    #: would be left behind, so the helper goes in the script.
    alone: bool = False
    #: Other places the file may be at, tried in order after ``path`` (``python -m pkg``:
    #: ``pkg.py``, then ``pkg/__main__.py``).
    alternatives: tuple = ()


@dataclass(frozen=True)
class Plan:
    """What ``add`` will do to one file.

    With no insertions, ``reason`` says truthfully why the file does not
    change (reported with ``-v``); ``warnings`` are problems the user must see
    (an option that selected nothing), and make the run exit non-zero.
    """

    insertions: Sequence[markers.Insertion] = ()
    notes: Sequence[Note] = ()
    companions: Sequence[Companion] = ()
    reason: Optional[str] = None
    warnings: Sequence[str] = ()
    #: Extra data for the kind's own ``verify`` (e.g. the rewritten code it expects).
    expected: Any = None
    #: The text the insertions go into when the kind took hand-written debug code
    #: out of the file first (``--take-over``): ``strip`` gives this text back.
    source: Optional[str] = None
    #: Commands (or steps) of this file that now carry the debug flags.
    entries: int = 0
    #: Files the insertions need beside this one: (file name in the same folder, text). The
    #: helper module a script loads (``Options.helper``); the runner writes them first.
    generated: Sequence[tuple[str, str]] = ()


def _verify_python(result: str, clean: str, plan: Plan) -> None:
    from instrument.codemods.python.parsing import verify

    verify(result, clean)


def _verify_yaml(result: str, clean: str, plan: Plan) -> None:
    from instrument.codemods.yamltext.yaml_text import verify

    verify(result, clean)


def _verify_text(result: str, clean: str, plan: Plan) -> None:
    if remove_blocks(result, TEXT) != clean:
        raise InstrumentError("internal error: the result does not strip back to the original")


@dataclass(frozen=True)
class Kind:
    """One target kind; each kind module defines one as ``KIND``."""

    name: str
    language: str  # PYTHON, YAML or TEXT
    #: One line for ``--help`` and the README's table of kinds.
    summary: str
    #: ``detect(text, tree)``: whether a file (blocks removed, parsed once) is of this kind.
    detect: Callable[[str, Any], bool]
    #: ``plan(text, tree, options)``: the :class:`Plan` for a file of this kind.
    plan: Callable[[str, Any, Options], Plan]
    #: Seconds to wait for the debugger when --timeout is not given (None: no listener).
    default_timeout: Optional[int] = 300
    #: The ``add`` options that mean something for this kind.
    options: frozenset = field(default=LISTENER_OPTIONS)
    #: Looked at while walking folders (explicitly named files are always tried).
    suffixes: tuple = ()
    #: File name patterns (``requirements*.txt``) that say the kind's language when
    #: a file is named (such files are never looked for while walking folders).
    names: tuple = ()
    #: Detection order among kinds of one language: lower is tried first.
    priority: int = 100
    #: ``verify(result, clean, plan)``: raise unless the result is sound.
    verify: Optional[Callable[[str, str, Plan], None]] = None
    #: ``take_over(text, tree, options)``: the text without debugging written
    #: by hand (``add --take-over``); None when the kind has nothing to take over.
    take_over: Optional[Callable[[str, Any, Options], str]] = None
    #: Its files name other files that change with them (``Plan.companions``): strip and
    #: check follow them from a file that holds no block itself.
    brings: bool = False
    #: Python kinds that bring: the modules one of which a file must import (``import M``,
    #: ``from M import n``, or a module inside one) for ``detect`` to accept it. Read from
    #: CPython's tree (:func:`kinds.may_bring`) to pass over a file without LibCST's parse.
    imports: tuple = ()
    #: A definition whose commands run entry scripts: brought by another definition (a
    #: pipeline's component file), it is dropped with a note when it runs nothing to debug.
    runs_commands: bool = False
    #: The kind any Python file may be taken as when named (or run by a job's command).
    any_script: bool = False
    #: Its scripts load the helper module beside them (``Options.helper``) when the runner
    #: gives one, and carry the whole helper otherwise.
    helper: bool = False

    def parse(self, text: str) -> Any:
        return parser(self.language)(text)

    def check(self, result: str, clean: str, plan: Plan) -> None:
        if self.verify is not None:
            self.verify(result, clean, plan)
        elif self.language == PYTHON:
            _verify_python(result, clean, plan)
        elif self.language == TEXT:
            _verify_text(result, clean, plan)
        else:
            _verify_yaml(result, clean, plan)


@dataclass(frozen=True)
class Result:
    """The outcome of :func:`apply`: the new text and what the plan said."""

    text: str
    plan: Plan
    kind: Kind


def remove_blocks(source: str, language: str = PYTHON) -> str:
    try:
        if language == TEXT:  # no strings or scalars: every fence line is one
            return markers.remove_blocks_from(source, markers.find_blocks(source, trusted=True))
        return markers.remove_blocks(source, yaml=language == YAML)
    except markers.MarkerError as exc:
        raise InstrumentError(str(exc)) from None


def newline_of(text: str) -> str:
    """The file's own line ending (that of its first line), ``\\n`` for none."""
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index < 0 and "\r" in text:
        return "\r"
    return "\n"


def apply(kind: Kind, source: str, options: Options, tree: Any = None, clean: Optional[str] = None) -> Result:
    """Instrument ``source`` as ``kind``.

    ``clean`` is the source with its old blocks removed and ``tree`` the parse
    of that, when the caller has them (it removed and parsed to detect the
    kind); without ``clean``, ``tree`` is the parse of ``source``. Either way
    the blocks are removed and the text parsed once per file.

    Instrumenting twice gives the same text. When the plan changes nothing,
    the source comes back as it was (old blocks included): ``add`` never
    removes a block it does not put back, and says why. A plan made on a copy
    without hand-written debug code (``--take-over``, ``Plan.source``) goes
    into that copy, and ``strip`` gives the copy back.
    """
    if clean is None:
        clean = remove_blocks(source, kind.language)
        if clean != source:
            tree = None
    if tree is None:
        tree = kind.parse(clean)
    options = options.for_kind(kind.default_timeout or 0)
    if options.take_over and kind.take_over is not None:
        # What is taken over is gone for good: strip goes back to this text.
        taken = kind.take_over(clean, tree, options)
        if taken != clean:
            clean, tree = taken, kind.parse(taken)
    plan = kind.plan(clean, tree, options)
    if not plan.insertions:
        return Result(source, plan, kind)
    newline = getattr(tree, "default_newline", None) or newline_of(clean)
    if plan.source is not None:
        clean = plan.source
    insertions = sorted(plan.insertions, key=lambda insertion: (insertion.before, insertion.replaces))
    result = markers.insert_blocks(clean, insertions, newline)
    kind.check(result, clean, plan)
    return Result(result, plan, kind)


def strip(kind_language: str, source: str) -> str:
    """Remove every instrument block; the result must still parse."""
    import ast

    result = remove_blocks(source, kind_language)
    if result != source and kind_language == PYTHON:
        try:
            compile(result, "<stripped>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError):
            parser(PYTHON)(result)  # LibCST knows more grammars; it raises if the result is broken
    return result
