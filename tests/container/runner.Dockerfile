# Job image for the act workflow test: the local Debian base plus a venv with pytest, so a
# workflow step can run a real test suite and write JUnit XML without network access.
ARG BASE_IMAGE=python:3.12-slim-bookworm
FROM ${BASE_IMAGE}
RUN python3 -m venv /opt/tools \
    && /opt/tools/bin/pip install --no-cache-dir --disable-pip-version-check pytest==8.3.4
ENV PATH=/opt/tools/bin:$PATH
