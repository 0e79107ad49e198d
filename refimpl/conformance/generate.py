"""Writing the vectors (``chargechain vectors generate``) and checking they are up to date.

The generator is deterministic: the same code writes the same bytes on any machine. The files
are ``<profile>/<name>.json`` for each vector file, ``schemas/<name>.schema.json`` for each
schema and ``index.json``, which lists the profiles, their operations and files, with each
file's number of tests and SM3 digest.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from refimpl.conformance.cases import FORMAT_VERSION, dump_vector_file
from refimpl.conformance.profiles import all_profiles
from refimpl.conformance.schemas import all_schemas
from refimpl.crypto import sm3

__all__ = ["DEFAULT_DIR", "render_all", "write_all", "stale_files"]

#: ``vectors/`` at the top of the repository.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "vectors"
GENERATOR = "chargechain vectors generate"


def _dump(plain: object) -> bytes:
    """JSON bytes as every generated file is written."""
    return (json.dumps(plain, indent=1, ensure_ascii=True) + "\n").encode("ascii")


def render_all(profiles: list[str] | None = None) -> dict[str, bytes]:
    """Every generated file: relative path -> bytes (only the named profiles if given; the
    index and the schemas are always included)."""
    files: dict[str, bytes] = {}
    index = []
    total = 0
    for profile in all_profiles().values():
        if profiles is not None and profile.name not in profiles:
            continue
        entries = []
        count = 0
        for vector_file in profile.build():
            plain = vector_file.as_plain()
            path = f"{profile.name}/{vector_file.name}.json"
            data = dump_vector_file(plain)
            files[path] = data
            entries.append({"path": path, "tests": plain["numberOfTests"],
                            "sm3": sm3(data).hex()})
            count += plain["numberOfTests"]
        index.append({"name": profile.name, "summary": profile.summary,
                      "operations": sorted(profile.operations), "files": entries,
                      "tests": count})
        total += count
    for name, schema in all_schemas().items():
        files[f"schemas/{name}"] = _dump(schema)
    files["index.json"] = _dump({"formatVersion": FORMAT_VERSION, "generator": GENERATOR,
                                 "profiles": index, "tests": total})
    return dict(sorted(files.items()))


def write_all(out: Path, files: dict[str, bytes]) -> list[str]:
    """Write the files under ``out`` (each atomically, only if changed), remove generated
    JSON files no longer produced; returns the paths that changed."""
    changed = []
    for relative, data in files.items():
        path = out / relative
        if path.exists() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; vectors are for everyone to read
        os.replace(tmp, path)
        changed.append(relative)
    if out.exists():
        for path in sorted(out.rglob("*.json")):
            relative = path.relative_to(out).as_posix()
            if relative not in files:
                path.unlink()
                changed.append(relative)
    return changed


def stale_files(directory: Path, files: dict[str, bytes] | None = None) -> list[str]:
    """Paths under ``directory`` that differ from what the generator writes, are missing, or
    are left over (empty when the vectors are up to date)."""
    files = render_all() if files is None else files
    stale = [relative for relative, data in files.items()
             if not (directory / relative).is_file() or (directory / relative).read_bytes() != data]
    if directory.exists():
        stale += [path.relative_to(directory).as_posix()
                  for path in sorted(directory.rglob("*.json"))
                  if path.relative_to(directory).as_posix() not in files]
    return sorted(stale)
