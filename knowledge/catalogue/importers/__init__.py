"""Importers that turn source datasets into ``Procedure`` records of the knowledge base.

    import_dvcqg(folder, checked_on)   National Public Service Portal records (run-together tables)
    import_bqp(folder, checked_on)     Ministry of National Defence records (split tables)
    write_catalogue(results, out_dir)  ``out_dir/procedures/<group>.yaml`` + ``import-report.json``
"""

from knowledge.catalogue.importers.bqp import import_bqp
from knowledge.catalogue.importers.common import (
    ImportFailure,
    ImportResult,
    map_levels,
    parse_channels,
    parse_documents,
    parse_legal_basis,
    write_catalogue,
)
from knowledge.catalogue.importers.dvcqg import import_dvcqg

__all__ = [
    "ImportFailure",
    "ImportResult",
    "import_bqp",
    "import_dvcqg",
    "map_levels",
    "parse_channels",
    "parse_documents",
    "parse_legal_basis",
    "write_catalogue",
]
