"""Regenerate libs/vtproto from proto/ (or, with --check, fail when it is stale)."""

from __future__ import annotations

import filecmp
import pathlib
import shutil
import sys
import tempfile

from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT = ROOT / "libs" / "vtproto"


def generate(into: pathlib.Path) -> None:
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    include = str(pathlib.Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{PROTO}", f"-I{include}", f"--python_out={into}",
            f"--pyi_out={into}", f"--grpc_python_out={into}", *files]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Regular packages (not namespace packages) so mypy and pytest resolve them.
    for folder in [p for p in into.rglob("*") if p.is_dir()]:
        (folder / "__init__.py").touch()
    (into / "vt" / "__init__.py").touch()


def tree(path: pathlib.Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = pathlib.Path(tmp)
        generate(fresh)
        if "--check" in sys.argv:
            current = tree(OUT) if OUT.exists() else set()
            stale = tree(fresh) ^ current
            stale |= {f for f in tree(fresh) & current if not filecmp.cmp(fresh / f, OUT / f, shallow=False)}
            if stale:
                sys.exit(f"libs/vtproto is stale, run `make proto`: {sorted(stale)[:5]}")
            return
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(fresh, OUT)


if __name__ == "__main__":
    main()
