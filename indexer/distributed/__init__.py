"""Indexing on a Ray cluster (``scenespark index add --ray ADDRESS``).

The extraction stages of :mod:`indexer.stages` run in Ray actors, one kind per stage (frames:
decode, shots, visual and OCR; speech: sidecar or Whisper), each loading its models once. The
driver, the process that ran the command, is the one writer: it embeds the texts and commits each
(video, modality) run to the SQLite catalog and its vectors to the Chroma server exactly as the
single-machine path does (:class:`indexer.service.IndexService`). Nothing here is imported
without ``--ray``.
"""
