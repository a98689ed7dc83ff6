"""Errors of the knowledge package.

    KnowledgeError
    ├── KnowledgeBaseError   the data folder is missing or a record is invalid (operator error)
    ├── IndexArtefactError   the index artefact is missing, corrupt or built for other settings
    └── NotFoundError        a requested record does not exist (API turns it into 404)

The library raises these; only the CLI and the API turn them into messages.
"""


class KnowledgeError(Exception):
    """Base class; the message is safe to show to an operator."""


class KnowledgeBaseError(KnowledgeError):
    pass


class IndexArtefactError(KnowledgeError):
    pass


class NotFoundError(KnowledgeError):
    pass
