"""Take over remote debugging written by hand in a training script (``add --take-over``).

Many public training scripts follow Microsoft's guide by hand: four
``parser.add_argument('--remote_debug...')`` flags, an ``if args.remote_debug:``
block that prints, listens and waits forever, often ``import debugpy`` at the
top; older ones an ``import ptvsd; ptvsd.enable_attach(...);
ptvsd.wait_for_attach()`` block, or ``debugpy.breakpoint()`` calls. Without
``--take-over`` add refuses such a script; with it, :func:`take_over` removes
exactly the statements that only serve debugging, decided from the syntax
tree, and add then instruments the result as usual:

* ``add_argument`` calls whose option strings are all ``--remote_debug*``;
* ``if`` statements (no ``else``) whose test has no side effects and whose
  body only debugs (debugger calls and imports, ``print``/logger calls,
  assignments of names nothing else reads), when the test reads a
  ``remote_debug*`` attribute or the body calls the debugger;
* ``debugpy.*``/``ptvsd.*`` call statements anywhere, under any import alias;
* ``import debugpy``/``import ptvsd`` (and ``from`` forms) nothing uses any more.

What goes is gone for good: ``strip`` then leaves a file with no debug code
at all, and ``add --take-over --diff`` shows every removed line. Code that
mixes debugging with other work (an ``if args.remote_debug:`` that also
trains, a block that would be left empty, ``args.remote_debug*`` read
elsewhere) is refused with one line naming its line, never half-removed.
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from instrument.codemods.python.debug_statements import ATTRIBUTE_PREFIX, Classifier, names_in
from instrument.codemods.core.errors import InstrumentError


class _Remover(cst.CSTTransformer):
    """Drops what only debugs; debugger imports only in the second pass (``imports``)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, classifier: Classifier, imports: bool) -> None:
        super().__init__()
        self.classifier, self.imports = classifier, imports
        self.removed: set[int] = set()  # ids of original statements that go whole
        self.refusal: Optional[str] = None
        self.gone: list[tuple[int, int]] = []  # (first, last) lines of what goes
        self.reads: list[tuple[int, str]] = []  # (line, attribute) of every remote_debug* read seen

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value.startswith(ATTRIBUTE_PREFIX):
            self.reads.append((self._line(node), node.attr.value))

    def still_read(self) -> Optional[tuple[int, str]]:
        """The first remote_debug* attribute read outside what goes (lines of the original)."""
        return next(((line, name) for line, name in self.reads
                     if not any(first <= line <= last for first, last in self.gone)), None)

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _refuse(self, node: cst.CSTNode, reason: str) -> None:
        if self.refusal is None:
            self.refusal = f"line {self._line(node)}: {reason}"

    def _goes(self, small: cst.BaseSmallStatement) -> bool:
        if self.imports:
            if not isinstance(small, (cst.Import, cst.ImportFrom)) or not self.classifier.debugger_import(small):
                return False
            bound = _bound_names(small)
            return not any(name in self.classifier.uses for name in bound)
        if isinstance(small, cst.Expr) and self.classifier.debugger_call(small.value):
            return True
        return self.classifier.flag_argument(small)

    def _kept(self, original, updated):
        kept = []
        for old, new in zip(original.body, updated.body):
            if self._goes(old):
                place = self.get_metadata(PositionProvider, old)
                self.gone.append((place.start.line, place.end.line))
            else:
                kept.append(new)
        if len(kept) == len(updated.body):
            return updated
        if kept:
            kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(body=kept)
        return None

    def leave_SimpleStatementLine(self, original, updated):
        kept = self._kept(original, updated)
        if kept is None:
            self.removed.add(id(original))
            return updated
        return kept

    def leave_SimpleStatementSuite(self, original, updated):
        kept = self._kept(original, updated)
        if kept is None:
            self._refuse(original, "taking over the hand-written debugging would leave this block empty; "
                         "remove it by hand")
            return updated
        return kept

    def visit_If(self, node: cst.If) -> bool:
        if self.imports:
            return True
        if self.classifier.debug_if(node):
            self.removed.add(id(node))
            place = self.get_metadata(PositionProvider, node)
            self.gone.append((place.start.line, place.end.line))
            return False  # goes whole: nothing inside needs a decision
        if names_in(node.test).remote_debug_attributes:
            self._refuse(node, "this `if` on --remote_debug also does work that is not debugging; "
                         "take it over by hand")
        return True

    def _suite(self, original, updated, body_owner):
        body = _without_removed(original.body, updated.body, self.removed)
        if body is None:
            return updated
        if not body and not isinstance(body_owner, cst.Module):
            self._refuse(original, "taking over the hand-written debugging would leave this block empty; "
                         "remove it by hand")
            return updated
        return updated.with_changes(body=body)

    def leave_IndentedBlock(self, original, updated):
        return self._suite(original, updated, original)

    def leave_Module(self, original, updated):
        return self._suite(original, updated, original)


def _bound_names(small: Union[cst.Import, cst.ImportFrom]) -> list[str]:
    names = []
    for alias in small.names if not isinstance(small.names, cst.ImportStar) else ():
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            names.append(alias.asname.name.value)
        else:
            full = cst.helpers.get_full_name_for_node(alias.name) or ""
            names.append(full.split(".", 1)[0] if isinstance(small, cst.Import) else full)
    return names


def _blank_lines_above(statement) -> list:
    lines = []
    for line in getattr(statement, "leading_lines", ()):
        if line.comment is not None:
            break
        lines.append(line)
    return lines


def _without_removed(originals, updated, removed: set) -> Optional[list]:
    """The statements that stay; the blank lines that opened a removed run stay with the next one."""
    if not any(id(statement) in removed for statement in originals):
        return None
    body, pending = [], None
    for old, new in zip(originals, updated):
        if id(old) in removed:
            if pending is None:
                pending = _blank_lines_above(old)
            continue
        if pending and not _blank_lines_above(new):
            new = new.with_changes(leading_lines=[*pending, *new.leading_lines])
        pending = None
        body.append(new)
    return body


def _remove(module: cst.Module, classifier: Classifier, imports: bool) -> tuple[cst.Module, _Remover]:
    remover = _Remover(classifier, imports)
    result = MetadataWrapper(module, unsafe_skip_copy=True).visit(remover)
    if remover.refusal is not None:
        raise InstrumentError(remover.refusal)
    return result, remover


def take_over(source: str, module: cst.Module) -> str:
    """``source`` without its hand-written debugging (unchanged when there is none)."""
    first, statements = _remove(module, Classifier(module), imports=False)
    read = statements.still_read()
    if read is not None:
        # Without its flags (standalone mode) the attribute would not exist.
        raise InstrumentError(f"line {read[0]}: the script still reads args.{read[1]} after taking over "
                              "the hand-written debugging; change it by hand")
    second, _ = _remove(first, Classifier(first), imports=True)
    return second.code if second is not module else source
