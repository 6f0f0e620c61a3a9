import math
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from seqlab.errors import ConfigError, DataError
from seqlab.models.classifier import TextClassifier

VOCAB = 13
PAD = 0


@dataclass
class Batch:
    """Stand-in for the classification batch of seqlab.data (duck typing)."""

    tokens: Tensor
    lengths: Tensor
    labels: Tensor


def pad(seqs: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Like seqlab.data.batching.buckets.pad_batch (models tests do not import seqlab.data)."""
    lengths = torch.tensor([len(s) for s in seqs])
    tokens = torch.full((len(seqs), int(lengths.max())), PAD)
    for row, seq in enumerate(seqs):
        tokens[row, : len(seq)] = torch.tensor(seq)
    return tokens, lengths


def make(seed: int = 0, **changes) -> TextClassifier:
    torch.manual_seed(seed)
    options = dict(embedding_size=8, hidden_size=6, num_layers=2, pooling="last")
    options.update(changes)
    return TextClassifier(VOCAB, 3, **options).eval()


ALL_POOLING = ["last", "mean", "max", "attention"]


@pytest.mark.parametrize("pooling", ALL_POOLING)
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padding_never_changes_a_prediction(pooling, bidirectional, cell):
    model = make(pooling=pooling, bidirectional=bidirectional, cell=cell)
    text = [5, 3, 9]
    alone = model.predict_proba(*pad([text]))
    neighbours = [[1, 2, 3, 4, 5, 6, 7], text, [8, 9, 10, 11, 12]]
    batch = model.predict_proba(*pad(neighbours))
    torch.testing.assert_close(batch[1], alone[0], atol=1e-6, rtol=0)
    # Changing what sits in the padding changes nothing either.
    tokens, lengths = pad(neighbours)
    tokens[1, 3:] = 7
    torch.testing.assert_close(model.predict_proba(tokens, lengths)[1], alone[0], atol=1e-6, rtol=0)


def test_forward_shapes_and_attention_weights():
    model = make(pooling="attention")
    tokens, lengths = pad([[1, 2, 3, 4], [5, 6]])
    logits, weights = model.forward_with_attention(tokens, lengths)
    assert logits.shape == (2, 3) and weights.shape == (2, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))
    assert weights[1, 2:].tolist() == [0.0, 0.0]
    assert make(pooling="mean").forward_with_attention(tokens, lengths)[1] is None


@pytest.mark.parametrize("pool", ["last", "mean", "max"])
def test_encode_sentence_vectors(pool):
    model = make(bidirectional=True)
    tokens, lengths = pad([[1, 2, 3, 4], [5, 6]])
    vectors = model.encode(tokens, lengths, pool=pool)
    assert vectors.shape == (2, 12)
    alone = model.encode(*pad([[5, 6]]), pool=pool)
    torch.testing.assert_close(vectors[1], alone[0], atol=1e-6, rtol=0)


def test_encode_attention_needs_attention_model():
    model = make(pooling="mean")
    with pytest.raises(ConfigError, match="attention"):
        model.encode(*pad([[1, 2]]), pool="attention")
    assert make(pooling="attention").encode(*pad([[1, 2]])).shape == (1, 12)


def test_loss_stats_and_summarize():
    model = make()
    tokens, lengths = pad([[1, 2, 3], [4, 5], [6]])
    labels = torch.tensor([0, 2, 1])
    loss, stats = model.loss(Batch(tokens, lengths, labels))
    logits = model(tokens, lengths)
    expected = torch.nn.functional.cross_entropy(logits, labels)
    torch.testing.assert_close(loss, expected)
    assert stats["examples"] == 3.0
    assert stats["correct"] == float((logits.argmax(-1) == labels).sum())
    assert math.isclose(stats["nll_sum"], 3 * float(expected.detach()), rel_tol=1e-5)
    summary = TextClassifier.summarize({"nll_sum": 6.0, "examples": 4.0, "correct": 3.0})
    assert summary == {"loss": 1.5, "accuracy": 0.75}
    assert all(math.isnan(v) for v in TextClassifier.summarize({}).values())


def test_class_weights_change_the_loss():
    tokens, lengths = pad([[1, 2, 3], [4, 5], [6]])
    batch = Batch(tokens, lengths, torch.tensor([0, 2, 1]))
    plain_loss, plain_stats = make().loss(batch)
    weighted = make(class_weights=torch.tensor([1.0, 5.0, 0.1]))
    weighted_loss, weighted_stats = weighted.loss(batch)
    assert not torch.isclose(plain_loss, weighted_loss)
    logits = weighted(tokens, lengths)
    nll = torch.nn.functional.cross_entropy(logits, batch.labels, reduction="none")
    w = torch.tensor([1.0, 0.1, 5.0])  # weight of each example's label
    torch.testing.assert_close(weighted_loss, (w * nll).sum() / w.sum())
    assert weighted_stats["nll_sum"] == pytest.approx(plain_stats["nll_sum"], rel=1e-5)  # unweighted
    assert "class_weights" not in weighted.state_dict()


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread, and leave the other core to other work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tiny_classifier_overfits(one_thread):
    torch.manual_seed(0)
    sentences = [
        [1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
        [10, 11, 12, 1, 2],
        [3, 4],
        [5, 6, 7, 8, 9, 10],
        [11],
        [12, 3],
    ]
    labels = torch.tensor([0, 1, 0, 1, 1, 0, 1, 0])
    tokens, lengths = pad(sentences)
    batch = Batch(tokens, lengths, labels)
    model = TextClassifier(VOCAB, 2, embedding_size=16, hidden_size=16, pooling="mean")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    model.train()
    for _ in range(150):
        optimizer.zero_grad()
        loss, _ = model.loss(batch)
        loss.backward()
        optimizer.step()
        if loss.item() < 0.01:
            break
    model.eval()
    with torch.no_grad():
        _, stats = model.loss(batch)
    assert TextClassifier.summarize(stats)["accuracy"] == 1.0


def test_invalid_arguments():
    with pytest.raises(ConfigError, match="pooling = 'median'"):
        make(pooling="median")
    with pytest.raises(ConfigError, match="cell = 'lstmx'"):
        make(cell="lstmx")
    with pytest.raises(ConfigError, match="dropout"):
        make(dropout=1.5)
    with pytest.raises(ConfigError, match="class_weights: need 3"):
        make(class_weights=torch.ones(2))
    with pytest.raises(ConfigError, match="pad_id"):
        make(pad_id=VOCAB)


def test_empty_example_is_a_data_error():
    model = make()
    with pytest.raises(DataError, match="length 0"):
        model(torch.tensor([[1, 2], [0, 0]]), torch.tensor([2, 0]))
