"""Every name inside a run directory, defined once; the rest of seqlab imports them from here.

A run directory (``seqlab train --run-dir RUN``)::

    RUN/config.yaml               the validated config (CONFIG_FILE)
    RUN/tokenizer/, vocab.json    language models, classifiers, taggers (TOKENIZER_DIR, VOCAB_FILE)
    RUN/labels.json, chars.json   classifiers and taggers (LABELS_FILE, CHARS_FILE)
    RUN/source_tokenizer/, target_tokenizer/, source_vocab.json, target_vocab.json   Seq2Seq
    RUN/line_start.safetensors    a language model's learned line-start state (LINE_START_FILE)
    RUN/model.safetensors         the best weights (MODEL_FILE)
    RUN/manifest.json             sha256 of each file above (MANIFEST_FILE)
    RUN/metrics.jsonl             one JSON record per log line (METRICS_FILE)
    RUN/tensorboard/              optional (TENSORBOARD_DIR)
    RUN/last, RUN/best            links to checkpoint folders ckpt-last-*, ckpt-best-* (LAST, BEST), each
                                  with model.safetensors, state.json, manifest.json and, in last/,
                                  optimizer.safetensors and rng.safetensors

Nothing here imports anything: the names are the format, and changing one breaks old runs
(``tests/test_old_run.py`` loads a run written before the package was reorganised).
"""

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.safetensors"
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"
TRAIN_LOG = "train.log"  # what `seqlab train ... > RUN/train.log` conventionally adds

TOKENIZER_DIR = "tokenizer"
VOCAB_FILE = "vocab.json"
LABELS_FILE = "labels.json"
CHARS_FILE = "chars.json"
SOURCE_TOKENIZER_DIR = "source_tokenizer"
TARGET_TOKENIZER_DIR = "target_tokenizer"
SOURCE_VOCAB_FILE = "source_vocab.json"
TARGET_VOCAB_FILE = "target_vocab.json"
LINE_START_FILE = "line_start.safetensors"

# checkpoint links and the files of a checkpoint folder
LAST = "last"
BEST = "best"
CHECKPOINT_PREFIX = "ckpt-"  # RUN/ckpt-last-<step>-<id>, the folder RUN/last points at
TMP_PREFIX = ".tmp-"  # a write in progress (or left by a crash)
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.safetensors"
RNG_FILE = "rng.safetensors"

# the files and folders that describe a run: listed in its manifest.json, replaced by --overwrite
RUN_FILES = (
    CONFIG_FILE,
    TOKENIZER_DIR,
    VOCAB_FILE,
    LABELS_FILE,
    CHARS_FILE,
    SOURCE_TOKENIZER_DIR,
    TARGET_TOKENIZER_DIR,
    SOURCE_VOCAB_FILE,
    TARGET_VOCAB_FILE,
    LINE_START_FILE,
    MODEL_FILE,
)
# what training adds besides (--overwrite removes these too, and ckpt-* / .tmp-* leftovers)
TRAINING_STATE = (LAST, BEST, METRICS_FILE, MANIFEST_FILE)
