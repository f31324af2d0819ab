"""Python grammar that does not depend on the Python running instrument.

instrument runs on Python 3.9 to 3.13; the files it reads are written for
whatever Python their job runs. LibCST's parser knows the newest grammar on
every Python, CPython's ``ast`` only its own. Where a codemod or ``check``
wants an ``ast`` tree (a tenth of a LibCST parse) and CPython rejects a file
LibCST accepts, :func:`lowered_tree` parses the file *lowered*: the newer
statements rewritten, at the same lines and columns, into older ones of the
same shape, which are then given back the newer statements' node types
(``Match``, ``TryStar``). So a ``match`` statement is analysed alike on 3.9
and 3.13, and a syntax error reads alike (:func:`syntax_error_reason`).

Lowered: ``match``/``case`` (3.10), ``except*`` (3.11), type parameters and
``type`` statements (3.12). A file using other grammar newer than the
running Python (3.12's f-strings with nested quotes) still has no ``ast``
tree there.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from typing import Any, Optional

_NEWLINE = re.compile(r"\r\n|\r|\n")
_CLOSING = {")": "(", "]": "[", "}": "{"}


def _node_type(name: str, base: type, fields: tuple) -> Any:
    """ast's node type ``name``; on a Python older than it, a stand-in of that
    name (analyses compare type names) with the same fields."""
    return getattr(ast, name, None) or type(name, (base,), {"_fields": fields})


_Match = _node_type("Match", ast.stmt, ("subject", "cases"))  # 3.10
_match_case = _node_type("match_case", ast.AST, ("pattern", "guard", "body"))  # 3.10
_TryStar = _node_type("TryStar", ast.stmt, ("body", "handlers", "orelse", "finalbody"))  # 3.11
_TypeAlias = _node_type("TypeAlias", ast.stmt, ("name", "type_params", "value"))  # 3.12


def syntax_error_reason(source: str) -> Optional[str]:
    """CPython's one-line reason for rejecting ``source`` (None if it accepts it),
    worded as Python 3.10+ words it also on 3.9 (an unclosed bracket)."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        if sys.version_info < (3, 10) and exc.msg in ("invalid syntax", "unexpected EOF while parsing"):
            # 3.10+ names instead a bracket left open at the end of the file
            # when the error is at the end or on a later line than the bracket
            unclosed = _unclosed_bracket(source)
            if unclosed is not None and (exc.msg != "invalid syntax" or unclosed[1] < (exc.lineno or 0)):
                bracket, line, column = unclosed
                return f"'{bracket}' was never closed (line {line}, column {column + 1})"
        if exc.lineno is None:  # null bytes (3.11)
            return exc.msg
        return f"{exc.msg} (line {exc.lineno}, column {exc.offset})"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes; nesting
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def _unclosed_bracket(source: str) -> Optional[tuple[str, int, int]]:
    """The innermost bracket still open at the end: (bracket, line, 0-based column)."""
    stack: list[tuple[str, int, int]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.OP:
                continue
            if token.string in "([{":
                stack.append((token.string, *token.start))
            elif token.string in _CLOSING and stack and stack[-1][0] == _CLOSING[token.string]:
                stack.pop()
    except (tokenize.TokenError, SyntaxError):  # the end of the file inside the bracket
        pass
    return stack[-1] if stack else None


def lowered_tree(source: str) -> Optional[ast.Module]:
    """An ``ast`` tree of ``source``, which CPython rejected; None unless LibCST
    accepts it and its newer grammar is one this module lowers."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from instrument.codemods.python import native_parse

    try:
        module = native_parse.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def offset(position) -> int:
        return starts[position.line - 1] + position.column

    edits: list[tuple[int, int, str]] = []
    matches: set[tuple[int, int]] = set()
    try_stars: set[tuple[int, int]] = set()
    aliases: set[tuple[int, int]] = set()
    for node, where in positions.items():
        if isinstance(node, cst.Match):  # match S:  ->  if  (S):
            begin = offset(where.start)
            end = offset(positions[node.subject].end)  # its brackets not included
            colon = end + source[end:].index(":")  # only brackets and spaces between
            edits += [(begin, begin + len("match"), "if  ("), (colon, colon, ")")]
            matches.add((where.start.line, where.start.column))
        elif isinstance(node, cst.MatchCase):  # case P if G:  ->  if  0 or G:
            begin = offset(where.start) + len("case")
            end = offset(positions[node.pattern].end)
            if node.guard is not None:
                keyword = end + source[end:offset(positions[node.guard].start)].index("if")
                edits += [(begin, keyword, _placeholder(source[begin:keyword])), (keyword, keyword + 2, "or")]
            else:
                colon = end + source[end:].index(":")
                edits.append((begin, colon, _placeholder(source[begin:colon])))
            edits.append((begin - len("case"), begin, "if  "))
        elif isinstance(node, cst.ExceptStarHandler):
            begin = offset(where.start) + len("except")
            star = begin + source[begin:].index("*")
            edits.append((star, star + 1, " "))
        elif isinstance(node, cst.TryStar):
            try_stars.add((where.start.line, where.start.column))
        elif isinstance(node, cst.TypeAlias):  # type X[T] = v  ->  (    X   )= v
            begin, name = offset(where.start), positions[node.name]
            equals = offset(positions[node.value].start)
            equals = offset(name.end) + source[offset(name.end):equals].index("=")
            edits += [(begin, begin + len("type"), "(   "), (offset(name.end), equals, _closed(source[offset(name.end):equals]))]
            aliases.add((where.start.line, where.start.column))
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node.type_parameters is not None:
            params = positions[node.type_parameters]  # def f[T](x)  ->  def f   (x)
            begin, end = offset(params.start), offset(params.end)
            edits.append((begin, end, _continued(source[begin:end])))
    if not edits:
        return None
    lowered = source
    for begin, end, text in sorted(edits, reverse=True):
        lowered = lowered[:begin] + text + lowered[end:]
    try:
        tree = ast.parse(lowered)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # grammar newer still (3.12's f-strings)
    return _Raise(matches, try_stars, aliases).visit(tree)


def _closed(text: str) -> str:
    """``text`` (spaces, type parameters) as ``)`` and spaces, its line breaks kept
    (inside the bracket); ``)`` alone if it is empty."""
    return ")" + "".join(c if c in "\r\n" else " " for c in text[1:]) if text else ")"


def _continued(text: str) -> str:
    """``text`` (type parameters) as spaces, each line ended by a backslash."""
    chars = [c if c in "\r\n" else " " for c in text]
    for index, char in enumerate(text):
        if char in "\r\n" and index and text[index - 1] not in "\r\n":
            chars[index - 1] = "\\"
    return "".join(chars)


def _placeholder(pattern: str) -> str:
    """A constant as long as ``pattern`` over as many lines (bracketed if several)."""
    chars = [c if c in "\r\n" else " " for c in pattern]
    if "\n" in pattern or "\r" in pattern:
        chars[0], chars[1], chars[-1] = "(", "0", ")"
    else:
        chars[0] = "0"  # the pattern and a space before it: at least one character
    return "".join(chars)


class _Raise(ast.NodeTransformer):
    """Gives the lowered statements back their own node types."""

    def __init__(self, matches: set, try_stars: set, aliases: set) -> None:
        self.matches, self.try_stars, self.aliases = matches, try_stars, aliases

    def visit_Assign(self, node: ast.Assign) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        if (node.lineno, node.col_offset) not in self.aliases:
            return node
        alias = _TypeAlias(name=node.targets[0], type_params=[], value=node.value)
        return ast.copy_location(alias, node)

    def visit_If(self, node: ast.If) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        if (node.lineno, node.col_offset) not in self.matches:
            return node
        cases = []
        case: Any
        for case in node.body:  # each an If lowered from a case clause
            test = case.test
            pattern, guard = (test.values[0], test.values[1]) if isinstance(test, ast.BoolOp) else (test, None)
            cases.append(_match_case(pattern=pattern, guard=guard, body=case.body))
        return ast.copy_location(_Match(subject=node.test, cases=cases), node)

    def visit_Try(self, node: ast.Try) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        if (node.lineno, node.col_offset) not in self.try_stars:
            return node
        star = _TryStar(body=node.body, handlers=node.handlers, orelse=node.orelse, finalbody=node.finalbody)
        return ast.copy_location(star, node)
