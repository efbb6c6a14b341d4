"""Examples of systems brought to the harness (docs/systems.md); the tests import and run them."""
