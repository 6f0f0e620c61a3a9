import math
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from seqlab.errors import ConfigError, DataError
from seqlab.models.tagger import CharEncoder, SequenceTagger

VOCAB = 12
CHARS = 9
TAGS = 4
PAD = 0
# The characters of each word id (word 0 is padding): lengths 1 to 5, so words pad differently.
SPELLING = {w: [1 + (w * 7 + k) % (CHARS - 1) for k in range(1 + w % 5)] for w in range(1, VOCAB)}


@dataclass
class Batch:
    """Stand-in for the tagging batch of seqlab.data (duck typing)."""

    tokens: Tensor
    lengths: Tensor
    tags: Tensor
    chars: Tensor | None = None
    char_lengths: Tensor | None = None


def pad(seqs: list[list[int]], value: int = PAD) -> tuple[Tensor, Tensor]:
    lengths = torch.tensor([len(s) for s in seqs])
    tokens = torch.full((len(seqs), int(lengths.max())), value)
    for row, seq in enumerate(seqs):
        tokens[row, : len(seq)] = torch.tensor(seq)
    return tokens, lengths


def spell(sentences: list[list[int]]) -> tuple[Tensor, Tensor]:
    """chars [B, T, W] and char_lengths [B, T] of padded sentences (0 for padding words)."""
    steps = max(len(s) for s in sentences)
    width = max(len(SPELLING[w]) for s in sentences for w in s)
    chars = torch.zeros(len(sentences), steps, width, dtype=torch.long)
    char_lengths = torch.zeros(len(sentences), steps, dtype=torch.long)
    for b, sentence in enumerate(sentences):
        for t, word in enumerate(sentence):
            chars[b, t, : len(SPELLING[word])] = torch.tensor(SPELLING[word])
            char_lengths[b, t] = len(SPELLING[word])
    return chars, char_lengths


def make(seed: int = 0, chars: bool = False, **changes) -> SequenceTagger:
    torch.manual_seed(seed)
    options = dict(embedding_size=8, hidden_size=6, num_layers=2)
    if chars:
        options.update(char_vocab_size=CHARS, char_embedding_size=5, char_hidden_size=4)
    options.update(changes)
    return SequenceTagger(VOCAB, TAGS, **options).eval()


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def probabilities(model: SequenceTagger, sentences: list[list[int]], use_chars: bool) -> Tensor:
    tokens, lengths = pad(sentences)
    extra = spell(sentences) if use_chars else (None, None)
    with torch.no_grad():
        return torch.softmax(model(tokens, lengths, *extra), dim=-1)


