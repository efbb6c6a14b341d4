"""Model families: one module each, offering what the family can do (embed, generate, train)."""
