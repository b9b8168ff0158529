# One image for the plantrack services; compose picks the app with `command`.
# Stage 1 builds the wheel; stage 2 installs it (dependencies pinned by requirements.lock) into
# site-packages, so the services run the installed package, never a source tree on sys.path.
FROM python:3.11.13-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY shared ./shared
COPY services ./services
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip wheel --wheel-dir /wheels --constraint requirements.lock /wheels/plantrack-*.whl

FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLANTRACK_DATA_DIR=/var/lib/plantrack

# a serif font with Vietnamese letters, for the PDF export's own renderer (LibreOffice, which
# converts the DOCX more faithfully, is left out of the image: it would triple its size)
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-liberation2 \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /wheels /tmp/wheels
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-index --find-links /tmp/wheels --constraint /tmp/requirements.lock plantrack \
 && rm -rf /tmp/wheels /tmp/requirements.lock \
 && useradd --system --uid 10001 --home-dir /var/lib/plantrack --create-home plantrack \
 && chmod 0750 /var/lib/plantrack

USER plantrack
# not /app and not the source: the working directory holds only this service's data (SQLite
# files when no database URL is given, the data-directory lock)
WORKDIR /var/lib/plantrack

EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=12 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2).status != 200)"
CMD ["uvicorn", "--factory", "services.assignments.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-graceful-shutdown", "30"]
