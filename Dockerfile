# The image of the GitHub action, also usable on its own: `docker run IMAGE --help`.
# BASE_IMAGE can be swapped for any Debian-like image with python3 and its venv module;
# the tests build on a local Debian base because no registry is reachable there.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY . /src
# pip and setuptools are only needed to install; the final venv leaves them out.
RUN python3 -m venv /opt/xltv \
    && /opt/xltv/bin/pip install --no-cache-dir /src \
    && /opt/xltv/bin/pip uninstall --yes --quiet pip setuptools \
    && rm -rf /opt/xltv/share /opt/xltv/bin/activate*

FROM ${BASE_IMAGE}
# `xltv` on the PATH for GitLab jobs, which run `xltv upload` from a shell. The whole value
# is spelled out because an imported base image may set no PATH to extend.
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/xltv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY --from=build /opt/xltv /opt/xltv
COPY entrypoint.py /usr/local/lib/xltv/entrypoint.py
# GitHub runs Docker actions as root with --workdir /github/workspace, so the image sets
# neither USER nor WORKDIR. The exec form keeps hyphenated INPUT_ variables, which a
# shell would drop.
ENTRYPOINT ["/opt/xltv/bin/python", "/usr/local/lib/xltv/entrypoint.py"]
