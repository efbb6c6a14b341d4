"""Old home of the http: family, kept as re-exports until callers move to harness/systems/http.py."""

from harness.systems.http import check_spec, url_of

__all__ = ["check_spec", "url_of"]
