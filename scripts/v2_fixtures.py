"""Write fixtures/<v2 kind>/<case>/after.yml from before.yml and case.json (review the diff).

Usage: python scripts/v2_fixtures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from instrument.process import ADD, Job, process_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
V2_KINDS = ("job", "component", "pipeline_job", "environment")


def job_for(kind: str, folder: Path) -> Job:
    meta = folder / "case.json"
    options = dict(json.loads(meta.read_text()).get("options", {})) if meta.exists() else {}
    if "steps" in options:
        options["steps"] = tuple(options["steps"])
    return Job(ADD, kind=kind, **options)


def main() -> int:
    for kind in V2_KINDS:
        for before in sorted((FIXTURES / kind).glob("*/before.yml")):
            outcome = process_bytes(job_for(kind, before.parent), before.read_bytes(), "before.yml")
            if outcome.error:
                print(outcome.error, file=sys.stderr)
                return 1
            (before.parent / "after.yml").write_bytes(outcome.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
