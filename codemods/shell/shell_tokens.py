"""A bash command line read into words, operators, redirects and comments.

A small linear scanner, enough to find the simple commands of an Azure ML job's
command and the words each one runs (the only regular expressions that run
over user text are character classes, linear in what they match, so no input
makes it slow): quoting and escapes are followed, ``$(...)``, ```...```,
``${...}``, azure-ai-ml's ``${{inputs.x}}`` placeholders and its optional
groups ``$[[ ... ]]`` are word text (an optional group is one word).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Optional

WORD, OPERATOR, REDIRECT, COMMENT = "word", "operator", "redirect", "comment"

_CONTROL = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")
_REDIRECTS = ("&>>", "&>", "<<<", ">>", ">&", ">|", "<<", "<&", "<>", ">", "<")
_BREAK_CHARS = " \t\r\n;&|()<>"
_OPERATOR_CHARS = frozenset(operator[0] for operator in _CONTROL + _REDIRECTS)
#: A run of word characters that mean themselves, outside and inside double
#: quotes: taken at once (a character class, linear in the run's length).
_PLAIN = re.compile(r"[^ \t\r\n;&|()<>'\"\\$`]+")
_PLAIN_QUOTED = re.compile(r'[^"\\]+')


@dataclass(frozen=True)
class Token:
    """One piece of a command: ``kind`` is WORD, OPERATOR, REDIRECT or COMMENT.

    ``start``/``end`` are offsets in the command string; ``value`` is a word's
    text with its quoting removed (what the program would see, placeholders
    left as written).
    """

    kind: str
    start: int
    end: int
    value: str


def tokenize(command: str) -> list[Token]:
    """The command's tokens; an unterminated quote runs to the end (bash would refuse it)."""
    if type(command) is str:
        return list(_tokens(command))
    return list(_tokens.__wrapped__(command))  # a string-like value of a loaded job: not a cache key


@functools.lru_cache(maxsize=64)  # placing the flags, taking over and checking read one command several times
def _tokens(command: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    i, n = 0, len(command)
    while i < n:
        char = command[i]
        if char in " \t\r":
            i += 1
        elif char == "\\" and command.startswith("\n", i + 1):
            i += 2  # line continuation
        elif char == "\\" and command.startswith("\r\n", i + 1):
            i += 3
        elif char == "#":
            end = command.find("\n", i)
            end = n if end < 0 else end
            tokens.append(Token(COMMENT, i, end, command[i:end]))
            i = end
        elif char in _OPERATOR_CHARS and (redirect := _redirect_at(command, i)) is not None:
            tokens.append(Token(REDIRECT, i, i + len(redirect), redirect))
            i += len(redirect)
        elif char in _OPERATOR_CHARS and (control := _control_at(command, i)) is not None:
            tokens.append(Token(OPERATOR, i, i + len(control), control))
            i += len(control)
        else:
            end, value = _scan_word(command, i)
            if end < n and command[end] in "<>" and value.isdigit() and end - i == len(value):
                redirect = _redirect_at(command, end) or command[end]
                tokens.append(Token(REDIRECT, i, end + len(redirect), value + redirect))  # 2>&1, 1>log
                i = end + len(redirect)
                continue
            tokens.append(Token(WORD, i, end, value))
            i = end
    return tuple(tokens)


def _control_at(command: str, i: int) -> Optional[str]:
    for operator in _CONTROL:
        if command.startswith(operator, i):
            return operator
    return None


def _redirect_at(command: str, i: int) -> Optional[str]:
    for operator in _REDIRECTS:
        if command.startswith(operator, i):
            return operator
    return None


def _closing(command: str, i: int, opener: str, closer: str) -> int:
    """The offset after the ``closer`` matching an ``opener`` at ``i`` (nesting counted)."""
    depth, j, n = 0, i, len(command)
    while j < n:
        if command.startswith(opener, j):
            depth += 1
            j += len(opener)
        elif command.startswith(closer, j):
            depth -= 1
            j += len(closer)
            if depth == 0:
                return j
        elif command[j] == "\\":
            j += 2
        else:
            j += 1
    return n


def _scan_word(command: str, i: int) -> tuple[int, str]:
    """The end of the word starting at ``i`` and its unquoted value."""
    value: list[str] = []
    n = len(command)
    while i < n and command[i] not in _BREAK_CHARS:
        plain = _PLAIN.match(command, i)
        if plain is not None:
            value.append(plain.group())
            i = plain.end()
            continue
        char = command[i]
        if char == "'":
            end = command.find("'", i + 1)
            end = n if end < 0 else end
            value.append(command[i + 1 : end])
            i = end + 1
        elif char == '"':
            j = i + 1
            while j < n and command[j] != '"':
                quoted = _PLAIN_QUOTED.match(command, j)
                if quoted is not None:
                    value.append(quoted.group())
                    j = quoted.end()
                elif command[j] == "\\" and j + 1 < n:
                    value.append(command[j + 1] if command[j + 1] in '"\\$`' else command[j : j + 2])
                    j += 2
                else:
                    value.append(command[j])
                    j += 1
            i = j + 1
        elif char == "\\":
            value.append(command[i + 1 : i + 2])
            i += 2
        elif command.startswith("$[[", i):  # optional group: one piece of word text
            end = _closing(command, i + 1, "[[", "]]")
            value.append(command[i:end])
            i = end
        elif command.startswith("${{", i):
            end = _closing(command, i + 1, "{{", "}}")
            value.append(command[i:end])
            i = end
        elif command.startswith("$(", i):
            end = _closing(command, i + 1, "(", ")")
            value.append(command[i:end])
            i = end
        elif command.startswith("${", i):
            end = _closing(command, i + 1, "{", "}")
            value.append(command[i:end])
            i = end
        elif char == "`":
            end = command.find("`", i + 1)
            end = n if end < 0 else end + 1
            value.append(command[i:end])
            i = end
        else:
            value.append(char)
            i += 1
    return min(i, n), "".join(value)
