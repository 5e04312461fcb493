# MiniStack as a container, with the harness's patches, for compose.yaml and containerized tests.
# No MiniStack image can be pulled on the project's machines, so it is built from the pinned pip
# package on any Python 3.11+ base (BASE_IMAGE; the Debian stand-in base works too).
#   docker build -f localstack/ministack.Dockerfile -t order-platform/ministack:1.5.33 .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
WORKDIR /opt/harness
COPY localstack/emulator-requirements.txt pyproject.toml ./
COPY harness/ harness/
RUN --mount=type=secret,id=ca,required=false \
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 -m pip install --no-cache-dir --disable-pip-version-check --break-system-packages \
        --require-hashes -r emulator-requirements.txt
ENV PYTHONPATH=/opt/harness
HEALTHCHECK --interval=2s --timeout=2s --retries=15 \
    CMD python3 -c "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:'+os.environ.get('GATEWAY_PORT','4566')+'/_ministack/health')"
CMD ["python3", "-m", "harness.emulator.run.server"]
