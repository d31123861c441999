"""Constants shared by the localhub tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

#: An extra repo with awkward file names (space, #, +, non-ASCII).
WEIRD_REPO = "tests/weird"
WEIRD_FILES = {
    "dir with space/tr#ain é+1.csv": b"a,b\n1,2\n",
    "data/100%+ok.csv": b"a,b\n3,4\n",
    "README.md": b"# weird\n",
}


#: A repo with one 2.5 MB file (bigger than the server's read chunk).
BIG_REPO = "tests/big"
BIG_SIZE = 2_500_000
