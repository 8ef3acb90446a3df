# syntax=docker/dockerfile:1
# One image for the function and the hydrator its Jobs run (the Job overrides
# the arguments: `hydrate ...`). Node 24 runs the TypeScript sources directly
# (type stripping), so the build stage only installs production dependencies.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY functions ./functions
COPY proto ./proto
# distroless's nonroot user; the hydration Job runs as the same uid.
USER 65532:65532
EXPOSE 9443
# Crossplane starts the function with no arguments (serve); `crossplane render`
# passes `--insecure`, which also means serve.
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/function-model-cache.js"]
CMD ["serve"]
