"""Word vectors: reading vectors files (read), starting embeddings from them (pretrained), and
training them on the user's own text with gensim (train, `nlpkit vectors train`)."""
