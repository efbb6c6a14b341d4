"""Old home of the python: family, kept as re-exports until callers move: calling the target is in
python.py, resolving it in python_target.py."""

from harness.systems.python_target import code_digest, resolve

__all__ = ["code_digest", "resolve"]
