import pytest
import torch

from seqlab.config import ModelConfig
from seqlab.decoding import (
    BanTokens,
    MinLength,
    NoRepeatNGram,
    ProcessorList,
    Temperature,
    TopK,
    TopP,
    beam_search,
)
from seqlab.decoding.options import SearchOptions
from seqlab.errors import ConfigError
from seqlab.models import LanguageModel
from seqlab.predictors.generation import continuations, generate, next_token_distribution
from seqlab.predictors.prompted import PromptedLanguageModel

VOCAB = 9


@pytest.fixture(scope="module")
def model() -> LanguageModel:
    torch.manual_seed(0)
    cfg = ModelConfig(embedding_size=8, hidden_size=8, num_layers=2, dropout=0.3, init_range=1.0)
    return LanguageModel(cfg, VOCAB)


class ConstantModel:
    """A protocol-only model: always prefers ``token``; counts its decode steps."""

    def __init__(self, token: int) -> None:
        self.token, self.steps, self.training = token, 0, False

    def init_state(self, batch_size, device=None):
        return None

    def decode_step(self, tokens, state, memory=None):
        logits, state = self(tokens.unsqueeze(1), state)
        return logits[:, 0], state, None

    def __call__(self, inputs, state):  # the forward that reads prompts: one step per token
        self.steps += inputs.shape[1]
        logits = torch.zeros(*inputs.shape, VOCAB)
        logits[..., self.token] = 5.0
        return logits, state

    def eval(self):
        return self

    def train(self, mode=True):
        return self


