"""TCC Log: a compact personal knowledge log with search and an AI assistant."""
