"""Importers that turn source datasets into ``Procedure`` records of the knowledge base.

    import_dvcqg(folder, checked_on)   National Public Service Portal records (run-together tables)
    import_bqp(folder, checked_on)     Ministry of National Defence records (split tables)
    write_catalogue(results, out_dir)  ``out_dir/procedures/<group>.yaml`` + ``import-report.json``

Modules: ``channels``, ``documents``, ``legal_basis`` read the portal's run-together tables
(document numbers by ``knowledge.text.legal_numbers``); ``report`` holds the results, the failures
and the writer; ``common`` the text, link and record helpers both importers share.
"""

from knowledge.catalogue.importers.bqp import import_bqp
from knowledge.catalogue.importers.channels import parse_channels
from knowledge.catalogue.importers.common import map_levels
from knowledge.catalogue.importers.documents import parse_documents
from knowledge.catalogue.importers.dvcqg import import_dvcqg
from knowledge.catalogue.importers.legal_basis import parse_legal_basis
from knowledge.catalogue.importers.report import ImportFailure, ImportResult, write_catalogue

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
