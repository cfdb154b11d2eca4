"""The assignment workflow (workflow.py), the send ledger (sending.py), and the SendSpec a
target becomes (specs.py)."""
