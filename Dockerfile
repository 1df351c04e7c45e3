# One image for web (manage.py nsmap_serve: Daphne with nsmap's limits), worker (celery) and agent (python -m agent run); see docker-compose.yml.
FROM python:3.11-slim

# iproute2: `ip netns`; iputils-ping: the ping verb (agent/actions.py); no compilers needed (all wheels are binary).
RUN apt-get update \
    && apt-get install -y --no-install-recommends iproute2 iputils-ping \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

EXPOSE 8000
CMD ["python", "manage.py", "nsmap_serve", "--host", "0.0.0.0", "--port", "8000"]
