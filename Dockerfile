# Serving image for the intent classifier: the SageMaker container contract on onnxruntime, CPU only.
#
#   docker build -t intent-serve .
#   docker run --rm -p 8080:8080 -v "$PWD/model:/opt/ml/model:ro" intent-serve serve
#
# SageMaker runs `docker run IMAGE serve` with the model unpacked at /opt/ml/model and may set
# SAGEMAKER_BIND_TO_PORT; every other setting is an INTENT_SERVE_* variable (`docker run IMAGE serve --help`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOKENIZERS_PARALLELISM=false

# Serving dependencies only (onnxruntime, tokenizers, starlette, uvicorn, httptools, prometheus-client, numpy): no torch,
# no transformers. Installed before the code so that this layer survives code changes.
COPY inference/requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

WORKDIR /opt/program
COPY pyproject.toml README.md ./
COPY ml ./ml
COPY inference ./inference
# --no-deps: pyproject's dependency list is the training toolkit's (torch, mlflow, sagemaker, ...). Installing
# the project is what creates the `serve` console script (inference.container:main).
RUN pip install --no-deps . && rm -rf build ./*.egg-info

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin model
USER model

EXPOSE 8080
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true

# No ENTRYPOINT: `docker run IMAGE serve` replaces CMD with `serve`, the console script; plain `docker run IMAGE`
# serves too. Exec form, so the server is PID 1 and receives SIGTERM for its graceful shutdown.
CMD ["serve"]
