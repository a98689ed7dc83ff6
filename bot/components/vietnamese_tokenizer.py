"""A Rasa tokenizer that makes accented and unaccented Vietnamese share features.

Each word of the message becomes a token whose *offsets* point into the original text
(Rasa requires that) but whose *text* is the normalised form used by the knowledge
service: NFC, canonical tone placement, lowercase, diacritics folded, abbreviations and
teencode expanded ("CCCD" → can cuoc cong dan). An expansion into several words splits
the original span into as many contiguous parts, so the tokens never overlap.

Imported by the Rasa server (Python 3.10): it may use only the standard library, Rasa,
and ``knowledge.text`` (which is standard-library only by design).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from knowledge.text import expand_abbreviations, fold

# Words, with combining marks (NFD input) and codes such as 1.001193 or 1588/QĐ-TTg kept whole.
WORD = re.compile(r"[\w\u0300-\u036f]+(?:[./-][\w\u0300-\u036f]+)*")


def split_span(start: int, end: int, parts: int) -> List[tuple[int, int]]:
    """Split [start, end) into ``parts`` contiguous non-empty pieces when it is long enough."""
    length = end - start
    if parts <= 1:
        return [(start, end)]
    if length < parts:  # too short to split: the pieces share the span
        return [(start, end)] * parts
    bounds = [start + (length * i) // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


def vietnamese_tokens(text: str) -> List[Token]:
    tokens: List[Token] = []
    for match in WORD.finditer(text):
        folded = fold(match.group(0))
        words = expand_abbreviations([folded])
        for word, (s, e) in zip(words, split_span(match.start(), match.end(), len(words)), strict=True):
            tokens.append(Token(word, s, e, lemma=word))
    if not tokens:  # emoji-only or punctuation-only messages: keep one token
        tokens = [Token(text or " ", 0, len(text) or 1, lemma=text or " ")]
    return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Tokenizer for Vietnamese as citizens type it (see module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intent_tokenization_flag": False, "intent_split_symbol": "_", "token_pattern": None,
                "prefix_separator_symbol": None}

    @staticmethod
    def supported_languages() -> Optional[List[str]]:
        return ["vi"]

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> VietnameseTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        return self._apply_token_pattern(vietnamese_tokens(message.get(attribute) or ""))
