"""Seq2Seq corpus and batches: splits, pipelines saved and reloaded, shared vocabulary, length limits,
and the padded batches the model reads."""

import dataclasses

import pytest
import torch

from seqlab.config import load_config
from seqlab.data.batching.seq2seq import EncodedPair, Seq2SeqLoader, collate_pairs
from seqlab.data.corpora.seq2seq import Seq2SeqPipeline, load_seq2seq_corpus
from seqlab.errors import DataError
from seqlab.text.vocab import Vocabulary


def parallel_config(tmp_path, *extra):
    src = tmp_path / "train.src"
    tgt = tmp_path / "train.tgt"
    src.write_text("a b c\nb c\n\nc a b a\nd\n", encoding="utf-8")
    tgt.write_text("C B A\nC B\nX\nA B A C\nD\n", encoding="utf-8")
    sets = [
        "task=seq2seq",
        "data.format=parallel",
        f"data.train_source={src}",
        f"data.train_target={tgt}",
        "data.valid_fraction=0.25",
        *extra,
    ]
    return load_config(None, sets)


def test_parallel_corpus_holds_out_fits_saves_and_reloads(tmp_path):
    cfg = parallel_config(tmp_path)
    run = tmp_path / "run"
    corpus = load_seq2seq_corpus(cfg, run, fit=True)
    assert len(corpus.train) + len(corpus.valid) == 4  # the pair with an empty side is dropped
    for name in ("source_tokenizer", "target_tokenizer", "source_vocab.json", "target_vocab.json"):
        assert (run / name).exists()
    again = load_seq2seq_corpus(cfg, run, fit=False)
    assert again.train == corpus.train and again.valid == corpus.valid
    pipeline = Seq2SeqPipeline.load(run, None)
    assert "A" in pipeline.target_vocab.stoi and "A" not in pipeline.source_vocab.stoi


def test_shared_vocabulary_and_length_limit(tmp_path):
    cfg = parallel_config(tmp_path, "data.share_vocab=true", "data.max_source_length=3")
    corpus = load_seq2seq_corpus(cfg, tmp_path / "run")
    pipeline = corpus.pipeline
    assert pipeline.source_vocab.itos == pipeline.target_vocab.itos
    assert all(len(p.source) <= 3 for p in corpus.train)


def test_no_validation_data_is_an_error(tmp_path):
    cfg = parallel_config(tmp_path)
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, valid_fraction=0.0))
    with pytest.raises(DataError, match="valid_fraction"):
        load_seq2seq_corpus(cfg, tmp_path / "run")


def test_collate_shifts_the_target_and_pads_with_zero():
    batch = collate_pairs([EncodedPair([5, 6, 7], [8, 9]), EncodedPair([5], [10])])
    bos, eos = Vocabulary.bos_id, Vocabulary.eos_id
    assert batch.src.tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch.src_lengths.tolist() == [3, 1]
    assert batch.tgt_in.tolist() == [[bos, 8, 9], [bos, 10, 0]]
    assert batch.tgt_out.tolist() == [[8, 9, eos], [10, eos, 0]]
    assert batch.tgt_lengths.tolist() == [3, 2] and batch.num_tokens == 5
    moved = batch.to("cpu")
    assert torch.equal(moved.tgt_out, batch.tgt_out)


def test_loader_covers_every_pair_once_within_the_budget_and_resumes():
    pairs = [EncodedPair([4] * (1 + i % 7), [5] * (1 + i % 5)) for i in range(50)]
    loader = Seq2SeqLoader(pairs, max_tokens=24, shuffle=True, seed=3)
    seen = []
    for batch in loader:
        assert batch.src.numel() <= 24 and batch.tgt_in.numel() <= 24
        seen.extend(batch.src_lengths.tolist())
    assert sorted(seen) == sorted(len(p.source) for p in pairs)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    rest = [b.src.tolist() for b in it]
    other = Seq2SeqLoader(pairs, max_tokens=24, shuffle=True, seed=3)
    other.load_state_dict(state)
    assert [b.src.tolist() for b in other] == rest


