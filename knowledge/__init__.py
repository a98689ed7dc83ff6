"""Knowledge service for the Vietnamese online-public-services assistant.

Packages:
    text       Vietnamese normalisation shared by indexing and querying.
    catalogue  typed records (procedures, guides, directives), loader and importers.
    corpus     ingest of directive / legal-text folders, chunking by Điều/Khoản.
    index      lexical (BM25), dense (sentence-transformers + FAISS) and hybrid retrieval.
    api        the FastAPI application (search API, catalogue API, web portal).
"""

__version__ = "0.1.0"
