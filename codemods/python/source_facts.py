"""What a training script does with its command line, read from its syntax tree.

Three facts decide how the debug flags reach a script, and each must come
from code, never from comments or strings that merely mention it:

* how many argument-parsing calls (``x.parse_args(...)`` and its three
  siblings) the script makes: each must be one the analysis follows, or
  flags added to a parser could miss the parse that runs;
* whether it reads some object's attributes as a mapping (``vars(args)``,
  ``args.__dict__``, not ``self``'s): a namespace carrying the debug flags'
  attributes into ``Trainer(**vars(args))`` breaks it, so such scripts get
  the standalone helper, which leaves the namespace alone;
* the first string literal that *is* one of the ``--remote_debug*`` flags
  (the guide's recipe applied by hand);
* what would make the flags break a parser they join: a parser whose
  ``prefix_chars`` has no ``-`` (``add_argument("--remote_debug")`` raises at
  start-up), and the script's own options starting with ``--r`` where some
  parser allows abbreviations (the user's ``--rem`` for ``--remove_x`` would
  become ambiguous with ``--remote_debug``).

CPython's tree is walked when it parses the file (the common case, and a
fraction of a LibCST parse); LibCST's otherwise.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from instrument.codemods.helper.templates import DEBUG_FLAGS

PARSE_METHODS = frozenset(
    {"parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args"}
)
_OWN = frozenset({"self", "cls"})  # an object's own attributes are not a namespace
_FLAGS = frozenset(DEBUG_FLAGS)


@dataclass(frozen=True)
class SourceFacts:
    parse_calls: int = 0
    read_as_mapping: bool = False
    #: (1-based line, flag) of the first literal that is a --remote_debug* flag.
    flag: Optional[tuple[int, str]] = None
    #: (line, column) of a call whose prefix_chars may lack "-" (1-based).
    foreign_prefix: Optional[tuple[int, int]] = None
    #: (line, column, option) of the script's first option that shares "--r" with the flags.
    abbreviation_clash: Optional[tuple[int, int, str]] = None
    #: Does some ArgumentParser call allow abbreviations (no allow_abbrev=False)?
    abbreviations_allowed: bool = False
    #: (line, column) of the first ``add_subparsers`` call: the command line holds a subcommand,
    #: after which the top-level parser's flags are refused.
    subcommands: Optional[tuple[int, int]] = None


def source_facts(tree: Optional[ast.Module], module: cst.Module) -> SourceFacts:
    """The facts from CPython's tree, or from LibCST's when there is none."""
    return _from_ast(tree) if tree is not None else _from_cst(module)


def _first(found, candidate):
    return candidate if found is None or candidate[:2] < found[:2] else found


def nodes_of(tree: ast.AST) -> list:
    """Every node under ``tree``, in :func:`ast.walk`'s order, as one list.

    A list that grows while it is read, instead of ``ast.walk``'s generator
    per node: the walks of a small file's analysis cost half as much.
    """
    found = [tree]
    append, AST = found.append, ast.AST
    for node in found:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, AST):
                append(value)
            elif type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        append(item)
    return found


def _from_ast(tree: ast.Module) -> SourceFacts:
    calls, mapping, flag = 0, False, None
    prefix = clash = subcommands = None
    abbreviations = False
    for node in nodes_of(tree):
        kind = type(node)
        if kind is ast.Call:
            func = node.func
            name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else ""
            if name == "ArgumentParser":
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                allow = keywords.get("allow_abbrev")
                abbreviations = abbreviations or not (type(allow) is ast.Constant and allow.value is False)
                chars = keywords.get("prefix_chars")
                if chars is not None and not (type(chars) is ast.Constant and "-" in str(chars.value)):
                    prefix = _first(prefix, (node.lineno, node.col_offset + 1))
            elif name == "add_subparsers":
                subcommands = _first(subcommands, (node.lineno, node.col_offset + 1))
            elif name == "add_argument":
                for arg in node.args:
                    if (type(arg) is ast.Constant and type(arg.value) is str and arg.value.startswith("--r")
                            and arg.value not in _FLAGS):
                        clash = _first(clash, (arg.lineno, arg.col_offset + 1, arg.value))
            if type(func) is ast.Attribute and func.attr in PARSE_METHODS:
                calls += 1
            elif type(func) is ast.Name and func.id == "vars" and node.args:
                first = node.args[0]
                mapping = mapping or not (type(first) is ast.Name and first.id in _OWN)
        elif kind is ast.Attribute:
            if node.attr == "__dict__":
                value = node.value
                mapping = mapping or not (type(value) is ast.Name and value.id in _OWN)
        elif kind is ast.Constant and type(node.value) is str and node.value in _FLAGS:
            if flag is None or node.lineno < flag[0]:
                flag = (node.lineno, node.value)
    return SourceFacts(calls, mapping, flag, prefix, clash, abbreviations, subcommands)


class _Facts(cst.CSTVisitor):
    """The same facts over LibCST's tree (grammar CPython does not know)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls, self.mapping = 0, False
        self.flags: list = []
        self.subcommands: list = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_subparsers":
            self.subcommands.append(node)
        if isinstance(func, cst.Attribute) and func.attr.value in PARSE_METHODS:
            self.calls += 1
        elif isinstance(func, cst.Name) and func.value == "vars" and node.args:
            first = node.args[0].value
            self.mapping = self.mapping or not (isinstance(first, cst.Name) and first.value in _OWN)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "__dict__":
            value = node.value
            self.mapping = self.mapping or not (isinstance(value, cst.Name) and value.value in _OWN)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        try:
            value = node.evaluated_value
        except Exception:  # an odd prefix: not one of ours
            return
        if value in _FLAGS:
            self.flags.append(node)


def _from_cst(module: cst.Module) -> SourceFacts:
    facts = _Facts()
    module.visit(facts)
    flag = subcommands = None
    if facts.flags or facts.subcommands:
        from libcst.metadata import MetadataWrapper, PositionProvider

        # Rare (CPython rejected the file): positions for the one message.
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        if facts.flags:
            first = min(facts.flags, key=lambda node: positions[node].start.line)
            flag = (positions[first].start.line, first.evaluated_value)
        if facts.subcommands:
            start = min((positions[node].start.line, positions[node].start.column + 1) for node in facts.subcommands)
            subcommands = start
    return SourceFacts(facts.calls, facts.mapping, flag, subcommands=subcommands)
