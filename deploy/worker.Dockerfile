# A docpipe worker: the project and its pinned dependencies (spaCy models included).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY flows flows
COPY tasks tasks
COPY schemas schemas
COPY deploy deploy
RUN pip install --no-cache-dir --constraint requirements.lock .
