"""Spreadsheets in and out: the 两个清单 as a government 台账 (xlsx/csv), and clerk-typed dates.

- :mod:`qingdan.io.dates` reads dates as clerks type them;
- :mod:`qingdan.io.layout` defines the 台账 columns (headers, the variants recognised on import);
  the other words clerks write for the ledger's words are :mod:`qingdan.core.vocabulary` (shared with the CLI and API);
- :mod:`qingdan.io.writer` writes print-ready workbooks (the 台账 and 报送表 layouts) and csv,
  :mod:`qingdan.io.pdf` the same forms as PDF, for the township of a :mod:`qingdan.io.profile`;
- :mod:`qingdan.io.reader` streams xlsx/xls/csv/tab-separated sheets within :mod:`qingdan.io.limits`;
  :mod:`qingdan.io.table` finds the table in a sheet and tells data rows from 合计, signatures, notes;
- :mod:`qingdan.io.cells` reads a row, :mod:`qingdan.io.plan` makes it commands (new or update),
  :mod:`qingdan.io.importer` runs a whole 台账 into the ledger, all or nothing.
"""

from qingdan.io.dates import parse_date, parse_datetime
from qingdan.io.safe import neutralise

__all__ = ["parse_date", "parse_datetime", "neutralise"]
