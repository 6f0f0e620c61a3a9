"""Readers: files -> records, strictly (every problem names its ``file:line``): text lines
(``lines.py``), labelled examples (``labelled.py``), tagged sentences (``tagged.py``), aligned pairs
(``parallel.py``)."""
