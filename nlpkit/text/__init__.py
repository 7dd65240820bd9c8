"""Tokenizers and vocabularies; they are saved inside model files."""
