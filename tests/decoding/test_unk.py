import pytest
import torch

from seqlab.decoding import replace_unk
from seqlab.errors import ConfigError


def test_each_unk_copies_the_most_attended_source_token():
    source = ["Der", "Hund", "Zürich", "bellt"]
    target = ["the", "<unk>", "in", "<unk>"]
    attention = torch.tensor(
        [
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.6, 0.2, 0.1],
            [0.2, 0.2, 0.3, 0.3],
            [0.0, 0.1, 0.8, 0.1],
            [0.0, 0.0, 0.0, 1.0],  # the <eos> row of a Hypothesis: ignored
        ]
    )
    assert replace_unk(target, source, attention) == ["the", "Hund", "in", "Zürich"]
    assert replace_unk(target, source, attention.tolist()) == ["the", "Hund", "in", "Zürich"]


def test_columns_without_a_source_token_are_never_copied():
    attention = torch.tensor([[0.2, 0.3, 0.5]])  # the last column: padding or an appended </s>
    assert replace_unk(["<unk>"], ["a", "b"], attention) == ["b"]


def test_no_unk_or_no_attention_leaves_the_tokens():
    assert replace_unk(["a", "b"], ["x"], torch.ones(2, 1)) == ["a", "b"]
    assert replace_unk(["<unk>"], ["x"], None) == ["<unk>"]
    assert replace_unk(["UNK", "<unk>"], ["x", "y"], torch.tensor([[0.0, 1.0], [1.0, 0.0]]), "UNK") == [
        "y",
        "<unk>",
    ]


def test_attention_too_small_is_an_error():
    with pytest.raises(ConfigError, match=r"attention: shape \(1, 2\) does not cover 2 target x 2 source"):
        replace_unk(["a", "<unk>"], ["x", "y"], torch.ones(1, 2))
