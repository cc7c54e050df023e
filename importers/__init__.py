"""Dataset importers: rows of the datasets analysts already use (UCDP GED; ACLED to come)
mapped to the catalog's envelopes. Pure: no database, no HTTP; `service/dataset_import.py`
appends what they map. The mappings are documented field by field in docs/importers.md."""
