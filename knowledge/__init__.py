"""Vector memory (chromadb) and the offline embedder."""
