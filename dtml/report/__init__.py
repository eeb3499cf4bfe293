"""Tables 1-3 of the paper from finished run folders: our numbers beside the paper's.

A run folder (``runs/<method>-<key>/``, written by ``dtml.train`` and ``dtml.evaluate``) and its
committed copy (``results/<setting>/runs/<name>/``, written by :func:`export_runs`) hold the same
small files, so one reader (:func:`collect`) serves both.

Aggregation (every number says over what it was taken):

* over seeds: the mean and sample std (ddof=1) of the per-seed means over cases; std is ``None``
  for one seed (undefined, not 0);
* over cases: the mean and sample std of every (seed, case) value pooled together.

Units and the no-mixed-settings rule: :mod:`~dtml.report.tables`.

Modules: :mod:`~dtml.report.records` (reading and exporting run folders),
:mod:`~dtml.report.settings` (what runs share a table), :mod:`~dtml.report.rows` (which runs a
row holds), :mod:`~dtml.report.stats` (aggregation, paired test, planned seeds),
:mod:`~dtml.report.tables` (the tables and their provenance), :mod:`~dtml.report.notes` (notes
and caveats), :mod:`~dtml.report.render` (markdown, CSV, JSON) and :mod:`~dtml.report.hardware`
(hardware names as shown); everything public of these is re-exported here. Imported from where
they live: :mod:`~dtml.report.shown` (the tables a notebook shows and what they say),
:mod:`~dtml.report.sentences` (numbers and paired tests as sentences) and the modules
of the input-normalisation study (issue 12), :mod:`~dtml.report.intensity` (the low-scale test
scans), :mod:`~dtml.report.normalization` (the study's rows and tests) and
:mod:`~dtml.report.normalization_report` (its text and files).
"""

from __future__ import annotations

from dtml.report.hardware import hardware_text, short_hardware
from dtml.report.notes import (
    caveats,
    compare,
    describe_source,
    paired_test_text,
    paper_gap,
    row_notes,
)
from dtml.report.records import (
    CASE_COLUMNS,
    EVAL_FILES,
    GRID_COLUMNS,
    SMALL_FILES,
    RunRecord,
    collect,
    committed_records,
    export_runs,
    find_runs,
    read_run,
)
from dtml.report.render import (
    markdown_columns,
    save_table,
    table_markdown,
    table_name,
    to_csv,
    to_json,
    to_markdown,
)
from dtml.report.rows import (
    find_row,
    matches,
    row_records,
)
from dtml.report.settings import (
    BOOKKEEPING_FIELDS,
    ROW_FIELDS,
    check_same_setting,
    describe_setting,
    group_by_setting,
    setting,
    setting_id,
)
from dtml.report.stats import (
    aggregate,
    case_scores,
    paired_test,
    per_case,
)
from dtml.report.tables import (
    MEASURES,
    NOT_REIMPLEMENTED,
    NOT_RUN,
    PAPER_SPACING_MM,
    SettingTable,
    provenance,
    table,
    tables_by_setting,
)

__all__ = [
    "BOOKKEEPING_FIELDS",
    "CASE_COLUMNS",
    "EVAL_FILES",
    "GRID_COLUMNS",
    "MEASURES",
    "NOT_REIMPLEMENTED",
    "NOT_RUN",
    "PAPER_SPACING_MM",
    "ROW_FIELDS",
    "RunRecord",
    "SMALL_FILES",
    "SettingTable",
    "aggregate",
    "case_scores",
    "caveats",
    "check_same_setting",
    "collect",
    "committed_records",
    "compare",
    "describe_setting",
    "describe_source",
    "export_runs",
    "find_row",
    "find_runs",
    "group_by_setting",
    "markdown_columns",
    "matches",
    "paired_test",
    "paired_test_text",
    "paper_gap",
    "per_case",
    "provenance",
    "read_run",
    "row_notes",
    "row_records",
    "save_table",
    "setting",
    "setting_id",
    "hardware_text",
    "short_hardware",
    "table",
    "table_markdown",
    "table_name",
    "tables_by_setting",
    "to_csv",
    "to_json",
    "to_markdown",
]
