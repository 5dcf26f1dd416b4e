# The helper image gitlab-ci-local starts to copy files in and out of a job's volume. Its
# copy commands run under bash and call rsync. The emulator's own helper image is on a
# registry that this machine cannot reach, so the tests build this one on a local base.
ARG BASE_IMAGE=local/debian-python:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync \
    && rm -rf /var/lib/apt/lists/*
