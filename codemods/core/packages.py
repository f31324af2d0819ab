"""A package requirement's name, as pip and conda read it; the one package add installs.

Apart from :mod:`..yamltext.conda_env` (which loads ruamel.yaml): the Python
kinds and the requirements kind ask it too, and a run over Python files or a
requirements file loads no YAML library.
"""

from __future__ import annotations

import re
from typing import Any, Optional

DEBUGPY = "debugpy"

_NAME_RE = re.compile(r"[ \t]*(?:[\w.-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)")
_EGG_RE = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(spec: Any) -> Optional[str]:
    """The normalized package name of a pip or conda requirement, or None.

    ``debugpy==1.8``, ``DebugPy>=1``, ``conda-forge::debugpy``, ``git+...#egg=debugpy``
    all give ``debugpy``; options such as ``--index-url`` give None.
    """
    if not isinstance(spec, str):
        return None
    match = _EGG_RE.search(spec) or _NAME_RE.match(spec)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None
