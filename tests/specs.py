"""Where the official API specs are: ../shared/specs beside the repository (as in CI)."""

from pathlib import Path

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
