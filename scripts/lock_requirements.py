"""Write (or check) requirements.lock: every package plantrack[dev] needs, pinned as installed.

    .venv/bin/python scripts/lock_requirements.py          # rewrite requirements.lock from the venv
    .venv/bin/python scripts/lock_requirements.py --check  # exit 1 if the lock misses or mispins one

The lock is a pip constraints file (`pip install -c requirements.lock ...`), used by the Dockerfile
and .ci/run: it pins versions, it does not choose what to install.
"""

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
HEADER = ("# Pinned versions of everything plantrack[dev] needs (runtime, tests, lint), a pip constraints file.\n"
          "# Regenerate after changing dependencies: .venv/bin/python scripts/lock_requirements.py\n")


def direct_requirements() -> list[Requirement]:
    """pyproject's dependencies and every optional group's, without the self-references."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        lines += group
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Installed name -> version of the requirements and everything they need, on this platform."""
    found: dict[str, str] = {}
    todo = [(r, frozenset(r.extras)) for r in requirements]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        dist = metadata.distribution(req.name)
        first = name not in found
        found[name] = dist.version
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in (extras or {""})):
                if first or sub.marker is not None:
                    todo.append((sub, frozenset(sub.extras)))
    return dict(sorted(found.items()))


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """name -> pinned version of a lock file."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def problems(pins: dict[str, str]) -> list[str]:
    """What the lock gets wrong against pyproject and the installed environment."""
    found = []
    for req in direct_requirements():
        version = pins.get(canonicalize_name(req.name))
        if version is None:
            found.append(f"{req.name}: a dependency in pyproject.toml, not pinned")
        elif not req.specifier.contains(version, prereleases=True):
            found.append(f"{req.name}=={version}: does not satisfy pyproject.toml's {req}")
    for name, version in closure(direct_requirements()).items():
        if name not in pins:
            found.append(f"{name}: needed (installed {version}), not pinned")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    if parser.parse_args().check:
        found = problems(read_lock())
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    pins = closure(direct_requirements())
    LOCK.write_text(HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items()))
    print(f"{LOCK.name}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
