"""``seqlab export``: a trained run as ONNX or TorchScript files plus ``seqlab_export.json``.

:mod:`~seqlab.export.run` writes the folder; :mod:`~seqlab.export.graphs` (language model,
classifier, tagger) and :mod:`~seqlab.export.seq2seq` hold the exportable modules;
:mod:`~seqlab.export.text` describes tokenizers and vocabularies. Imports go one way:
run -> graphs, seq2seq, text; seq2seq -> graphs.
"""

from seqlab.export.run import MANIFEST, ExportResult, export_run, summary

__all__ = ["MANIFEST", "ExportResult", "export_run", "summary"]
