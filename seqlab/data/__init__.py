"""Data: readers, the dataset catalogue, language-model and labelled corpora, BPTT and token-budget
batching."""

from seqlab.data.batching.bptt import BPTTBatcher, LMBatch
from seqlab.data.batching.buckets import TokenBudgetSampler
from seqlab.data.batching.labelled import (
    ClassificationBatch,
    EncodedTags,
    EncodedText,
    ExampleLoader,
    TaggingBatch,
    collate_classification,
    collate_tagging,
)
from seqlab.data.catalogue.lookup import (
    DatasetEntry,
    cache_dir,
    check_dataset,
    data_root,
    get_dataset,
    list_datasets,
    resolve_split,
)
from seqlab.data.corpora.labelled import Corpus, TextPipeline, load_corpus, read_splits
from seqlab.data.corpora.lm import (
    LMCorpus,
    encode_file,
    encode_lines,
    load_lm_corpus,
    load_text_pipeline,
    reload_lm_corpus,
)
from seqlab.data.readers.lines import read_lines
from seqlab.text.padding import pad_batch

__all__ = [
    "BPTTBatcher",
    "ClassificationBatch",
    "Corpus",
    "EncodedTags",
    "EncodedText",
    "ExampleLoader",
    "TaggingBatch",
    "TextPipeline",
    "collate_classification",
    "collate_tagging",
    "load_corpus",
    "read_splits",
    "DatasetEntry",
    "LMBatch",
    "LMCorpus",
    "TokenBudgetSampler",
    "cache_dir",
    "check_dataset",
    "data_root",
    "encode_file",
    "encode_lines",
    "get_dataset",
    "list_datasets",
    "load_lm_corpus",
    "load_text_pipeline",
    "pad_batch",
    "read_lines",
    "reload_lm_corpus",
    "resolve_split",
]
