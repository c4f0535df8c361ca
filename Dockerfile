# syntax=docker/dockerfile:1
#
# The countersign image: `countersign serve` by default, any other command as the
# container's arguments (`docker run IMAGE migrate`, `… admission --cluster …`).
#
#   docker build -t countersign .
#   docker run --rm countersign token new
#
# Four stages, so that the runtime image holds neither the compiler toolchain nor the
# devDependencies nor the TypeScript sources.

# 1. Every dependency. better-sqlite3 compiles its native addon when no prebuilt binary
#    fits (or none can be downloaded), so the toolchain is here, and only here.
FROM node:20-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. The compiled server and CLI (dist/).
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build also bundles the GitHub Action from the client SDK (checked against dist/ in git).
COPY scripts ./scripts
COPY integrations ./integrations
RUN npm run build

# 3. Production dependencies only, built with the same toolchain and Node as stage 1.
FROM deps AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund

# 4. The runtime: a fixed numeric non-root user, so that Kubernetes' runAsNonRoot can
#    check it without a runAsUser.
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 countersign \
  && useradd --system --uid 10001 --gid countersign --no-create-home \
     --home-dir /nonexistent --shell /usr/sbin/nologin countersign \
  && mkdir /data \
  && chown countersign:countersign /data
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 10001:10001
# SQLite deployments keep their database here; PostgreSQL ones keep nothing.
VOLUME /data
EXPOSE 8470
# Readiness rather than liveness: /readyz fails while the database is unreachable or the
# log stalls, which is when a node should leave rotation. Slim images have no curl, so
# node's own fetch asks (the port follows COUNTERSIGN_PORT, as serve does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.COUNTERSIGN_PORT||8470)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--data", "/data", "--config", "/etc/countersign/countersign.yaml"]
