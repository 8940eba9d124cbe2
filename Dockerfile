# The Lambda image: AWS's Python base (its entrypoint starts awslambdaric), the pinned requirements, then the code.
# Build and push: see "## Deploy" in README.md. Dockerfile.local is the same image for `docker run`.
FROM public.ecr.aws/lambda/python:3.13

# Requirements before the code, so that a code change does not reinstall them.
COPY requirements.txt "${LAMBDA_TASK_ROOT}/"
RUN pip install --no-cache-dir --requirement "${LAMBDA_TASK_ROOT}/requirements.txt" --target "${LAMBDA_TASK_ROOT}"

COPY app/ "${LAMBDA_TASK_ROOT}/app/"
# Lambda's filesystem is read-only outside /tmp: compile the bytecode now, once.
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}/app"

CMD ["app.lambda_handler.handler"]
