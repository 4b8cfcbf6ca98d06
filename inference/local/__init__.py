"""The local A/B endpoint: a stand-in for a SageMaker real-time endpoint with production variants, speaking the
SageMaker control-plane API and InvokeEndpoint so that boto3 works against it unchanged.

`app` (the HTTP endpoint), `control_plane` (the operations), `models` (loaded variant models), `records` (configs,
endpoints, variant sets), `traffic` (per-variant samples), `shadow` (inference experiments and their mirrored
traffic), `api` (ARNs, errors, request members).
"""