def test_greedy_equals_argmax_stepping(model):
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    out = generate(model, prompt, max_new_tokens=6)
    assert out.shape == (2, 9) and torch.equal(out[:, :3], prompt)
    model.eval()
    with torch.no_grad():
        expected = prompt
        for _ in range(6):
            logits, _ = model(expected)  # the whole sequence from scratch each step
            expected = torch.cat([expected, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(out, expected)
    assert torch.equal(generate(model, prompt, 6), out)  # deterministic


def test_generate_restores_training_mode(model):
    model.train()
    generate(model, torch.tensor([[1]]), 3)
    assert model.training
    model.eval()


def test_greedy_applies_processors(model):
    prompt = torch.tensor([[1, 2]])
    greedy = generate(model, prompt, 5)
    top1 = ProcessorList([TopK(1)])
    assert torch.equal(generate(model, prompt, 5, top1), greedy)  # top-1 keeps the argmax
    only_seven = ProcessorList([lambda logits, generated: logits.index_fill(1, torch.tensor([7]), 100.0)])
    assert (generate(model, prompt, 5, only_seven)[0, 2:] == 7).all()


def test_sampling_same_seed_repeats_other_seed_differs(model):
    prompt = torch.tensor([[1, 2], [3, 4]])
    processors = ProcessorList([Temperature(2.0)])

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        return generate(model, prompt, 20, processors, do_sample=True, generator=g)

    first = run(0)
    assert first.shape == (2, 22)
    assert torch.equal(run(0), first)
    assert not torch.equal(run(1), first)


def test_stops_early_when_every_row_has_eos():
    eos = 3
    always_eos = ConstantModel(eos)
    out = generate(always_eos, torch.tensor([[1, 2], [4, 5]]), 10, eos_id=eos)
    assert out.tolist() == [[1, 2, eos], [4, 5, eos]]
    assert always_eos.steps == 2  # only the prompt; no step after the last token


def test_finished_rows_keep_emitting_eos(model):
    prompt = torch.tensor([[1, 2], [4, 5]])
    free = generate(model, prompt, 6)
    eos = int(free[0, 3])  # row 0 would produce this token at its second new step
    out = generate(model, prompt, 6, eos_id=eos)
    first = (out[0, 2:] == eos).nonzero()[0].item() + 2
    assert first <= 3
    assert torch.equal(out[0, : first + 1], free[0, : first + 1])  # the same path up to eos
    assert (out[0, first:] == eos).all()  # then eos only
    assert out.shape[1] <= 8


def test_min_length_delays_eos():
    eos = 3
    out = generate(
        ConstantModel(eos), torch.tensor([[1]]), 10, ProcessorList([MinLength(4, eos)]), eos_id=eos
    )
    assert out.shape == (1, 5) and out[0, -1] == eos and (out[0, 1:4] != eos).all()


def test_zero_new_tokens_and_bad_arguments(model):
    prompt = torch.tensor([[1, 2]])
    assert torch.equal(generate(model, prompt, 0), prompt)
    with pytest.raises(ConfigError, match="max_new_tokens = -1"):
        generate(model, prompt, -1)
    with pytest.raises(ConfigError, match="prompt"):
        generate(model, torch.zeros(1, 0, dtype=torch.long), 3)
    with pytest.raises(ConfigError, match="prompt"):
        generate(model, torch.tensor([1, 2]), 3)


def test_next_token_distribution_matches_forward(model):
    prompt = torch.tensor([1, 5, 2])
    probs = next_token_distribution(model, prompt)
    assert probs.shape == (VOCAB,) and torch.isclose(probs.sum(), torch.tensor(1.0))
    model.eval()
    with torch.no_grad():
        expected = model(prompt.unsqueeze(0))[0][0, -1].softmax(-1)
    torch.testing.assert_close(probs, expected, atol=1e-6, rtol=1e-5)


EOS = 3


@pytest.mark.parametrize(
    ("do_sample", "shaping"),
    [
        (False, []),
        (True, []),
        (True, [Temperature(0.01)]),
        (True, [Temperature(100.0), TopP(0.5)]),
        (True, [Temperature(0.5), TopK(2)]),
    ],
)
def test_a_row_whose_every_token_is_banned_ends_with_eos(model, do_sample, shaping):
    # Unigram blocking over 9 ids with eos in the prompt (as the predictor's context starts with it):
    # after the other 7 ids every token is banned. Sampling once crashed on the NaN distribution and
    # greedy search emitted id 0 over and over (issue 14); now the row ends with <eos>.
    prompt = torch.tensor([[EOS, 1], [EOS, 5]])
    processors = ProcessorList([NoRepeatNGram(1), *shaping])
    g = torch.Generator().manual_seed(0)
    out = generate(model, prompt, 50, processors, do_sample=do_sample, generator=g, eos_id=EOS)
    for row in out.tolist():
        end = row.index(EOS, 2)
        assert sorted(row[:end]) == list(range(VOCAB))  # every id used once: nothing was left
        assert all(token == EOS for token in row[end:])
    assert out.shape[1] == VOCAB + 1  # stopped once both rows had ended


@pytest.mark.parametrize("do_sample", [False, True])
def test_a_blocked_row_ends_even_when_eos_does_not_stop_rows(model, do_sample):
    # stop_at_eos=False: a produced <eos> (a line end) does not end the row; running out of tokens
    # does, with <eos>, and the ended row is filled with pad_id (never produced: banned).
    pad = 0
    processors = ProcessorList([BanTokens([pad]), NoRepeatNGram(1)])
    g = torch.Generator().manual_seed(0)
    out = generate(
        model, torch.tensor([[1]]), 30, processors, do_sample=do_sample, generator=g,
        eos_id=EOS, stop_at_eos=False, pad_id=pad,
    )  # fmt: skip
    row = out[0].tolist()
    end = row.index(pad) - 1 if pad in row else len(row) - 1
    assert row[end] == EOS and all(token == pad for token in row[end + 1 :])
    assert sorted(set(row[:end])) == list(range(1, VOCAB))  # every allowed id once
    assert len(row[:end]) == VOCAB - 1


def test_every_token_banned_without_an_eos_id_is_a_config_error(model):
    with pytest.raises(ConfigError, match="every token is banned"):
        generate(model, torch.tensor([[1]]), 30, NoRepeatNGram(1))


def test_lm_beam_size_one_equals_greedy(model):
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    greedy = generate(model, prompt, 8)
    end = VOCAB  # the adapter's end column: rows run to their maximum length, as greedy's do here
    adapter = PromptedLanguageModel(model, bos_id=end, eos_id=end, end_column=True)
    model.eval()
    with torch.no_grad():
        memory = adapter.encode(prompt, torch.tensor([3, 3]))
        found = beam_search(
            adapter, memory, adapter.start_state(memory), beam_size=1, bos_id=end, eos_id=end,
            max_lengths=torch.tensor([8, 8]), min_lengths=torch.tensor([0, 0]), prefix=prompt,
        )  # fmt: skip
    assert [hyps[0].tokens for hyps in found] == greedy[:, 3:].tolist()


def test_ragged_prompts_read_like_the_training_forward(model):
    # the decode path (adapter.encode, row by row lengths) against the model's own forward
    prompts = [[3, 1, 5, 2], [3, 7], [3, 4, 4]]
    src = torch.zeros(3, 4, dtype=torch.long)
    for row, ids in enumerate(prompts):
        src[row, : len(ids)] = torch.tensor(ids)
    adapter = PromptedLanguageModel(model, bos_id=0, eos_id=3)
    model.eval()
    with torch.no_grad():
        memory = adapter.encode(src, torch.tensor([len(p) for p in prompts]))
        for row, ids in enumerate(prompts):
            logits, state = model(torch.tensor([ids]))
            torch.testing.assert_close(memory.start.logits[row], logits[0, -1])
            torch.testing.assert_close(memory.start.state.h[:, row], state.h[:, 0])


def test_lm_diverse_beam_search_over_the_same_protocol(model):
    # a language model's beam (prompt as prefix) split into groups: 1 group is the plain beam; with a
    # strong diversity term the 4 groups of width 1 start with 4 different tokens
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    model.eval()
    with torch.no_grad():
        plain = continuations(model, prompt, 5, SearchOptions(beam_size=4, n_best=4))
        one = continuations(model, prompt, 5, SearchOptions(beam_size=4, n_best=4, diverse_groups=1))
        diverse = continuations(
            model, prompt, 5, SearchOptions(beam_size=4, n_best=4, diverse_groups=4, diversity_strength=50.0)
        )
    assert [[h.tokens for h in hyps] for hyps in one] == [[h.tokens for h in hyps] for hyps in plain]
    assert any(len({h.tokens[0] for h in hyps}) < 4 for hyps in plain)
    for hyps in diverse:
        assert len(hyps) == 4 and len({h.tokens[0] for h in hyps}) == 4
    with pytest.raises(ConfigError, match="diverse_groups = 3: must divide beam_size = 4"):
        continuations(model, prompt, 5, SearchOptions(beam_size=4, diverse_groups=3))
