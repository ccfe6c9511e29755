"""The contract users read (``docs/contract.md``): wire schemas, validation of a day and of its
sheets, and the plan written back. Everything that crosses the boundary as JSON, CSV or Excel
is checked or shaped here, once."""