@pytest.mark.parametrize("share", ["true", "false"])
def test_dialogue_files_keep_the_turn_separator_one_sentencepiece_token(tmp_path, share):
    lines = [
        f"hello number {i} . __eou__ hi there {i} . __eou__ how are you ? __eou__ fine . __eou__"
        for i in range(60)
    ]
    (tmp_path / "d.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm = "{kind: sentencepiece, sp_vocab_size: 60}"
    cfg = load_config(
        None,
        [
            "task=seq2seq",
            "data.format=dailydialog",
            f"data.train={tmp_path / 'd.txt'}",
            "data.valid_fraction=0.1",
            "data.turn_separator=<T>",
            f"data.source_tokenizer={spm}",
            f"data.target_tokenizer={spm}",
            f"data.share_vocab={share}",
        ],
    )
    corpus = load_seq2seq_corpus(cfg, tmp_path / "run")
    assert len(corpus.train) + len(corpus.valid) == 180
    pipeline = Seq2SeqPipeline.load(tmp_path / "run", None)
    assert pipeline.source_tokens("hi there 3 . <T> how are you ?").count("<T>") == 1
    assert "<T>" in pipeline.source_vocab.stoi


def test_email_folders_read_as_body_subject_pairs(tmp_path):
    for split, count in (("train", 6), ("dev", 2)):
        (tmp_path / split).mkdir()
        for i in range(count):
            text = f"Please check item {i}.\n@subject\nitem {i}\n"
            (tmp_path / split / f"{i}.subject").write_text(text, encoding="utf-8")
    cfg = load_config(
        None,
        [
            "task=seq2seq",
            "data.format=aeslc",
            f"data.train={tmp_path / 'train'}",
            f"data.valid={tmp_path / 'dev'}",
        ],
    )
    corpus = load_seq2seq_corpus(cfg, tmp_path / "run")
    assert len(corpus.train) == 6 and [p.target for p in corpus.valid_pairs] == ["item 0", "item 1"]


def test_copy_attention_pairs_hold_copy_ids_and_targets_over_the_extended_vocabulary(tmp_path):
    """With model.copy_attention, a target word outside the target vocabulary that the source has
    points at the source's extended id; the batch carries the copy ids, padded like the source."""
    cfg = parallel_config(tmp_path, "data.target_tokenizer.lowercase=true", "data.target_vocab.min_freq=2")
    plain = load_seq2seq_corpus(cfg, tmp_path / "plain")
    assert all(p.source_copy is None for p in plain.train)
    copy_cfg = parallel_config(
        tmp_path,
        "data.target_tokenizer.lowercase=true",
        "data.target_vocab.min_freq=2",
        "model.copy_attention=true",
    )
    corpus = load_seq2seq_corpus(copy_cfg, tmp_path / "copy")
    pipeline = corpus.pipeline
    vocab = pipeline.target_vocab
    assert "d" not in vocab.stoi  # seen once: the target vocabulary lacks it
    (pair,) = [p for p in corpus.train + corpus.valid if pipeline.source_vocab.decode(p.source) == ["d"]]
    assert pair.source_copy == [len(vocab)] and pair.target == [len(vocab)]
    batch = collate_pairs([*corpus.train, pair])
    assert batch.src_copy is not None and batch.src_copy.shape == batch.src.shape
    assert batch.src_copy[-1].tolist()[:1] == [len(vocab)]
    assert int(batch.tgt_out.max()) == len(vocab)  # the copied word, beyond the vocabulary


def test_source_truncate_keeps_long_pairs_and_reads_their_first_tokens(tmp_path):
    # without truncation, max_source_length=3 drops "c a b a" (4 tokens); with it, the pair is read
    # as "c a" and kept, and a reloaded pipeline (resume, prediction) reads sources the same way
    dropped = load_seq2seq_corpus(parallel_config(tmp_path, "data.max_source_length=3"), tmp_path / "a")
    cfg = parallel_config(tmp_path, "data.max_source_length=3", "data.source_truncate=2")
    corpus = load_seq2seq_corpus(cfg, tmp_path / "b")
    assert len(corpus.train) + len(corpus.valid) == 4
    assert len(dropped.train) == len(corpus.train) - 1
    assert max(len(p.source) for p in corpus.train) == 2
    assert corpus.pipeline.source_tokens("c a b a") == ["c", "a"]
    reloaded = Seq2SeqPipeline.load(tmp_path / "b", cfg.data.source_truncate)
    assert reloaded.source_ids("c a b a") == corpus.pipeline.source_ids("c a")
    assert reloaded.source_tokens("c a b a", max_length=1) == ["c"]
    assert load_seq2seq_corpus(cfg, tmp_path / "b", fit=False).train == corpus.train
