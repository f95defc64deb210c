"""What one task does with the API's answers: inputs checked, chunks fetched, rows validated
and staged, a summary kept, and which failures a retry can change."""
