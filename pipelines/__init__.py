"""The pipeline spec, its step entry points, the SageMaker Pipeline builder and the local runner."""
