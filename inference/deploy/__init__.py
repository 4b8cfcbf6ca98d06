"""Endpoint deployment: A/B production variants on SageMaker or on the local endpoint.

`plan` (what a deployment asks for, validated once), `target` (AWS or the local endpoint, and what each can do),
`endpoints` (models, configs, endpoints, weights, promotion, rollback), `shifts` (stepwise shifts with guards),
`scaling` (autoscaling and guardrail alarms), `packages` (model packages and their S3 upload), `traffic`
(per-variant traffic from CloudWatch or the local endpoint), `report` (the A/B report and its verdict), `shadow`
(shadow tests: inference experiments, their report and verdict).
"""
