"""The byte pre-test that lets ``instrument check`` skip a file without parsing it.

It must be sound: a file it clears can hold no finding. Every finding needs
one of :data:`NEEDLES` in what the file means: in an identifier (an import),
a fence, or the value of a string (a module named in ``import_module``, a
command, code given to ``exec``). An identifier or a fence is spelled in the
bytes (once the file is decoded as Python decodes it, identifiers
NFKC-normalised). A string's value need not be: check reads escapes
(``"\\x64ebugpy"``) and builds values from pieces (``"de" + "bugpy"``,
adjacent literals, f-strings, ``str.join``, shell quotes inside a command:
``de"bug"py``). So a file is also kept when, escapes decoded, a needle can be
put together from such pieces: a piece that ends a literal (followed by a
quote, a brace or a backslash), whole literals, and a piece that starts one.
Most files fail that test at the first step, in C (:mod:`re`), at a small
fraction of a parse.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize
import unicodedata

from instrument.codemods.fences import markers
from instrument.codemods.check.commands import (BREAKPOINT_VARIABLE, DEBUG_PORT_VARIABLE, DEBUGGER_SCRIPTS,
                                                REMOTE_DEBUG_FLAG)
from instrument.codemods.check.names import MODULE_NAMES

#: What a value must spell for a finding (module names cover their console scripts and submodules).
NEEDLES = tuple(dict.fromkeys((*MODULE_NAMES, *DEBUGGER_SCRIPTS, REMOTE_DEBUG_FLAG, DEBUG_PORT_VARIABLE,
                               BREAKPOINT_VARIABLE)))
_BYTE_NEEDLES = tuple(n.encode() for n in (*NEEDLES, markers.BEGIN))
#: YAML: what Azure ML runs is under these keys; the rest is found by its own name.
_YAML_KEYS = (b"command", b"args")
_YAML_ALWAYS = tuple(n.encode() for n in (DEBUG_PORT_VARIABLE, BREAKPOINT_VARIABLE, markers.BEGIN))
_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}\n]*\}|[0-7]{1,3}|\r?\n[ \t]*)")
_ESCAPE_BYTES_RE = re.compile(rb"\\(?:[xuUN0-7]|\r?\n)")
_COOKIE_RE = re.compile(rb"^[ \t\f]*#[^\r\n]*?coding[:=]", re.MULTILINE)
_ENDS = "\"'{\\\\"  # what may follow a piece that ends a literal (in a character class)
_STARTS = "\"'}\\\\"
_LONGEST = max(map(len, NEEDLES))
_WHOLE_RE = re.compile(rf"[{_ENDS}}}]([^\"'{{}}\\\\\n]{{1,{_LONGEST}}})(?=[{_ENDS}}}])")


def _trie(pieces: set[str]) -> str:
    """A regular expression matching any of ``pieces``, shaped as a trie: most
    positions of a text fail at their first character, in C."""
    if "" in pieces and len(pieces) == 1:
        return ""
    branches = []
    for first in sorted({p[0] for p in pieces if p}):
        rest = _trie({p[1:] for p in pieces if p and p[0] == first})
        branches.append(re.escape(first) + rest)
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in pieces else body


@functools.lru_cache(maxsize=None)
def _pieces() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[bytes]]:
    """The searches for pieces of a needle: (ending a literal, in the reversed text; starting one;
    starting one, in bytes). Compiled on first use: a few milliseconds of a start that a file
    without a sink word (nearly every file of a commit) never needs.

    The pieces that end a literal are searched in the reversed text: a search that starts at a
    quote or a brace (rare) is several times faster than one that starts at a letter (common).
    """
    first_reversed = re.compile(rf"[{_ENDS}]({_trie({n[:i][::-1] for n in NEEDLES for i in range(1, len(n))})})")
    last = re.compile(rf"[{_STARTS}]({_trie({n[i:] for n in NEEDLES for i in range(1, len(n))})})")
    return first_reversed, last, re.compile(last.pattern.encode())


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    if code[0] in "xuU":
        point = int(code[1:], 16)
        return chr(point) if point <= 0x10FFFF else match.group(0)
    if code[0] == "N":
        try:
            return unicodedata.lookup(code[2:-1])
        except KeyError:
            return match.group(0)
    if code[0] in "\r\n":
        return ""
    return chr(int(code, 8))


def could_spell(text: str) -> bool:
    """Whether a string value in ``text`` may spell a needle once escapes and pieces are read."""
    if _ESCAPE_RE.search(text):
        text = _ESCAPE_RE.sub(_unescape, text)
        if any(needle in text for needle in NEEDLES):
            return True
    first_reversed, last, _ = _pieces()
    firsts = {piece[::-1] for piece in first_reversed.findall(text[::-1])}
    if not firsts:
        return False
    lasts = set(last.findall(text))
    if not lasts:
        return False
    wholes = set(_WHOLE_RE.findall(text))
    # Every tail of a piece that ends a literal and every head of one that starts a literal, once
    # per text: each needle then asks a set, not every piece (the pieces are a needle's at most).
    tails = {first[-length:] for first in firsts for length in range(1, len(first) + 1)}
    heads = {last[:length] for last in lasts for length in range(1, len(last) + 1)}
    return any(_joins(needle, tails, heads, wholes) for needle in NEEDLES)


def _joins(needle: str, tails: set[str], heads: set[str], wholes: set[str]) -> bool:
    """Whether pieces seen in the text put ``needle`` together: an end piece (one of whose tails is
    the needle's head), whole ones, a start piece (one of whose heads is the needle's tail)."""
    ends = {i for i in range(1, len(needle)) if needle[:i] in tails}
    starts = {j for j in range(1, len(needle)) if needle[j:] in heads}
    if not ends or not starts:
        return False
    middles = [w for w in wholes if w in needle]
    todo, seen = sorted(ends), set(ends)
    while todo:
        at = todo.pop()
        if at in starts:
            return True
        for whole in middles:
            after = at + len(whole)
            if after < len(needle) and needle.startswith(whole, at) and after not in seen:
                seen.add(after)
                todo.append(after)
    return False


#: Where a value built from pieces can matter in Python: the calls that run a string, import or
#: look up a name given as a string, or export a variable. A file naming none of them has
#: findings only where a needle is spelled out (the analysis reads built keys of variables only
#: in a file that names one of these too, see :mod:`.sinks`).
SINK_WORDS = ("exec", "eval", "compile", "import_module", "__import__", "run_module", "resolve_name", "modules",
              "subprocess", "system", "popen", "spawn", "getoutput", "env", "azure", "PythonScriptStep",
              "getattr", "vars", "__dict__", "globals", "locals", "getter", "caller")
_SINK_BYTES = tuple(word.encode() for word in SINK_WORDS)


def could_have_findings(data: bytes, yaml: bool = False) -> bool:
    """Cheap pre-test on raw bytes: False means no finding is possible.

    Most files are ASCII, without a coding line: there the bytes are the
    text Python reads. A file with other bytes, or a coding line, is decoded
    and its identifiers normalised first (as Python's parser does), so
    ``# coding: utf-7`` or fullwidth letters hide nothing. A file Python
    cannot decode cannot run, so it holds no finding.
    """
    if yaml:  # UTF-8 only, and YAML does not normalise: the bytes are the text
        if any(needle in data for needle in _YAML_ALWAYS):
            return True
        if not any(key in data for key in _YAML_KEYS):
            return False
        return any(needle in data for needle in _BYTE_NEEDLES) or b"${{" in data or could_spell(_text(data))
    if any(needle in data for needle in _BYTE_NEEDLES):
        return True
    if data.isascii() and not _COOKIE_RE.search(data, 0, _cookie_span(data)):
        if not any(word in data for word in _SINK_BYTES):
            return False
        if not _ESCAPE_BYTES_RE.search(data) and not _pieces()[2].search(data):
            return False  # decoding ASCII is a copy: skipped when no literal can start with a piece of a needle
        return could_spell(data.decode("ascii"))
    try:
        text = _decode_python(data)
    except (UnicodeDecodeError, ValueError, LookupError):
        return False  # Python cannot read it either: it runs nothing
    return could_have_findings_text(text)


def could_have_findings_text(text: str, shell: bool = False) -> bool:
    """The pre-test for a decoded text: Python (a notebook's cells, code given to ``-c``), or a
    shell script or Dockerfile (``shell``: every command runs, no sink word is needed)."""
    if markers.BEGIN in text or any(needle in text for needle in NEEDLES):  # strings are not normalised
        return True
    names = _identifiers(text)
    if names is not text and any(needle in names for needle in NEEDLES):
        return True
    if not shell and not any(word in names for word in SINK_WORDS):
        return False
    return could_spell(text)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _cookie_span(data: bytes) -> int:
    """Where the first two lines end (PEP 263 looks no further)."""
    end = data.find(b"\n")
    end = data.find(b"\n", end + 1) if end >= 0 else -1
    return len(data) if end < 0 else end


def _decode_python(data: bytes) -> str:
    """The text Python reads from ``data`` (PEP 263, a BOM): ValueError where Python could not."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise ValueError(str(exc)) from None
    return data.decode(encoding)


def _identifiers(text: str) -> str:
    """``text`` as Python reads identifiers: NFKC-normalised, once (ASCII is its own normal
    form). String values are not normalised: the raw text is searched as well."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def mentions(text: str) -> bool:
    """Whether ``text``, read as Python reads identifiers (NFKC), holds a needle."""
    if any(needle in text for needle in NEEDLES):
        return True
    if text.isascii():
        return False
    names = _identifiers(text)
    return any(needle in names for needle in NEEDLES)
