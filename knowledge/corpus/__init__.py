"""Document ingest: files of directives and legal texts → metadata, structural chunks, index chunks.

    readers     .txt .md .html/.htm .docx (.pdf with pypdf) → NFC text
    metadata    number, type, date, issuer, subject, cited numbers (``DocumentMeta``)
    chunking    Chương / Mục / Điều / khoản aware chunks with citation labels (``TextChunk``)
    ingest      ``ingest_folder``, ``link_citations``, ``to_chunks`` (``Chunk`` of kind "directive")
    cli         ``add_ingest_command``: ``python -m knowledge ingest DIR [--json]``

Nothing is imported here, so that ``knowledge.corpus.cli`` stays cheap to import for the
main command line (``ingest`` pulls in ``knowledge.index``).
"""
