"""Reviewed vocabulary data used when indexing (see ``colloquial.yaml``)."""

from knowledge.lexicon.colloquial import DEFAULT_LEXICON, Lexicon, LexiconEntry, load_lexicon, parse_lexicon

__all__ = ["DEFAULT_LEXICON", "Lexicon", "LexiconEntry", "load_lexicon", "parse_lexicon"]
