# syntax=docker/dockerfile:1
# medappt: the API (`serve`), the worker (`worker`) and `migrate`, from one image.
# docs/deployment.md says how to run them; tests/test_packaging.py builds the wheel
# this installs and checks that the stages below copy every package of it.

# Build: a virtualenv holding the project's wheel and its dependencies.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/medappt
COPY pyproject.toml README.md ./
COPY medappt medappt
COPY schema schema
COPY resolvers resolvers
COPY loaders loaders
COPY domain domain
COPY services services
COPY db db
COPY workers workers
COPY devtools devtools
RUN /opt/medappt/bin/pip install . \
    && /opt/medappt/bin/pip uninstall --yes pip setuptools

# Run: the virtualenv alone, no compiler, no pip, as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin medappt
COPY --from=build /opt/medappt /opt/medappt
ENV PATH=/opt/medappt/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDAPPT_ENV=prod \
    MEDAPPT_DATA_DIR=/tmp/medappt
USER medappt
WORKDIR /tmp
EXPOSE 8000 9100
ENTRYPOINT ["medappt"]
CMD ["serve", "--workers", "2"]
