"""Copy attention: the pointer-generator of See, Liu and Manning 2017 ("Get To The Point"), and
their coverage loss.

At decoder step t, with the attention weights ``a_t`` over the source tokens, the attention context
``c_t``, the decoder's features ``h~_t`` (what the output layer reads: the attentional state) and
the embedded decoder input ``x_t``::

    p_gen = sigmoid(w . [c_t; h~_t; x_t] + b)
    P(w)  = p_gen P_vocab(w) + (1 - p_gen) sum_{i: source token i is w} a_t,i

over the target vocabulary extended by the sentence's own unknown source words (ids ``V, V+1, ...``;
:mod:`seqlab.text.extended_vocab`). Both terms are mixed in log space (``log p_gen =
logsigmoid(z)``, ``log(1 - p_gen) = logsigmoid(-z)``), so a generation probability forced to 1
(``z = +inf``) gives exactly the plain decoder's log-probabilities.

Coverage (See et al., section 2.3): with ``cov_t = sum_{t' < t} a_t'`` the attention a source
token has had before step t, the loss adds ``coverage_loss x sum_t sum_i min(a_t,i, cov_t,i)``,
which punishes attending again to what was attended before (repetition). ``model.coverage`` feeds
the coverage vector to the attention scores (:mod:`seqlab.models.attention`); the two are separate
options.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

TINY = 1e-30
"""The smallest copy mass whose log the training loss takes (an attention weight that underflowed
to 0 keeps a finite loss)."""


class CopyGenerator(nn.Module):
    """The generation probability's gate ``w . [c; h~; x] + b`` and the mixture it weighs.

    Args:
        context_size: He, the attention context's width.
        feature_size: F, the decoder features' width.
        embedding_size: E, the target embedding's width.
    """

    def __init__(self, context_size: int, feature_size: int, embedding_size: int) -> None:
        super().__init__()
        self.gate = nn.Linear(context_size + feature_size + embedding_size, 1)

    def forward(self, context: Tensor, features: Tensor, embedded: Tensor) -> Tensor:
        """context [..., He], features [..., F], embedded [..., E] -> the gate's logit z [...]
        (``p_gen = sigmoid(z)``)."""
        inputs = torch.cat([context.to(features.dtype), features, embedded.to(features.dtype)], dim=-1)
        return self.gate(inputs).squeeze(-1).float()


def mixture_log_probs(
    vocab_logits: Tensor, gate: Tensor, attention: Tensor, copy_ids: Tensor, width: int
) -> Tensor:
    """Log-probabilities over the extended vocabulary, exact: an id no term reaches is ``-inf``.

    vocab_logits [..., V] (the output layer's); gate [...] (the logit of p_gen); attention [..., S];
    copy_ids LongTensor[B, S] (broadcast over the steps of ``attention`` [B, T, S]); ``width`` >= V
    -> FloatTensor[..., width]. For decoding and statistics (its gradient is not guarded against
    ``-inf - -inf``; the loss uses :func:`target_log_probs`).
    """
    vocab = vocab_logits.shape[-1]
    log_vocab = F.pad(torch.log_softmax(vocab_logits.float(), dim=-1), (0, width - vocab), value=-torch.inf)
    attention = attention.float()
    ids = copy_ids.unsqueeze(-2).expand_as(attention) if attention.dim() == 3 else copy_ids
    mass = attention.new_zeros(*attention.shape[:-1], width).scatter_add(-1, ids, attention)
    log_copy = torch.where(mass > 0, mass.clamp_min(TINY).log(), -torch.inf)
    gate = gate.float().unsqueeze(-1)
    return torch.logaddexp(F.logsigmoid(gate) + log_vocab, F.logsigmoid(-gate) + log_copy)


def target_log_probs(
    vocab_logits: Tensor, gate: Tensor, attention: Tensor, copy_ids: Tensor, target: Tensor
) -> Tensor:
    """The log-probability of each target id, differentiable: the loss's.

    vocab_logits [B, T, V]; gate [B, T]; attention [B, T, S]; copy_ids LongTensor[B, S]; target
    LongTensor[B, T] over the extended vocabulary -> FloatTensor[B, T]. Only the targets' entries
    are computed, so no ``log 0`` of an unused entry reaches the gradient.
    """
    vocab = vocab_logits.shape[-1]
    log_vocab = torch.log_softmax(vocab_logits.float(), dim=-1)
    in_vocab = target < vocab
    generated = log_vocab.gather(-1, target.clamp(max=vocab - 1).unsqueeze(-1)).squeeze(-1)
    generated = generated.masked_fill(~in_vocab, -torch.inf)
    same = copy_ids.unsqueeze(1) == target.unsqueeze(-1)  # [B, T, S]: source token i is target t
    mass = (attention.float() * same).sum(dim=-1)
    copied = mass.clamp_min(TINY).log()
    gate = gate.float()
    return torch.logaddexp(F.logsigmoid(gate) + generated, F.logsigmoid(-gate) + copied)


def coverage_penalty_sum(attention: Tensor, real: Tensor) -> Tensor:
    """See et al.'s coverage loss summed over the real target steps: attention [B, T, S], real
    BoolTensor[B, T] -> a scalar ``sum_t sum_i min(a_t,i, sum_{t'<t} a_t',i)``."""
    attention = attention.float()
    before = attention.cumsum(dim=1) - attention
    return torch.minimum(attention, before).sum(dim=-1).masked_select(real).sum()
