"""Suites from a team's own documents: `harness suites new` (documents -> corpus) and `harness suites
generate` (corpus -> train and test questions, checked and split without leakage). docs/generate.md."""
