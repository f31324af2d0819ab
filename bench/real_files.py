"""Real public files of every kind for bench/run.py's real-file rows.

The files are never committed: ``real_files.json`` names the repositories,
the commit of each and the paths (with each file's git blob id), and this
module takes the bytes at bench time from, in order:

1. the git directories given with ``--real-from DIR`` (bench/run.py) or the
   ``INSTRUMENT_BENCH_REPOS`` environment variable (``os.pathsep``-separated):
   each DIR is a git directory, or holds one per repository as
   ``owner+name``, ``owner+name/repo``, ``owner+name.git``, ``owner/name``
   or ``name`` (bare or with a work tree);
2. ``~/.cache/instrument-bench/repos/owner+name.git``, a
   ``git clone --bare --filter=blob:none`` of the repository made here when
   the network allows (``INSTRUMENT_BENCH_CACHE`` moves the cache).

Extracted files are kept in the cache (``files/<blob id>``) and checked
against their blob ids, so a second run needs neither git nor the network.
Where a repository can be found nowhere, its files are left out with one
line on stderr; where a kind has no files left, its real rows are skipped.

    python bench/real_files.py                  # fetch and extract, print what each kind has
    python bench/real_files.py --select DIR ... # re-pick the files from mirrors (rewrites the list)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Optional

LIST = Path(__file__).resolve().parent / "real_files.json"
ENVIRONMENT = "INSTRUMENT_BENCH_REPOS"


def cache_root() -> Path:
    return Path(os.environ.get("INSTRUMENT_BENCH_CACHE") or Path.home() / ".cache" / "instrument-bench")


def load_list(path: Path = LIST) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def blob_id(data: bytes) -> str:
    """git's object id of a blob with these bytes (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _git(git_dir: Path, *args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True, timeout=timeout, **kwargs)


