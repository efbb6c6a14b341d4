"""Evaluate RAG, fine-tuned and hybrid systems side by side on your own documents and questions."""

from harness.privacy import apply_privacy_defaults

apply_privacy_defaults()

__version__ = "0.1.0"
