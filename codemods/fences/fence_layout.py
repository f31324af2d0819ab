"""Where the blank lines around an inserted definition go, so that a formatter adds none outside the fences.

black and ruff format decide how many blank lines come before a line from
the lines around it: two before a top-level ``def`` or ``class`` and before
the comments right above one (one when nested), at least one after the
imports, one after a module docstring, otherwise what the user wrote. A
block holding a definition is a comment (the begin fence), the definition
and an end fence, and strip removes it whole: the blank lines the formatter
puts *before* the begin fence stay in the file. So the formatter must put
there what it would put between the code above and the code below without
the block:

* below is a definition too (``def``, ``class``, decorated, with only
  comments directly above it): the fence leads the helper's definition and
  gets the definition's blank lines, as the code below would;
* below is anything else: the fence stands alone, the helper's blank lines
  inside the block after it, and the formatter treats the fence as it treats
  a comment above that code, that is like the code itself.

The end fence is followed directly by the code below, and the definition's
own blank lines before it are inside the block, so nothing changes there.
"""

from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst


def leads_definition(below: Optional[cst.CSTNode], leading_below: Sequence[cst.EmptyLine]) -> bool:
    """Should the begin fence sit right above the helper's ``def``?

    ``below`` is the statement the block goes above, ``leading_below`` those
    of its leading lines that stay between the block and it.
    """
    return isinstance(below, (cst.FunctionDef, cst.ClassDef)) and all(
        line.comment is not None for line in leading_below
    )


def blank_lines_after_fence(depth: int) -> list[str]:
    """The blank lines between a begin fence that stands alone and the definition."""
    return [""] * (1 if depth else 2)
