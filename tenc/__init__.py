"""tenc: Trans-Encoder (bi- and cross-encoders teaching each other without labels) on a CPU.

Modules: ``data`` (STS sets, pool, custom corpora), ``models`` (aliases, factories), ``encode``
(fast inference), ``train`` (student training loops), ``distill`` (the loop), ``prime`` (SimCSE /
Mirror-BERT), ``evaluation`` (Spearman "all" setting), ``cli``.
"""

__version__ = "0.1.0"
