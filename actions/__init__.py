"""Custom actions of the assistant, one module per conversation topic.

rasa-sdk registers every action found in every module of this package.
"""