@pytest.mark.parametrize("use_chars", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padding_never_changes_a_prediction(use_chars, cell):
    model = make(chars=use_chars, cell=cell)
    text = [3, 1, 5]  # words of 4, 2 and 1 characters; the neighbours have 5-character words
    alone = probabilities(model, [text], use_chars)[0]
    batch = probabilities(model, [[4, 9, 2, 7, 11, 6], text, [9, 4, 10, 8]], use_chars)
    torch.testing.assert_close(batch[1, :3], alone, atol=1e-6, rtol=0)


def test_char_lengths_default_to_non_padding_characters():
    model = make(chars=True)
    sentences = [[3, 1, 5], [4, 9]]
    tokens, lengths = pad(sentences)
    chars, char_lengths = spell(sentences)
    torch.testing.assert_close(model(tokens, lengths, chars), model(tokens, lengths, chars, char_lengths))


def test_char_encoder_concatenates_final_states():
    torch.manual_seed(0)
    encoder = CharEncoder(CHARS, 5, 4)
    chars, char_lengths = spell([[3, 1], [2]])
    out = encoder(chars, char_lengths)
    assert out.shape == (2, 2, 8)
    assert out[1, 1].abs().sum() == 0  # a padding word
    word = torch.tensor([SPELLING[3]])
    outputs, _ = encoder.recurrent(encoder.embedding(word))
    expected = torch.cat([outputs[0, -1, :4], outputs[0, 0, 4:]])
    torch.testing.assert_close(out[0, 0], expected)


def test_predict_and_encode():
    model = make(chars=True)
    sentences = [[3, 1, 5], [4, 9]]
    tokens, lengths = pad(sentences)
    chars, char_lengths = spell(sentences)
    predictions = model.predict(tokens, lengths, chars, char_lengths)
    assert [len(p) for p in predictions] == [3, 2]
    assert all(0 <= tag < TAGS for row in predictions for tag in row)
    assert model.encode(tokens, lengths, chars, char_lengths).shape == (2, 3, 12)
    for mode in ("last", "mean", "max"):
        assert model.encode(tokens, lengths, chars, char_lengths, pool=mode).shape == (2, 12)
    with pytest.raises(ConfigError, match="pool = 'attention'"):
        model.encode(tokens, lengths, chars, pool="attention")


def test_loss_ignores_padding_tags():
    model = make()
    tokens, lengths = pad([[3, 1, 5], [4, 9]])
    tags, _ = pad([[1, 2, 3], [0, 1]], value=2)
    loss, stats = model.loss(Batch(tokens, lengths, tags))
    garbage = tags.clone()
    garbage[1, 2] = 3  # a padding position: must not matter
    loss_again, stats_again = model.loss(Batch(tokens, lengths, garbage))
    torch.testing.assert_close(loss, loss_again)
    assert stats == stats_again
    assert stats["tokens"] == 5.0
    logits = model(tokens, lengths)
    real = torch.tensor([[True, True, True], [True, True, False]])
    expected = torch.nn.functional.cross_entropy(logits[real], tags[real])
    torch.testing.assert_close(loss, expected)
    assert stats["correct"] == float((logits[real].argmax(-1) == tags[real]).sum())
    assert math.isclose(stats["nll_sum"], 5 * float(expected.detach()), rel_tol=1e-5)
    assert SequenceTagger.summarize({"nll_sum": 2.0, "tokens": 4.0, "correct": 1.0}) == {
        "loss": 0.5,
        "accuracy": 0.25,
    }
    assert all(math.isnan(v) for v in SequenceTagger.summarize({}).values())


@pytest.mark.parametrize("use_chars", [False, True])
def test_tiny_tagger_overfits(use_chars, one_thread):
    torch.manual_seed(0)
    sentences = [[1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11, 1], [2, 4, 6], [3, 5, 7, 9, 11, 8]]
    # The tag depends on the word and on its position, so the BiLSTM context matters.
    tag_lists = [[(w + t) % TAGS for t, w in enumerate(s)] for s in sentences]
    tokens, lengths = pad(sentences)
    tags, _ = pad(tag_lists)
    chars, char_lengths = spell(sentences) if use_chars else (None, None)
    batch = Batch(tokens, lengths, tags, chars, char_lengths)
    model = make(chars=use_chars, embedding_size=16, hidden_size=16, num_layers=1).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        optimizer.zero_grad()
        loss, _ = model.loss(batch)
        loss.backward()
        optimizer.step()
        if loss.item() < 0.01:
            break
    model.eval()
    with torch.no_grad():
        _, stats = model.loss(batch)
    assert SequenceTagger.summarize(stats)["accuracy"] == 1.0
    assert model.predict(tokens, lengths, chars, char_lengths) == tag_lists


def test_character_inputs_are_checked():
    tokens, lengths = pad([[3, 1]])
    chars, char_lengths = spell([[3, 1]])
    with pytest.raises(DataError, match="needs .chars"):
        make(chars=True)(tokens, lengths)
    with pytest.raises(ConfigError, match="no char_vocab_size"):
        make()(tokens, lengths, chars, char_lengths)
    with pytest.raises(DataError, match="tags have shape"):
        make().loss(Batch(tokens, lengths, torch.zeros(1, 5, dtype=torch.long)))
