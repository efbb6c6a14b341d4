"""Calls to language models and embedders: Gemini (langchain-google-genai), local hf: models, MiniLM.

Every call goes through `guarded`: a disk cache keyed by model, parameters and prompt; a per-model rate
limiter (requests and tokens per minute); bounded concurrency; retries that honour the server's retry
delay; and a usage ledger priced from `models.yaml`.
"""
