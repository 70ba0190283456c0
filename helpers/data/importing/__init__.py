"""Import the files people have (Excel workbooks, GBK/GB18030/UTF-8 CSVs, boundary layers) into a
data folder that follows the contract: ``python -m helpers import SRC --mapping MAP.yaml --out DIR``.

Modules: :mod:`~helpers.data.importing.mapping` (the mapping file), :mod:`~helpers.data.importing.sources`
(reading the files), :mod:`~helpers.data.importing.values` (cell conversion rules),
:mod:`~helpers.data.importing.convert` (tables, counts, unconvertible values),
:mod:`~helpers.data.importing.write` (writing and putting the folder in place) and
:mod:`~helpers.data.importing.command` (the command line and :func:`import_folder`).
"""
from helpers.data.importing.command import ImportSetupError, ImportResult, import_folder, main
from helpers.data.importing.mapping import EXAMPLE_MAPPING, MappingError, load_mapping

__all__ = ["import_folder", "ImportResult", "ImportSetupError", "load_mapping", "MappingError", "EXAMPLE_MAPPING",
           "main"]
