"""The SageMaker-contract model server: all that the serving image holds, besides the core (`inference.predictor`,
`inference.tokenization` and the `ml` modules they read a model directory with).

`config` (typed settings), `payload` (request validation), `batching`, `metrics` (Prometheus), `logs`, `asgi` (the
HTTP stack shared with the local A/B endpoint), `server` (the app), `container` (the `serve` command).
"""
