"""The catalog room: SQLite as the source of truth, as small repositories behind one facade.

- :mod:`.facade`: :class:`Catalog`, what callers use.
- :mod:`.videos`, :mod:`.runs`, :mod:`.segments`, :mod:`.jobs`: one repository per table group.
- :mod:`.database`: connections, transactions, counters; :mod:`.migrations`: numbered schema steps.
"""

from scenespark.store.catalog.facade import Catalog
from scenespark.store.catalog.runs import RunInfo, RunStatus

__all__ = ["Catalog", "RunInfo", "RunStatus"]
