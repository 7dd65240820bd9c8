"""Readers and batching: plain text, JSONL, `datasets` sources, LM streams."""
