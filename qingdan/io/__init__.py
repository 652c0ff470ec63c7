"""Spreadsheets in and out: the 两个清单 as a government 台账 (xlsx/csv), and clerk-typed dates.

- :mod:`qingdan.io.dates` reads dates as clerks type them;
- :mod:`qingdan.io.layout` defines the 台账 columns (headers, the variants recognised on import);
- :mod:`qingdan.io.xlsx` writes workbooks; :mod:`qingdan.io.reader` reads xlsx/csv sheets;
- :mod:`qingdan.io.importer` turns a 台账 into ledger commands, all or nothing.
"""

from qingdan.io.dates import parse_date, parse_datetime
from qingdan.io.safe import neutralise

__all__ = ["parse_date", "parse_datetime", "neutralise"]
