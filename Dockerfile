# syntax=docker/dockerfile:1
# Two images from one program: `hydrator`, which the hydration Jobs run (the
# Job passes `hydrate ...` as arguments), and `function`, the same program
# with the hydrator's digest baked in as its default hydrator image. An image
# cannot carry its own digest, so the release builds and pushes the hydrator
# first, then the function with that digest:
#   docker build --target hydrator -t ghcr.io/function-model-cache/function-model-cache:vX.Y.Z-hydrator . && docker push ...
#   docker build --target function --build-arg HYDRATOR_IMAGE=ghcr.io/function-model-cache/function-model-cache@sha256:<digest> \
#     -t ghcr.io/function-model-cache/function-model-cache:vX.Y.Z .
# Node 24 runs the TypeScript sources directly (type stripping), so the deps
# stage only installs production dependencies. The hydrator's own commands
# (hydrate, verify) run from a JavaScript bundle of functions/hydrator/main.ts
# built by the bundle stage (`npm run build:hydrator`, esbuild): the Job's
# process then strips no TypeScript and loads no server code, 18 MiB less peak
# RSS (docs/benchmarks.md, "Hydrator: peak RSS under 160 MiB").

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS bundle
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY functions ./functions
RUN npm run build:hydrator

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS hydrator
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY functions ./functions
COPY proto ./proto
COPY --from=bundle /app/dist/hydrator ./dist/hydrator
ENV FMC_HYDRATOR_BUNDLE=/app/dist/hydrator/main.js
# distroless's nonroot user; the hydration Job runs as the same uid.
USER 65532:65532
EXPOSE 9443
# Crossplane starts the function with no arguments (serve); `crossplane render`
# passes `--insecure`, which also means serve.
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/function-model-cache.js"]
CMD ["serve"]

# The function: the hydrator image plus the digest its Jobs run by default
# (functions/version.ts). The build fails without a digest: a function whose
# Jobs run a tag that can move is not a release.
FROM hydrator AS function
ARG HYDRATOR_IMAGE
RUN ["/nodejs/bin/node", "-e", "const i = process.env.HYDRATOR_IMAGE ?? ''; if (!/^[^@\\s]+@sha256:[0-9a-f]{64}$/.test(i)) { console.error('--build-arg HYDRATOR_IMAGE=<repository>@sha256:<digest> is required, got ' + JSON.stringify(i)); process.exit(1); }"]
ENV FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE=${HYDRATOR_IMAGE}
# glibc's malloc for the server (not the hydrator's Jobs, which run the stage
# above): HTTP/2 hands a request over in chunks of 16 KiB, which glibc would
# carve from one heap that cannot shrink past the last block still in use, so
# a burst of large requests left that heap at 700-950 MiB for good. From 16 KiB
# up each allocation is its own mapping, returned when freed, and two arenas
# instead of one per thread. Measured: a burst of 30 x 50 MiB peaked at 0.96
# GiB instead of 2.2, and 15 s later the process was back at its idle size
# (docs/benchmarks.md, "The service under load"; bench/service/run.ts reads
# these lines to run the server as the image does).
ENV MALLOC_ARENA_MAX=2
ENV MALLOC_MMAP_THRESHOLD_=16384
