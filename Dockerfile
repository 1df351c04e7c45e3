# One image for web (daphne), worker (celery) and agent (python -m agent run); see docker-compose.yml.
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
# Daphne's 1 MiB WebSocket limit also caps what it sends; the first message is the whole graph.
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--websocket-max-message-size", "67108864", \
     "--websocket-max-frame-size", "67108864", "webui.asgi:application"]
