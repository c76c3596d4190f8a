# syntax=docker/dockerfile:1
# Same steps as the README's commands: install requirements.txt, prepare the
# embedding model, collect static files. Web: Gunicorn with Uvicorn workers
# (WEB_CONCURRENCY of them; more in gunicorn.conf.py). Worker: `manage.py
# db_worker`. See docker-compose.yml.
#
# Alone, the image runs one web worker on the local-memory cache. With
# REDIS_URL set, raise WEB_CONCURRENCY (one per core): Gunicorn refuses to
# start several workers without a shared cache (chatbot.E002). Behind a reverse
# proxy, set FORWARDED_ALLOW_IPS to its address or network, so that per-IP
# limits count visitors, not the proxy.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU build of PyTorch first, so that nothing pulls the CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements.txt constraints.txt /app/
RUN pip install -r /app/requirements.txt -c /app/constraints.txt
COPY . /app
WORKDIR /app
ENV DJANGO_SETTINGS_MODULE=chatbot.settings DATA_DIR=/app/var HF_HUB_OFFLINE=1 DOTENV=0
RUN python manage.py prepare_models \
 && python manage.py collectstatic --noinput

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DOTENV=0 \
    DJANGO_SETTINGS_MODULE=chatbot.settings DJANGO_DEBUG=0 DATA_DIR=/app/var \
    LOG_FORMAT=json WEB_CONCURRENCY=1 REDIS_URL= FORWARDED_ALLOW_IPS=127.0.0.1,::1
RUN useradd --create-home --uid 10001 app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=app:app /app /app
WORKDIR /app
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "chatbot.asgi:application", "-k", "core.uvicorn_worker.UvicornWorker", "--bind", "0.0.0.0:8000"]
