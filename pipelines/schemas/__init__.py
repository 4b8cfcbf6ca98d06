"""JSON schemas shipped as package data.

`sagemaker-pipeline-definition.schema.json`: the SageMaker Pipeline definition schema AWS published
(aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema, commit b4012b0, April 2025),
copied verbatim. It predates SDK v3, so `pipelines.definition_check` uses it for the top level only.
"""
