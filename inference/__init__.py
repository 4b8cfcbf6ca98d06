"""ONNX predictor, SageMaker-contract HTTP server, local A/B endpoint, SageMaker deployer and client."""