def _has_commit(git_dir: Path, commit: str) -> bool:
    if not git_dir.is_dir():
        return False
    try:
        return _git(git_dir, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _candidates(root: Path, repo: str) -> Iterable[Path]:
    owner, name = repo.split("/")
    for base in (root, root / f"{owner}+{name}", root / f"{owner}+{name}" / "repo", root / f"{owner}+{name}.git",
                 root / owner / name, root / name, root / f"{name}.git"):
        yield base
        yield base / ".git"


def _roots(given: Iterable[str]) -> list[Path]:
    roots = [Path(entry).expanduser() for entry in given if entry]
    roots += [Path(entry).expanduser() for entry in os.environ.get(ENVIRONMENT, "").split(os.pathsep) if entry]
    return roots


def _clone(repo: str, commit: str, log) -> Optional[Path]:
    """A blob-less bare clone of ``repo`` in the cache, holding ``commit``; None where git or the network fails."""
    target = cache_root() / "repos" / f"{repo.replace('/', '+')}.git"
    if _has_commit(target, commit):
        return target
    url = f"https://github.com/{repo}.git"
    try:
        if not target.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            log(f"  real files: cloning {url} (blobs on demand) into {target}")
            done = subprocess.run(["git", "clone", "--quiet", "--bare", "--filter=blob:none", url, str(target)],
                                  capture_output=True, timeout=600,
                                  env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
            if done.returncode:
                log(f"  real files: cannot clone {url}: {done.stderr.decode(errors='replace').strip()[-300:]}")
                return None
        if not _has_commit(target, commit):
            _git(target, "fetch", "--quiet", "--filter=blob:none", "origin", commit, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"  real files: cannot clone {url}: {exc}")
        return None
    return target if _has_commit(target, commit) else None


def locate(repo: str, commit: str, given: Iterable[str] = (), clone: bool = True, log=None) -> Optional[Path]:
    """The git directory that holds ``commit`` of ``repo``: given, cached or cloned; None: nowhere."""
    log = log or (lambda message: print(message, file=sys.stderr))
    for root in _roots(given):
        for candidate in _candidates(root, repo):
            if _has_commit(candidate, commit):
                return candidate
    return _clone(repo, commit, log) if clone else None


def _read_blobs(git_dir: Path, wanted: list[str]) -> dict[str, bytes]:
    """The bytes of each blob id, in one ``git cat-file --batch`` (a blob-less clone fetches them)."""
    done = _git(git_dir, "cat-file", "--batch", input="".join(f"{oid}\n" for oid in wanted).encode(), timeout=1800)
    out, found, at = done.stdout, {}, 0
    for oid in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        found[oid] = out[at:at + size]
        at += size + 1
    return found


def extract(given: Iterable[str] = (), clone: bool = True, log=None) -> dict[str, list[tuple[str, bytes]]]:
    """``{kind: [(path in its repository, bytes), ...]}`` of every listed file that could be had."""
    log = log or (lambda message: print(message, file=sys.stderr))
    listing = load_list()
    store = cache_root() / "files"
    have: dict[str, bytes] = {}
    missing: dict[str, list[str]] = {}
    for entries in listing["kinds"].values():
        for repo, _path, oid in entries:
            cached = store / oid
            data = cached.read_bytes() if cached.is_file() else None
            if data is not None and blob_id(data) == oid:
                have[oid] = data
            else:
                missing.setdefault(repo, []).append(oid)
    given = list(given)
    for repo, oids in missing.items():
        commit = listing["repositories"][repo]
        git_dir = locate(repo, commit, given, clone, log)
        if git_dir is None:
            log(f"  real files: {repo} at {commit[:12]} is in no git directory given (--real-from, {ENVIRONMENT}) "
                f"and could not be cloned; its {len(oids)} files are left out")
            continue
        blobs = _read_blobs(git_dir, sorted(set(oids)))
        store.mkdir(parents=True, exist_ok=True)
        for oid, data in blobs.items():
            if blob_id(data) != oid:
                continue
            have[oid] = data
            partial = store / f"{oid}.part"
            partial.write_bytes(data)
            partial.replace(store / oid)
    return {kind: [(f"{repo}/{path}", have[oid]) for repo, path, oid in entries if oid in have]
            for kind, entries in listing["kinds"].items()}


# Re-picking the files (not needed to run the bench) -------------------------------------------

_WANTED = (".py", ".yml", ".yaml")


def _wanted(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (name.endswith(_WANTED) or (name.startswith("requirements") and name.endswith(".txt"))
            or name.startswith("Dockerfile") or name.endswith(".Dockerfile"))


def select(given: list[str], repos: list[str], per_kind: int) -> dict:
    """Detect the kind of every candidate file of ``repos`` at their HEAD in the given git
    directories (the way ``add`` does) and keep up to ``per_kind`` per kind: files ``add``
    changes first, spread over the repositories, in path order; files of no kind, and
    files ``add`` fails on, are left out."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from instrument.process import ADD, Job, process_bytes

    job = Job(ADD, write=False)
    commits: dict[str, str] = {}
    found: dict[str, dict[str, list[tuple[bool, str, str]]]] = {}
    for repo in repos:
        git_dir = next((c for root in _roots(given) for c in _candidates(root, repo)
                        if c.is_dir() and _git(c, "rev-parse", "HEAD").returncode == 0), None)
        if git_dir is None:
            sys.exit(f"real_files: {repo} is in no git directory given")
        commit = _git(git_dir, "rev-parse", "HEAD", text=True).stdout.strip()
        commits[repo] = commit
        rows = _git(git_dir, "ls-tree", "-r", "-l", commit, text=True).stdout.splitlines()
        listed = []
        for row in rows:
            meta, path = row.split("\t", 1)
            _, kind_, oid, size = meta.split()
            if kind_ == "blob" and size.isdigit() and int(size) <= 150_000 and _wanted(path):
                listed.append((path, oid))
        blobs = _read_blobs(git_dir, [oid for _, oid in listed])
        for path, oid in listed:
            outcome = process_bytes(job, blobs[oid], path.rsplit("/", 1)[-1])
            if outcome.kind and not outcome.error:
                found.setdefault(outcome.kind, {}).setdefault(repo, []).append((not outcome.changed, path, oid))
    kinds: dict[str, list[list[str]]] = {}
    for kind in sorted(found):
        queues = {repo: sorted(files) for repo, files in found[kind].items()}
        picked: list[list[str]] = []
        for unchanged in (False, True):  # files add changes first, round-robin over the repositories
            lists = {repo: [f for f in files if f[0] == unchanged] for repo, files in queues.items()}
            while len(picked) < per_kind and any(lists.values()):
                for repo in sorted(lists):
                    if lists[repo] and len(picked) < per_kind:
                        _, path, oid = lists[repo].pop(0)
                        picked.append([repo, path, oid])
        kinds[kind] = sorted(picked)
    used = sorted({repo for entries in kinds.values() for repo, _, _ in entries})
    return {"repositories": {repo: commits[repo] for repo in used}, "kinds": kinds}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-from", action="append", default=[], metavar="DIR",
                        help=f"a git directory, or a folder of them (also {ENVIRONMENT})")
    parser.add_argument("--no-clone", action="store_true", help="never clone: take the files from --real-from only")
    parser.add_argument("--select", nargs="*", metavar="OWNER/NAME",
                        help="re-pick the files from these repositories' HEAD in --real-from and rewrite the list")
    parser.add_argument("--per-kind", type=int, default=40)
    args = parser.parse_args(argv)
    if args.select is not None:
        listing = select(args.real_from, args.select or sorted(load_list()["repositories"]), args.per_kind)
        LIST.write_text(json.dumps(listing, indent=1) + "\n", encoding="utf-8")
    got = extract(args.real_from, clone=not args.no_clone)
    for kind, files in got.items():
        print(f"{kind}: {len(files)} files, {len({'/'.join(path.split('/')[:2]) for path, _ in files})} repositories")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
