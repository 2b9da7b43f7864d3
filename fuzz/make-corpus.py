#!/usr/bin/env python3
"""Regenerates the text seed corpora of fuzz-spec and fuzz-pipeline.

Every committed examples/*.mlir and test/**/*.mlir, split at `// -----` as
--split-input-file does, with full-line comments (RUN, CHECK, prose)
dropped; each piece becomes one seed named by the SHA-1 of its bytes, as
libFuzzer names its own. Seeds no longer produced are removed, so the
directories always mirror the sources.

The binary corpora (fuzz-spec-builder, fuzz-layout) are not generated: they
are the minimized output of fuzzing runs (fuzz/README.md).

Usage: fuzz/make-corpus.py   (from anywhere)
"""

import hashlib
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = ["fuzz-spec", "fuzz-pipeline"]


def pieces(path):
    text = path.read_text()
    for chunk in re.split(r"^// -----.*$", text, flags=re.M):
        lines = [l for l in chunk.splitlines()
                 if not l.lstrip().startswith("//")]
        body = "\n".join(lines).strip()
        if body:
            yield body + "\n"


def main():
    # Committed files only, so that the corpus does not depend on whatever
    # else sits in the working tree.
    tracked = subprocess.run(
        ["git", "ls-files", "examples/*.mlir", "test/*.mlir"], cwd=ROOT,
        check=True, capture_output=True, text=True).stdout.split()
    sources = [ROOT / p for p in sorted(tracked)]
    seeds = {}
    for src in sources:
        for piece in pieces(src):
            data = piece.encode()
            seeds[hashlib.sha1(data).hexdigest()] = data
    for target in TARGETS:
        out = ROOT / "fuzz" / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            if old.name not in seeds:
                old.unlink()
        for name, data in seeds.items():
            (out / name).write_bytes(data)
        print(f"{target}: {len(seeds)} seeds from {len(sources)} files")


if __name__ == "__main__":
    main()
