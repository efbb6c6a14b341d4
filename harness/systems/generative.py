"""Old home of the hf family, kept as re-exports until callers move: the system is in hf.py, `fill` in
template.py (which, unlike this module, does not load torch)."""

from harness.systems.hf import raft_examples
from harness.systems.template import fill

__all__ = ["fill", "raft_examples"]
