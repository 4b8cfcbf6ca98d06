# Serving image for the intent classifier: the SageMaker container contract on onnxruntime, CPU only.
#
#   docker build -t intent-serve .
#   docker run --rm -p 8080:8080 -v "$PWD/model:/opt/ml/model:ro" intent-serve serve
#
# The image offers one command, `serve` (the same flags as `mlops serve`; `docker run IMAGE serve --help`).
# SageMaker runs `docker run IMAGE serve` with the model unpacked at /opt/ml/model and may set
# SAGEMAKER_BIND_TO_PORT; every other setting is a flag or an INTENT_SERVE_* variable.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false \
    PYTHONPATH=/opt/program

# Serving dependencies only (onnxruntime, tokenizers, starlette, uvicorn, httptools, prometheus-client, numpy): no torch,
# no transformers; at the versions and hashes of their lock (`make lock` refreshes it from requirements.txt).
# Installed before the code so that this layer survives code changes.
COPY inference/serving/requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock && rm /tmp/requirements.lock
# `serve` execs Python, so the server is PID 1 and receives SIGTERM for its graceful shutdown.
RUN printf '#!/bin/sh\nexec python -m inference.serving.container "$@"\n' > /usr/local/bin/serve \
    && chmod 0755 /usr/local/bin/serve

# The serving code and the core it reads a model directory with, nothing else (tests/inference/serving/test_container.py
# runs the server from exactly these files).
WORKDIR /opt/program
COPY ml/__init__.py ml/errors.py ml/mean_pooling.py ml/model.py ml/predict.py ml/taxonomy.py ml/tokenizer.py ./ml/
COPY inference/__init__.py inference/predictor.py inference/tokenization.py ./inference/
COPY inference/serving ./inference/serving

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin model
USER model

EXPOSE 8080
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true

# No ENTRYPOINT: `docker run IMAGE serve` replaces CMD with `serve`; plain `docker run IMAGE` serves too.
CMD ["serve"]
