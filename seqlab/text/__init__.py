"""Text: tokenizers (char, word, sentencepiece, jieba) and the Vocabulary."""

from seqlab.text.tokenizers import (
    CharTokenizer,
    JiebaTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    WordTokenizer,
    build_tokenizer,
    load_tokenizer,
)
from seqlab.text.vocab import SPECIALS, Vocabulary

__all__ = [
    "SPECIALS",
    "CharTokenizer",
    "JiebaTokenizer",
    "SentencePieceTokenizer",
    "Tokenizer",
    "Vocabulary",
    "WordTokenizer",
    "build_tokenizer",
    "load_tokenizer",
]
