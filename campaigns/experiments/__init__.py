"""A/B tests of assignments: the deterministic split, the sequential test, the decision.

Pure functions over counts and ids (no models, no I/O), so the statistics are tested on their
own: `split` puts each reader in one group for good, `sequential` compares rates in a way that
stays valid however often metrics are refreshed, `decision` turns both into what to do next.
"""
