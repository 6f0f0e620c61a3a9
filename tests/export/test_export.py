"""``seqlab export``: the ONNX (run with onnxruntime) and TorchScript files give the PyTorch model's
outputs within 1e-4, on greedy decoding of a few inputs; the JSON beside them is enough to tokenize,
number and read the outputs without seqlab."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import seqlab
from seqlab.cli import main
from seqlab.export import MANIFEST, export_run

_spec = importlib.util.spec_from_file_location(
    "export_tiny_runs", Path(__file__).parents[1] / "serve" / "tiny_runs.py"
)
tiny_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_runs)

FORMATS = ("onnx", "torchscript")
TOLERANCE = 1e-4


@pytest.fixture(scope="session")
def export_runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp() / "tiny_runs"  # shared with tests/serve
    return {name: tiny_runs.train_tiny(name, base) for name in ("lm", "classifier", "tagger")}


class Graph:
    """An exported file run by onnxruntime or TorchScript: ``graph(**arrays) -> {output: array}``."""

    def __init__(self, path: Path, fmt: str, spec: dict) -> None:
        self.fmt, self.spec = fmt, spec
        if fmt == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is what this format is
                self.module = torch.jit.load(str(path))

    def __call__(self, **feeds: np.ndarray) -> dict[str, np.ndarray]:
        if self.fmt == "onnx":
            outputs = self.session.run(None, feeds)
        else:
            with torch.no_grad():
                result = self.module(*(torch.from_numpy(feeds[name]) for name in self.spec["inputs"]))
            outputs = [result] if isinstance(result, torch.Tensor) else list(result)
            outputs = [o.numpy() for o in outputs]
        return dict(zip(self.spec["outputs"], outputs))


def exported(run_dir: Path, fmt: str, out: Path) -> tuple[dict, dict[str, Graph]]:
    export_run(run_dir, fmt, out)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    graphs = {name: Graph(out / spec["file"], fmt, spec) for name, spec in manifest["files"].items()}
    return manifest, graphs


def tokenize(manifest: dict, text: str) -> list[int]:
    """What another program does with the manifest: the word tokenizer, then the vocabulary."""
    tokenizer, vocab = manifest["tokenizer"], manifest["vocab"]
    assert tokenizer["kind"] == "word"
    words = (text.lower() if tokenizer["lowercase"] else text).split()
    index = {token: i for i, token in enumerate(vocab["tokens"])}
    return [index.get(w, vocab["unk_id"]) for w in words]


def pad(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    tokens = np.full((len(rows), lengths.max()), pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        tokens[i, : len(row)] = row
    return tokens, lengths


@pytest.mark.parametrize("fmt", FORMATS)
def test_language_model_step_gives_the_same_greedy_decoding(export_runs, tmp_path, fmt):
    manifest, graphs = exported(export_runs["lm"], fmt, tmp_path / fmt)
    step = graphs["lm_step"]
    predictor = seqlab.load(export_runs["lm"])
    vocab = manifest["vocab"]
    index = {t: i for i, t in enumerate(vocab["tokens"])}
    banned = [index[t] for t in manifest["usage"]["never_generate"]]
    layers, _, hidden = step.spec["inputs"]["h"]
    for prompt in ["the cat", "a dog sat on", "the"]:
        h = np.zeros((layers, 1, hidden), np.float32)
        c = np.zeros_like(h)
        feed = [index[manifest["usage"]["start_token"]]] + tokenize(manifest, prompt)
        state, generated, worst = None, [], 0.0
        for position in range(len(feed) + 8):
            token = feed[position] if position < len(feed) else generated[-1]
            out = step(tokens=np.array([token], np.int64), h=h, c=c)
            h, c = out["h_out"], out["c_out"]
            with torch.no_grad():
                reference, state, _ = predictor.model.decode_step(torch.tensor([token]), state)
            worst = max(worst, float(np.abs(out["logits"] - reference.numpy()).max()))
            if position >= len(feed) - 1:
                logits = out["logits"][0].copy()
                logits[banned] = -np.inf
                generated.append(int(logits.argmax()))
        assert worst < TOLERANCE, f"{prompt!r}: logits differ by {worst}"
        words = [vocab["tokens"][i] for i in generated[:8]]
        expected = predictor.generate(prompt, 8, greedy=True)[0]
        assert expected == " ".join([prompt.lower(), *words]).replace(" <eos> ", "\n").replace(" <eos>", "\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_classifier_gives_the_same_probabilities_and_attention(export_runs, tmp_path, fmt):
    manifest, graphs = exported(export_runs["classifier"], fmt, tmp_path / fmt)
    predictor = seqlab.load(export_runs["classifier"])
    texts = ["the soup was hot", "rain", "the team won the match after a long and hard fight", "zzz qqq"]
    tokens, lengths = pad([tokenize(manifest, t) or [manifest["vocab"]["unk_id"]] for t in texts], 0)
    out = graphs["classifier"](tokens=tokens, lengths=lengths)
    for row, prediction in enumerate(predictor.predict(texts, explain=True)):
        expected = [prediction.probabilities[label] for label in manifest["labels"]]
        np.testing.assert_allclose(out["probabilities"][row], expected, atol=TOLERANCE)
        assert manifest["labels"][int(out["probabilities"][row].argmax())] == prediction.label
        np.testing.assert_allclose(out["attention"][row, : lengths[row]], prediction.weights, atol=TOLERANCE)
        assert np.all(out["attention"][row, lengths[row] :] == 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_tagger_gives_the_same_logits_and_tags(export_runs, tmp_path, fmt):
    manifest, graphs = exported(export_runs["tagger"], fmt, tmp_path / fmt)
    predictor = seqlab.load(export_runs["tagger"])
    texts = ["Anna flew to Paris .", "Bob", "yesterday Zoltan met Anna in Berlin"]
    words = [t.split() for t in texts]
    index = {t: i for i, t in enumerate(manifest["vocab"]["tokens"])}
    chars = {t: i for i, t in enumerate(manifest["chars"]["tokens"])}
    tokens, lengths = pad([[index.get(w, 1) for w in ws] for ws in words], 0)
    width = max(len(w) for ws in words for w in ws)
    char_ids = np.zeros(tokens.shape + (width,), np.int64)
    char_lengths = np.zeros(tokens.shape, np.int64)
    for b, ws in enumerate(words):
        for t, word in enumerate(ws):
            char_ids[b, t, : len(word)] = [chars.get(ch, 1) for ch in word]
            char_lengths[b, t] = len(word)
    out = graphs["tagger"](tokens=tokens, lengths=lengths, chars=char_ids, char_lengths=char_lengths)
    batch = predictor._batch(words)
    with torch.no_grad():
        reference = predictor.model(batch.tokens, batch.lengths, batch.chars, batch.char_lengths).numpy()
    for b, expected in enumerate(predictor.predict(texts)):
        n = lengths[b]
        np.testing.assert_allclose(out["logits"][b, :n], reference[b, :n], atol=TOLERANCE)
        tags = [manifest["labels"][i] for i in out["logits"][b, :n].argmax(-1)]
        assert tags == [tag for _, tag in expected]


def test_manifest_describes_vocabulary_specials_tokenizer_and_files(export_runs, tmp_path):
    out = tmp_path / "cls"
    assert main(["export", str(export_runs["classifier"]), "--format", "onnx", "-o", str(out)]) == 0
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    run_vocab = json.loads((export_runs["classifier"] / "vocab.json").read_text(encoding="utf-8"))
    tokens = manifest["vocab"]["tokens"]
    assert tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert tokens == run_vocab["tokens"]
    assert (manifest["vocab"]["pad_id"], manifest["vocab"]["unk_id"]) == (0, 1)
    assert manifest["family"] == "classifier" and manifest["format"] == "onnx"
    assert manifest["labels"] == ["food", "sport", "weather"]
    assert manifest["tokenizer"]["kind"] == "word" and manifest["tokenizer"]["lowercase"] is True
    assert (out / "tokenizer" / "tokenizer.json").is_file()
    assert (out / manifest["files"]["classifier"]["file"]).is_file()
    assert manifest["files"]["classifier"]["inputs"] == {"tokens": ["batch", "time"], "lengths": ["batch"]}


def test_an_unknown_format_is_refused(export_runs, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", str(export_runs["lm"]), "--format", "pickle", "-o", str(tmp_path)])
    from seqlab.errors import ConfigError

    with pytest.raises(ConfigError, match="onnx, torchscript"):
        export_run(export_runs["lm"], "pickle", tmp_path)


@pytest.fixture(scope="session")
def s2s_run(tmp_path_factory) -> Path:
    return tiny_runs.train_tiny("seq2seq", tmp_path_factory.getbasetemp() / "tiny_runs")


@pytest.mark.parametrize("fmt", FORMATS)
def test_seq2seq_encoder_and_decoder_step_give_the_same_greedy_decoding(s2s_run, tmp_path, fmt):
    """Greedy decoding written against the manifest alone equals the predictor's (beam 1), with
    logits and attention within 1e-4 at every step."""
    manifest, graphs = exported(s2s_run, fmt, tmp_path / fmt)
    encoder, step = graphs["encoder"], graphs["decoder_step"]
    predictor = seqlab.load(s2s_run)
    source = {t: i for i, t in enumerate(manifest["source_vocab"]["tokens"])}
    target = manifest["target_vocab"]
    start, end = target["tokens"].index(manifest["usage"]["start_token"]), target["eos_id"]
    banned = [target["tokens"].index(t) for t in manifest["usage"]["never_generate"]]
    for text in ["a b c d", "e f g", "h i j k l m"]:
        ids = [source.get(w, manifest["source_vocab"]["unk_id"]) for w in text.split()]
        src, lengths = np.array([ids], np.int64), np.array([len(ids)], np.int64)
        memory = encoder(src=src, src_lengths=lengths)
        limit = min(
            manifest["usage"]["max_length"], int(np.ceil(manifest["usage"]["max_length_ratio"] * len(ids)))
        )
        feeds = {name: memory[name] for name in step.spec["inputs"] if name in memory}
        token, output, rows = start, [], []
        with torch.no_grad():
            t_memory = predictor.model.encode(torch.tensor(src), torch.tensor(lengths))
            t_state = predictor.model.start_state(t_memory)
        for position in range(limit + 1):
            out = step(**feeds, tokens=np.array([token], np.int64), src_lengths=lengths)
            with torch.no_grad():
                t_logits, t_state, t_attention = predictor.model.decode_step(
                    torch.tensor([token]), t_state, t_memory
                )
            assert np.abs(out["logits"] - t_logits.numpy()).max() < TOLERANCE
            assert np.abs(out["attention"] - t_attention.numpy()).max() < TOLERANCE
            for name in step.spec["inputs"]:
                if f"{name}_out" in out:
                    feeds[name] = out[f"{name}_out"]
            logits = out["logits"][0].copy()
            logits[banned] = -np.inf
            token = end if position == limit else int(logits.argmax())
            if token == end:
                break
            output.append(token)
            rows.append(out["attention"][0])
        expected = predictor.translate(text, beam_size=1, return_attention=True)[0]
        assert [target["tokens"][i] for i in output] == expected.tokens
        np.testing.assert_allclose(np.array(rows), np.array(expected.attention), atol=TOLERANCE)
    assert manifest["source_tokenizer"]["kind"] == "word"
    assert (tmp_path / fmt / "source_tokenizer" / "tokenizer.json").is_file()
