"""Step entry points following the SageMaker script contract, so one file runs in a container and locally."""
