"""Corpora: records -> token ids with the run's tokenizers and vocabularies: a language model's id
stream (``lm.py``), its lines (``lm_lines.py``) and the two mixed (``lm_mixed.py``), labelled text
for the classifier and tagger (``labelled.py``), Seq2Seq pairs (``seq2seq.py``)."""
