"""The emulator's SOQL engine: ``execute(soql, source, url_prefix, now=None) -> SoqlResult``.

``grammar.lark`` is the language (LALR); ``parser`` turns text into ``ast`` nodes (cached per statement);
``engine`` resolves names against ``source.describe`` and runs the statement over ``source.rows``;
``dates`` holds the relative date literals; ``messages`` Salesforce's error wording and layout.

Like Salesforce, and unlike SQL: AND and OR cannot be mixed without parentheses, NOT only opens a condition,
``!=``/``NOT IN`` keep records whose value is null, text compares and sorts case-insensitively, nulls sort
first unless ``NULLS LAST``, date fields take date literals and datetime fields datetime literals only.
Not supported: TYPEOF, date functions (CALENDAR_YEAR...), toLabel/FORMAT/convertCurrency, GROUP BY ROLLUP/CUBE.
"""
from .engine import DEFAULT_URL_PREFIX, SoqlResult, execute

__all__ = ["DEFAULT_URL_PREFIX", "SoqlResult", "execute"]
