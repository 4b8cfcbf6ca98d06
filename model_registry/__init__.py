"""MLflow registration with lineage, aliases, promotion gates, rollback and audit trail."""
