"""The platforms' official API documents the client tests validate request bodies against.

Each folder holds the files copied unchanged from the project's shared reference folder on
2026-12-02, with its SOURCE.md saying where each came from (repository, commit, date). They live in
the repository so that a clone with nothing beside it passes its tests.
"""

from pathlib import Path

SPECS = Path(__file__).resolve().parent
