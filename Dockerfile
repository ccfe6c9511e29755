# fieldroute's image: the service (`fieldroute serve`) and the solve workers (`fieldroute worker`)
# of deploy/compose.yaml; docs/deploy.md, "Image".
#   docker build -t fieldroute:latest .
# Bookworm: the seeders' wheels (pyvroom) need glibc 2.34 or newer.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# fieldroute and its runtime dependencies (pyproject.toml's bounds), installed like
# scripts/setup.sh does but without the venv or the dev tools; every dependency is a wheel.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY dispatch ./dispatch
COPY maps ./maps
COPY solver ./solver
RUN pip install . && rm -rf /src

# Not root. Its home holds fieldroute's cache (OSRM's tools, prepared roads) if it is asked
# for one; the store is PostgreSQL (FIELDROUTE_DATABASE_URL), never a file in the image.
RUN useradd --system --create-home --home-dir /var/lib/fieldroute fieldroute
USER fieldroute
WORKDIR /var/lib/fieldroute

EXPOSE 8000
CMD ["fieldroute", "serve", "--host", "0.0.0.0", "--port", "8000"]
