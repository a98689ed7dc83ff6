"""Vietnamese text handling shared by indexing and querying.

One pipeline, used on both sides so that "lam lai cccd o dau" and "Làm lại CCCD ở đâu?"
end up as the same tokens:

    nfc → canonical tone placement (hoà → hòa) → lowercase → fold diacritics (đ → d)
        → expand abbreviations / teencode (cccd → can cuoc cong dan) → syllables

Folding loses some distinctions (ma/má/mã), which the lexical index recovers through
syllable bigrams; measured on Vietnamese legal retrieval, folding both sides costs
nothing on accented queries and saves unaccented ones.
"""

from knowledge.text.normalize import (
    NORMALIZATION_VERSION,
    canonical_tones,
    expand_abbreviations,
    fold,
    lexical_tokens,
    nfc,
    normalize_for_display,
    normalize_for_match,
    syllables,
)

__all__ = [
    "NORMALIZATION_VERSION",
    "canonical_tones",
    "expand_abbreviations",
    "fold",
    "lexical_tokens",
    "nfc",
    "normalize_for_display",
    "normalize_for_match",
    "syllables",
]
