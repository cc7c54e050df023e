"""The read models' adapter: their tables, kept in the append transaction, queried, rebuilt.

The rules stay in the pure modules beside this package (`selection`,
`effect_changes`, the reducers); this package only stores and fetches what
they select. It never writes the events table.
"""
