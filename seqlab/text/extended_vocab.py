"""A source sentence's extended target vocabulary, for copy attention (See et al. 2017).

A pointer-generator model can output any token of its source, also one its target vocabulary lacks.
Each source sentence extends the target vocabulary (``V`` ids) with its own out-of-vocabulary
tokens, in order of first appearance: the first gets id ``V``, the next new one ``V + 1``, and so
on. The numbering is per sentence, so a sentence's ids never depend on the other sentences of its
batch; a batch is as wide as its sentence with the most such tokens.

:func:`extend_source` gives each source token its copy id (its target-vocabulary id, or its
extended id); :meth:`SourceCopy.target_ids` gives a reference target the ids the copy model is
trained to produce (a target token outside the vocabulary that occurs in the source points at the
source's extended id; one that does not stays ``<unk>``); :meth:`SourceCopy.decode` maps output
ids back to tokens, extended ids to the source's own words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seqlab.text.vocab import Vocabulary

_NOT_COPIED = (Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id)


@dataclass(frozen=True)
class SourceCopy:
    """One source sentence against a target vocabulary of ``vocab_size`` ids.

    ``ids``: one copy id per source token (a target-vocabulary id, or ``vocab_size + k`` for the
    k-th distinct out-of-vocabulary token); ``oovs``: those tokens, ``oovs[k]`` has id
    ``vocab_size + k``.
    """

    ids: list[int]
    oovs: list[str]
    vocab_size: int

    def target_ids(self, tokens: Iterable[str], vocab: Vocabulary) -> list[int]:
        """Target tokens -> ids over the extended vocabulary (``<unk>`` for a token in neither)."""
        extended = {token: self.vocab_size + k for k, token in enumerate(self.oovs)}
        return [vocab.stoi[t] if t in vocab.stoi else extended.get(t, vocab.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int], vocab: Vocabulary) -> list[str]:
        """Output ids -> tokens: extended ids are the source's words; ``<pad>``/``<bos>``/``<eos>``
        are dropped as in :meth:`Vocabulary.decode`. An extended id this sentence does not have
        (only a model bug could produce one) raises IndexError."""
        out = []
        for index in ids:
            index = int(index)
            if index >= self.vocab_size:
                if index - self.vocab_size >= len(self.oovs):
                    raise IndexError(f"extended id {index}: this source has {len(self.oovs)} copied token(s)")
                out.append(self.oovs[index - self.vocab_size])
            else:
                out.extend(vocab.decode([index]))
        return out


def extend_source(tokens: Sequence[str], vocab: Vocabulary) -> SourceCopy:
    """The copy ids of source ``tokens`` against the target ``vocab`` (see the module doc).

    A source token spelled like ``<pad>``, ``<bos>`` or ``<eos>`` copies as ``<unk>``: copying must
    never produce a special the search bans or ends on."""
    oovs: list[str] = []
    position: dict[str, int] = {}
    ids = []
    size = len(vocab)
    for token in tokens:
        index = vocab.stoi.get(token)
        if index is None:
            if token not in position:
                position[token] = len(oovs)
                oovs.append(token)
            index = size + position[token]
        elif index in _NOT_COPIED:
            index = vocab.unk_id
        ids.append(index)
    return SourceCopy(ids, oovs, size)
